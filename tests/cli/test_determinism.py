"""Same inputs, same bytes: across processes, and whatever the order of keys in the files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import tomli_w

MODEL = Path("models") / "itu-2024-2027"


def run(project: Path, reports: Path, scenario: str = "baseline") -> Path:
    result = subprocess.run([sys.executable, "-m", "alloc", "run", scenario, "--project",
                             str(project), "--reports", str(reports), "--quiet"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return reports / scenario


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run_record(folder: Path, *drop: str) -> dict:
    record = json.loads((folder / "run.json").read_text())
    for key in ("seconds", *drop):
        record.pop(key)
    return record


def test_two_processes_write_identical_bytes(project: Path, tmp_path: Path) -> None:
    a, b = files(run(project, tmp_path / "a")), files(run(project, tmp_path / "b"))
    assert a.keys() == b.keys()
    for name in a:
        if name != "run.json":
            assert a[name] == b[name], name
    assert run_record(tmp_path / "a" / "baseline") == run_record(tmp_path / "b" / "baseline")


def _unlined(value: object) -> object:
    """Cell text without line numbers of the input files (which reordering moves)."""
    return re.sub(r"line \d+", "line N", value) if isinstance(value, str) else value


def _reversed(value: object) -> object:
    if isinstance(value, dict):
        return {k: _reversed(v) for k, v in reversed(list(value.items()))}
    return value


def test_the_order_of_keys_in_the_files_changes_nothing(project: Path, tmp_path: Path) -> None:
    before = run(project, tmp_path / "before")
    for name in ("framework.toml", "financial-plan.toml", "rules.toml"):
        path = project / MODEL / name
        doc = tomllib.loads(path.read_text())
        if name == "financial-plan.toml":  # the biennia and years keep their meaning in any order
            doc["plan"] = dict(doc["plan"])
        path.write_text(tomli_w.dumps(_reversed(doc)))
    mandate = project / MODEL / "mandate.csv"
    header, *rows = mandate.read_text().splitlines()
    mandate.write_text("\n".join([header, *reversed(rows)]) + "\n")
    after = run(project, tmp_path / "after")
    a, b = files(before), files(after)
    assert a.keys() == b.keys()
    for name in a:
        if name == "constraints.csv":  # its `source` column cites lines of the reordered files
            frames = [pd.read_csv(folder / name).drop(columns="source") for folder in (before, after)]
            pd.testing.assert_frame_equal(*frames)
        elif name.endswith((".csv", ".md")):
            assert a[name] == b[name], name
    assert run_record(before, "inputs_sha256") == run_record(after, "inputs_sha256")
    for workbook in ("appendix-a.xlsx", "technical-annex.xlsx"):
        book_a = openpyxl.load_workbook(before / workbook)
        book_b = openpyxl.load_workbook(after / workbook)
        assert book_a.sheetnames == book_b.sheetnames
        for sheet in book_a.sheetnames:
            if sheet == "Run":  # holds the files' checksums, which differ: the files' bytes do
                continue
            values_a = [[_unlined(c.value) for c in row] for row in book_a[sheet].iter_rows()]
            values_b = [[_unlined(c.value) for c in row] for row in book_b[sheet].iter_rows()]
            assert values_a == values_b, (workbook, sheet)


@pytest.mark.parametrize("scenario", ["tiny"])
def test_identical_workbooks_for_the_tiny_model(project: Path, tmp_path: Path, scenario: str) -> None:
    a, b = run(project, tmp_path / "a", scenario), run(project, tmp_path / "b", scenario)
    for workbook in ("appendix-a.xlsx", "technical-annex.xlsx"):
        assert (a / workbook).read_bytes() == (b / workbook).read_bytes()
