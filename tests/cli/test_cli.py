"""The command as a user runs it: a real subprocess, real files, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest


def alloc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alloc", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_run_baseline_by_default_writes_the_report(project: Path) -> None:
    result = alloc("run", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "optimal" in result.stdout
    assert "Running HiGHS" not in result.stdout
    folder = project / "reports" / "baseline"
    allocation = pd.read_csv(folder / "allocation.csv")
    assert list(allocation.columns) == ["entity", "priority", "output", "year", "fund", "amount"]
    assert (allocation["amount"] > 0).all()
    run = json.loads((folder / "run.json").read_text())
    for key in ("scenario", "model", "status", "objective", "solver", "ceiling", "seconds",
                "inputs_sha256", "alloc_version"):
        assert key in run
    assert run["status"] == "optimal"
    assert set(run["ceiling"]) == {"2024", "2025", "2026", "2027"}
    assert set(run["seconds"]) >= {"load", "build", "solve_and_check", "write"}
    regular = allocation[allocation["fund"] == "regular"].groupby("year")["amount"].sum()
    for year, ceiling in run["ceiling"].items():
        assert regular[int(year)] == pytest.approx(ceiling["total"], abs=1e-3)
    assert "models/itu-2024-2027/rules.toml" in run["inputs_sha256"]
    # the terminal prints the figures the workbook publishes, rounded as they are
    import openpyxl

    printed = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] in run["ceiling"]:
            printed[parts[0]] = [int(p.replace(",", "")) for p in parts[1:5]]
    sheet = openpyxl.load_workbook(folder / "appendix-a.xlsx")["Summary"]
    published: dict[str, tuple] = {}
    for r in sheet.iter_rows(values_only=True):   # the first table (the ceiling's parts follow)
        if r and str(r[0]) in run["ceiling"] and isinstance(r[1], int):
            published.setdefault(str(r[0]), r)
    assert set(printed) == set(published) == set(run["ceiling"])
    for year, (ceiling, regular, extrabudgetary, unallocated) in printed.items():
        row = published[year]
        assert (ceiling, regular, unallocated, extrabudgetary) == tuple(row[1:5]), year


def test_same_inputs_give_byte_identical_files(project: Path, tmp_path: Path) -> None:
    first = alloc("run", "tiny", "--reports", str(tmp_path / "a"), cwd=project)
    second = alloc("run", str(project / "scenarios" / "tiny.toml"), "--reports",
                   str(tmp_path / "b"), cwd=project)
    assert first.returncode == second.returncode == 0
    a, b = tmp_path / "a" / "tiny", tmp_path / "b" / "tiny"
    assert (a / "allocation.csv").read_bytes() == (b / "allocation.csv").read_bytes()
    ra, rb = (json.loads((p / "run.json").read_text()) for p in (a, b))
    ra.pop("seconds"), rb.pop("seconds")
    assert ra == rb


def test_allocation_is_sorted_and_complete(project: Path) -> None:
    assert alloc("run", "tiny", cwd=project).returncode == 0
    frame = pd.read_csv(project / "reports" / "tiny" / "allocation.csv")
    assert frame["amount"].sum() == pytest.approx(100 + 80 + 15 + 15)
    keys = list(zip(frame["entity"], frame["priority"], frame["year"], strict=True))
    assert keys == sorted(keys)


def test_check_validates_without_solving(project: Path) -> None:
    result = alloc("check", "baseline", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert not (project / "reports" / "baseline").exists()


def test_infeasible_scenario_exits_1_naming_the_rules(project: Path) -> None:
    (project / "scenarios" / "too-much.toml").write_text(
        '[scenario]\nparent = "tiny"\n[rules.committed.b_floor]\namount = { 2024 = 500 }\n')
    result = alloc("run", "too-much", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "infeasible" in result.stdout
    assert "committed" in result.stdout and "ceiling" in result.stdout
    run = json.loads((project / "reports" / "too-much" / "run.json").read_text())
    assert run["status"] == "infeasible"
    assert not (project / "reports" / "too-much" / "allocation.csv").exists()


def test_bad_input_exits_2_with_a_message_and_no_traceback(project: Path) -> None:
    (project / "scenarios" / "bad.toml").write_text(
        '[scenario]\nparent = "tiny"\n[rules.envelopes.A]\nmax_shar = 0.5\n')
    result = alloc("run", "bad", cwd=project)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "scenarios/bad.toml" in result.stderr
    assert "max_shar" in result.stderr and "max_share" in result.stderr
    assert not (project / "reports" / "bad").exists()


def test_missing_scenario_suggests_a_name(project: Path) -> None:
    result = alloc("run", "basline", cwd=project)
    assert result.returncode == 2
    assert "did you mean 'baseline'" in result.stderr


def test_cbc_fallback_solver_gives_the_same_answer(project: Path, tmp_path: Path) -> None:
    assert alloc("run", "tiny", "--reports", str(tmp_path / "h"), cwd=project).returncode == 0
    assert alloc("run", "tiny", "--solver", "cbc", "--reports", str(tmp_path / "c"),
                 cwd=project).returncode == 0
    h = pd.read_csv(tmp_path / "h" / "tiny" / "allocation.csv")
    c = pd.read_csv(tmp_path / "c" / "tiny" / "allocation.csv")
    pd.testing.assert_frame_equal(h, c)
    assert json.loads((tmp_path / "c" / "tiny" / "run.json").read_text())["solver"] == "cbc"


def test_version_and_help() -> None:
    out = subprocess.run([sys.executable, "-m", "alloc", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("alloc ")
