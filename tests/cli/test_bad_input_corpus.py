"""The bad-input corpus (tests/bad_inputs/): every case exits 2 with its message and writes nothing."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from alloc.cli import main

CORPUS = Path(__file__).parents[1] / "bad_inputs"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
NOT_LAID_OVER = ("expected.txt", "command.txt")


def lay_over(case: Path, project: Path) -> None:
    for file in case.rglob("*"):
        if file.is_file() and file.relative_to(case).as_posix() not in NOT_LAID_OVER:
            target = project / file.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, target)


def scenario_argument(case: Path, project: Path) -> str:
    """The SCENARIO argument of the case (`case` unless command.txt says otherwise).

    command.txt holds the argument as typed, with \\uXXXX for a character that cannot be typed
    (ESC, a bidi override); the case's scenarios/case.toml is then moved to the file the argument
    names, so that names no checkout could hold (con.toml, a name with ESC) are made at test time.
    """
    command = case / "command.txt"
    if not command.exists():
        return "case"
    text = command.read_text(encoding="utf-8").rstrip("\n")
    argument = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text)
    target = project / (argument if argument.endswith(".toml") else f"scenarios/{argument}.toml")
    (project / "scenarios" / "case.toml").rename(target)
    return argument


def snapshot(project: Path) -> dict[str, str]:
    """Every file of the project but reports/: path -> sha256."""
    return {p.relative_to(project).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(project.rglob("*"))
            if p.is_file() and p.relative_to(project).parts[0] != "reports"}


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize("name", CASES)
def test_bad_input_exits_2_with_its_message(name: str, project: Path, capsys,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    lay_over(CORPUS / name, project)
    argument = scenario_argument(CORPUS / name, project)
    before = snapshot(project)
    monkeypatch.chdir(project)  # a scenario given by its path is found from the project
    code = main(["run", argument, "--project", str(project)])
    err = capsys.readouterr().err
    assert code == 2, err
    expected = (CORPUS / name / "expected.txt").read_text(encoding="utf-8").strip()
    assert expected in err
    assert "Traceback" not in err
    assert not (project / "reports").exists()
    assert snapshot(project) == before, "a bad input changed the project's files"


def test_every_case_says_what_it_expects() -> None:
    for name in CASES:
        expected = (CORPUS / name / "expected.txt").read_text(encoding="utf-8").strip()
        assert ": " in expected and "\n" not in expected, name


def test_a_file_of_several_megabytes(project: Path, capsys) -> None:
    filler = "".join(f"# line {i} of a long comment pasted by mistake\n" for i in range(120_000))
    (project / "scenarios" / "case.toml").write_text(
        '[scenario]\nparent = "tiny"\n' + filler + '[rules.envelopes.A]\nmax_shar = 0.5\n')
    assert (project / "scenarios" / "case.toml").stat().st_size > 5_000_000
    assert main(["run", "case", "--project", str(project)]) == 2
    err = capsys.readouterr().err
    assert "scenarios/case.toml: rules.envelopes.A.max_shar: unknown key" in err
    assert not (project / "reports").exists()
