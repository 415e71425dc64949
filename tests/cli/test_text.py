"""Text is text everywhere (issue 10): names, titles, keys and file names holding terminal escape
sequences, bidi overrides or markup reach the terminal and the Markdown reports escaped.

The categories a person never sees as themselves are written down here again, independently of
alloc.text: control (Cc), format (Cf), surrogate (Cs), line and paragraph separator (Zl, Zp).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alloc.cli import _Parser, main, say
from alloc.errors import InputError, Problem
from alloc.text import markdown_text, printable

HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}
MARKUP = "\\`*_[]|#<>~&$"

# ESC sequences (clear the screen, set the window title), BEL, CR, backspace, DEL, a C1 control,
# bidi override and isolate, zero-width space, a table's pipe and markup.
EVIL = ("\x1b[2J\x1b]0;pwned\x07 |\r\bx\x7f\x9b1m \u202egnp.exe\u202c \u2066iso\u2069 \u200b"
        "<script>alert(1)</script> [x](javascript:alert(1)) *b* _i_ `c` &#x202e; $m$")
TOML_EVIL = "".join(f"\\u{ord(c):04x}" if not c.isprintable() or c in '"\\' else c for c in EVIL)
SCENARIO = "evil-child"  # a child of the hostile scenario (file names with control characters are refused)


def hidden(text: str, allow: str = "\n") -> list[str]:
    """The characters of `text` that would act on the reader instead of showing."""
    return [c for c in text if c not in allow and unicodedata.category(c) in HIDDEN]


def assert_clean(text: str) -> None:
    assert not hidden(text), (sorted(set(hidden(text))), text)


# --- the functions ----------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b[2J", "\\x1b[2J"), ("a\x07b", "a\\x07b"), ("\r", "\\x0d"), ("\b", "\\x08"),
    ("\t", "\\x09"), ("\x7f", "\\x7f"), ("\x9b", "\\x9b"), ("\x85", "\\x85"), ("\x00", "\\x00"),
    ("a\u202eb", "a\\u202eb"), ("\u202a\u202b\u202c\u202d", "\\u202a\\u202b\\u202c\\u202d"),
    ("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"),
    ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),
    ("\u200b\u200c\u200d\u2060\ufeff", "\\u200b\\u200c\\u200d\\u2060\\ufeff"), ("\u2028", "\\u2028"),
    ("\xad", "\\xad"), ("\U000e0041", "\\U000e0041"), ("\udcff", "\\udcff"), ("a\nb", "a\\x0ab"),
])
def test_printable_shows_hidden_characters_escaped(raw: str, shown: str) -> None:
    assert printable(raw) == shown


@pytest.mark.parametrize("text", [
    "Digital applications", "Télécommunications, développement", "Развитие электросвязи",
    "電氣通信", "الاتصالات", "दूरसंचार", "CHF 1,234.5 thousands (−3.2%)", "a\u00a0b", "a\\b",
    "models/itu-2024-2027/rules.toml: committed.pp26", "'x' <- [y] | z & #w",
])
def test_printable_keeps_ordinary_text(text: str) -> None:
    assert printable(text) is text or printable(text) == text


def test_printable_keeps_the_callers_newlines_only_when_asked() -> None:
    assert printable("a\nb\x1b", keep_newlines=True) == "a\nb\\x1b"
    assert printable("a\nb") == "a\\x0ab"


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_printable_output_has_no_hidden_character(text: str) -> None:
    shown = printable(text)
    assert not hidden(shown, allow="")
    assert printable(shown) == shown  # idempotent: escaping twice reads the same
    assert not hidden(printable(text, keep_newlines=True))
    if not hidden(text, allow=""):
        assert shown == text


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_printable_leaves_visible_text_byte_identical(text: str) -> None:
    assert printable(text) == text


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\\"), max_size=8),
       st.text(alphabet=st.characters(blacklist_characters="\\"), max_size=8))
def test_distinct_names_stay_distinct(a: str, b: str) -> None:
    """Injective on text without backslashes (a typed-out `\\x1b` reads like ESC: documented)."""
    if a != b:
        assert printable(a) != printable(b)


def _bare(line: str) -> str:
    """A Markdown line with its backslash escapes taken out."""
    return re.sub(r"\\.", "", line)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_markdown_text_is_one_line_of_plain_text(text: str) -> None:
    md = markdown_text(text)
    assert not hidden(md, allow="")
    assert not set(_bare(md)) & set(MARKUP), md
    assert not re.match(r"[-+]( |$)|-[- ]*$|\d+[.)]( |$)", md), md


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\\ \t\n"), max_size=8),
       st.text(alphabet=st.characters(blacklist_characters="\\ \t\n"), max_size=8))
def test_markdown_text_keeps_distinct_names_distinct(a: str, b: str) -> None:
    if a != b:
        assert markdown_text(a) != markdown_text(b)


def test_markdown_text_examples() -> None:
    assert markdown_text("Digital applications") == "Digital applications"
    assert markdown_text(2024) == "2024"
    assert markdown_text("  a \n\t b ") == "a b"
    assert markdown_text("<script>alert(1)</script>") == "\\<script\\>alert(1)\\</script\\>"
    assert markdown_text("[x](javascript:alert(1))") == "\\[x\\](javascript:alert(1))"
    assert markdown_text("a|b") == "a\\|b"
    assert markdown_text("&#x202e;") == "\\&\\#x202e;"
    assert markdown_text("\x1b[2J") == "\\\\x1b\\[2J"
    assert markdown_text("- item") == "\\- item" and markdown_text("-5") == "-5"
    assert markdown_text("1. item") == "1\\. item" and markdown_text("1.1") == "1.1"
    assert markdown_text("=1+1") == "=1+1"


def test_a_problem_is_one_escaped_line_and_an_input_error_one_line_per_problem() -> None:
    problems = [Problem("scenarios/\x1b[2J.toml", "key\u202e", "bad\nvalue \x07"),
                Problem("models/x/rules.toml", "", "second")]
    assert str(problems[0]) == "scenarios/\\x1b[2J.toml: key\\u202e: bad\\x0avalue \\x07"
    text = str(InputError(problems))
    assert_clean(text)
    assert text.count("\n") == 2


def test_say_prints_each_argument_as_one_escaped_line(capsys: pytest.CaptureFixture[str]) -> None:
    say("a\x1b[2J\nb", "c\u202e")
    say()
    assert capsys.readouterr().out == "a\\x1b[2J\\x0ab\nc\\u202e\n"


def test_argparse_messages_are_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(text: str) -> str:
        raise argparse.ArgumentTypeError(f"not a number: {text}")

    parser = _Parser(prog="alloc")
    parser.add_argument("--n", type=refuse)
    with pytest.raises(SystemExit):
        parser.parse_args(["--n", "\x1b]0;pwned\x07"])
    err = capsys.readouterr().err
    assert_clean(err)
    assert "\\x1b]0;pwned\\x07" in err


# --- every command, with a hostile model ------------------------------------------------------

@pytest.fixture
def hostile(project: Path) -> Path:
    """The tiny model with hostile names, titles, a hostile file name and a hostile bad key."""
    s = project / "scenarios"
    (s / "evil.toml").write_text(
        f'[scenario]\nparent = "tiny"\ntitle = "{TOML_EVIL}"\n'
        f'[framework.entities.A]\nname = "A {TOML_EVIL}"\n'
        f'[framework.priorities.P1]\nname = "P1 {TOML_EVIL}"\n'
        f'[framework.priorities.P2]\nname = "P2 \\u202eevil\\u202c \\u2066iso\\u2069 | x"\n'
        f'[framework.outputs.O]\nname = "O {TOML_EVIL}"\n'
        f'[financial_plan.funds.F]\nname = "F {TOML_EVIL}"\n'
        f'[rules.committed.b_floor]\nname = "B {TOML_EVIL}"\n', encoding="utf-8")
    (s / f"{SCENARIO}.toml").write_text('[scenario]\nparent = "evil"\n', encoding="utf-8")
    (s / "evil-infeasible.toml").write_text(
        '[scenario]\nparent = "evil"\n[rules.committed.b_floor]\namount = { 2024 = 500 }\n',
        encoding="utf-8")
    (s / "evil-bad.toml").write_text(
        f'[scenario]\nparent = "evil"\n[rules.envelopes.A]\n"max{TOML_EVIL}" = 0.5\n',
        encoding="utf-8")
    return project


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert_clean(out)
    assert_clean(err)
    return code, out, err


def _pipes(line: str) -> int:
    return sum(token == "|" for token in re.findall(r"\\.|\|", line))


def assert_markdown_safe(path: Path) -> None:
    """No hidden character but newlines, no raw markup, and every row of a table as wide as its
    header."""
    text = path.read_text(encoding="utf-8")
    assert_clean(text)
    for line in text.splitlines():  # our own markup: headings, bold, table pipes
        assert not set(_bare(line.lstrip("#"))) & set("<>[]`&$~#\\"), line
    width = None
    for line in text.splitlines():
        if not line.startswith("|"):
            width = None
            continue
        if width is None:
            width = _pipes(line)
        assert _pipes(line) == width, (path.name, line)


def assert_workbook_valid(path: Path) -> None:
    """The XML holds no character XML 1.0 forbids, and the workbook opens."""
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", z.read(name)), (path, name)
    openpyxl.load_workbook(path)


def test_run_check_and_explain_show_hostile_names_escaped(
        hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = str(hostile)
    code, out, err = _run(capsys, "run", SCENARIO, "--project", p)
    assert code == 0, err
    assert "alloc run evil-child: optimal" in out and "scenario chain evil-child <- evil" in out
    folder = hostile / "reports" / SCENARIO
    assert_markdown_safe(folder / "appendix-a.md")
    assert_workbook_valid(folder / "appendix-a.xlsx")
    md = (folder / "appendix-a.md").read_text(encoding="utf-8")
    assert "\\\\x1b\\[2J" in md and "\\\\u202egnp.exe" in md

    code, out, err = _run(capsys, "check", SCENARIO, "--project", p)
    assert code == 0, err
    assert out.startswith("evil-child: valid")

    code, out, err = _run(capsys, "explain", "evil", "--cell", "A/P1/O", "--project", p)
    assert code == 0, err
    assert "\\x1b]0;pwned\\x07" in out  # the fund's name in the binding rules
    assert "cell A/P1/O:" in out
    assert_markdown_safe(hostile / "reports" / "evil" / "appendix-a.md")
    assert_workbook_valid(hostile / "reports" / "evil" / "appendix-a.xlsx")


def test_the_diagnosis_of_an_infeasible_scenario_shows_names_escaped(
        hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("run", "explain"):
        code, out, err = _run(capsys, command, "evil-infeasible", "--project", str(hostile))
        assert code == 1, err
        assert "no allocation keeps every rule" in out
        assert "B \\x1b[2J\\x1b]0;pwned\\x07" in out  # the committed cost's name


def test_bad_input_of_every_command_is_shown_escaped(
        hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = str(hostile)
    for args in (["run", "evil-bad"], ["check", "evil-bad"], ["explain", "evil-bad"],
                 ["sweep", "evil-bad", "--ceiling", "1"], ["compare", "tiny", "evil-bad"]):
        code, _, err = _run(capsys, *args, "--project", p)
        assert code == 2, (args, err)
        assert "max\\x1b[2J\\x1b]0;pwned\\x07" in err, args
        assert err.count("\n") == 2, err  # the heading and the one problem
    for args in (["run", "no\x1b[2Jpe"], ["explain", "evil", "--cell", "A/P1/\x1b[2J\u202e"],
                 ["sweep", "evil", "--receipt-rate", "F\x1b]0;x\x07=0.5"],
                 ["sweep", "evil", "--set", "ke\x1b[2Jy=1"],
                 ["compare", "tiny", "no\u202epe"]):
        code, _, err = _run(capsys, *args, "--project", p)
        assert code == 2, (args, err)
        assert "\\x1b" in err or "\\u202e" in err, err


def test_compare_shows_names_escaped_and_writes_safe_markdown(
        hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = str(hostile)
    code, out, err = _run(capsys, "compare", "tiny", SCENARIO, "--project", p)
    assert code == 0, err
    assert "alloc compare tiny vs evil-child" in out
    folder = next((hostile / "reports" / "compare").glob("tiny-vs-*"))
    assert_markdown_safe(folder / "comparison.md")
    assert_workbook_valid(folder / "comparison.xlsx")
    code, _, err = _run(capsys, "compare", "tiny", "evil-infeasible", "--project", p)
    assert code == 1
    assert "evil-infeasible is infeasible" in err


def test_sweep_shows_names_escaped(hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "sweep", SCENARIO, "--ceiling", "0.9,1.0", "--project", str(hostile))
    assert code == 0, err
    assert out.startswith("alloc sweep evil-child: 2 variants (2 optimal)")
    assert_workbook_valid(hostile / "reports" / SCENARIO / "sweep" / "sweep.xlsx")


def test_a_real_terminal_session_sees_no_raw_control_character(hostile: Path) -> None:
    """Through `python -m alloc`, as a user runs it, including a file name that is not UTF-8."""
    for args, expected in (([SCENARIO], 0), (["evil-infeasible"], 1), (["evil-bad"], 2),
                           ([b"s\xff\x1b[2J".decode("utf-8", "surrogateescape")], 2)):
        result = subprocess.run([sys.executable, "-m", "alloc", "run", *args, "--project",
                                 str(hostile)], capture_output=True, timeout=300)
        assert result.returncode == expected, result.stderr
        for stream in (result.stdout, result.stderr):
            text = stream.decode("utf-8")  # strict: valid UTF-8, no lone surrogates
            assert_clean(text)
            assert "Traceback" not in text


def test_a_file_name_that_is_not_utf8_is_refused_with_a_message(
        hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = b"s\xff".decode("utf-8", "surrogateescape")
    (hostile / "scenarios" / f"{name}.toml").write_text('[scenario]\nparent = "tiny"\n')
    code, _, err = _run(capsys, "run", name, "--project", str(hostile))
    assert code == 2
    assert "scenarios/s\\udcff.toml: file name: the scenario's name" in err
    assert_clean(err)


def test_a_file_name_with_an_escape_sequence_is_refused_and_shown_escaped(
        hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = "e\x1b[2J\u202ev"
    (hostile / "scenarios" / f"{name}.toml").write_text('[scenario]\nparent = "tiny"\n')
    code, out, err = _run(capsys, "run", name, "--project", str(hostile))
    assert code == 2
    assert "scenarios/e\\x1b[2J\\u202ev.toml: file name" in err
    assert_clean(out + err)
