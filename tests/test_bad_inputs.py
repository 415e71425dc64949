"""The bad-input corpus (tests/bad_inputs/): every case exits 2 with its message and writes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from alloc.cli import main

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def lay_over(case: Path, project: Path) -> None:
    for file in case.rglob("*"):
        if file.is_file() and file.name != "expected.txt":
            target = project / file.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, target)


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_bad_input_exits_2_with_its_message(name: str, project: Path, capsys) -> None:
    lay_over(CORPUS / name, project)
    code = main(["run", "case", "--project", str(project)])
    err = capsys.readouterr().err
    assert code == 2, err
    expected = (CORPUS / name / "expected.txt").read_text().strip()
    assert expected in err
    assert "Traceback" not in err
    assert not (project / "reports").exists()


def test_a_file_of_several_megabytes(project: Path, capsys) -> None:
    filler = "".join(f"# line {i} of a long comment pasted by mistake\n" for i in range(120_000))
    (project / "scenarios" / "case.toml").write_text(
        '[scenario]\nparent = "tiny"\n' + filler + '[rules.envelopes.A]\nmax_shar = 0.5\n')
    assert (project / "scenarios" / "case.toml").stat().st_size > 5_000_000
    assert main(["run", "case", "--project", str(project)]) == 2
    err = capsys.readouterr().err
    assert "scenarios/case.toml: rules.envelopes.A.max_shar: unknown key" in err
    assert not (project / "reports").exists()
