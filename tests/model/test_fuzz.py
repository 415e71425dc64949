"""Fuzzing: mutated model and scenario files either run or exit 2 with a message, never crash or hang."""

from __future__ import annotations

import contextlib
import io
import shutil
import signal
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alloc.cli import main

PROJECT = Path(__file__).parents[1] / "project"
FILES = ["models/tiny/framework.toml", "models/tiny/financial-plan.toml", "models/tiny/rules.toml",
         "models/tiny/mandate.csv", "models/tiny/model.toml", "scenarios/tiny.toml"]
REPLACEMENTS = ["", "-1", "1e300", "nan", "inf", '"text"', "true", "[]", "{}", "0", "999999999999",
                '"=1+1"', "\x00", "\u00e9", '"A"', '"P9"', "2031", ",", "=", "[", "]", '"', "#"]


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(FILES))
    text = (PROJECT / name).read_text()
    lines = text.splitlines(keepends=True)
    kind = draw(st.sampled_from(["delete", "duplicate", "replace", "truncate", "swap"]))
    i = draw(st.integers(0, max(len(lines) - 1, 0)))
    if kind == "delete" and lines:
        del lines[i]
    elif kind == "duplicate" and lines:
        lines.insert(i, lines[i])
    elif kind == "swap" and len(lines) > 1:
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "replace" and lines:
        line = lines[i]
        cut = draw(st.integers(0, len(line)))
        end = draw(st.integers(cut, len(line)))
        lines[i] = line[:cut] + draw(st.sampled_from(REPLACEMENTS)) + line[end:]
    elif kind == "truncate":
        return name, text[: draw(st.integers(0, len(text)))]
    return name, "".join(lines)


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutation=mutations())
def test_mutated_files_run_or_exit_2(mutation: tuple[str, str]) -> None:
    name, text = mutation
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "p"
        shutil.copytree(PROJECT, root)
        (root / name).write_text(text)
        err = io.StringIO()
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(30)
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(["run", "tiny", "--project", str(root)])
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        message = err.getvalue()
        assert code in (0, 1, 2), message
        assert "Traceback" not in message and "internal error" not in message
        if code == 2:
            assert "problem" in message
        else:
            assert (root / "reports" / "tiny" / "run.json").exists()
