"""Spreadsheet safety, interrupted and concurrent runs, time limits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from alloc.report.write import neutralise

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "expected"), [
    ("=1+1", "'=1+1"), ("+SUM(A1)", "'+SUM(A1)"), ("-2+3", "'-2+3"), ("@cmd", "'@cmd"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("-5", "-5"), ("+1.5e3", "+1.5e3"), ("TP1", "TP1"),
    ("Digital applications", "Digital applications"),
])
def test_csv_text_is_neutralised_numbers_stay(text: str, expected: str) -> None:
    assert neutralise(text) == expected


def test_formula_names_stay_inert_in_csv_and_xlsx(project: Path, tmp_path: Path) -> None:
    (project / "scenarios" / "evil.toml").write_text(
        '[scenario]\nparent = "tiny"\n[framework.priorities.P1]\n'
        'name = "=HYPERLINK(\\"http://x\\",\\"click\\")"\n')
    result = subprocess.run([sys.executable, "-m", "alloc", "compare", "tiny", "evil",
                             "--project", str(project)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    inputs = (project / "reports" / "compare" / "tiny-vs-evil" / "inputs.csv").read_text()
    assert "'=HYPERLINK" in inputs
    import openpyxl

    assert subprocess.run([sys.executable, "-m", "alloc", "run", "evil", "--project",
                           str(project)], capture_output=True, timeout=300).returncode == 0
    book = openpyxl.load_workbook(project / "reports" / "evil" / "appendix-a.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and "HYPERLINK" in cell.value:
                    assert cell.data_type == "s", (sheet.title, cell.coordinate)


def _start(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "alloc", "run", "baseline", "--project",
                             str(project), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _report_is_whole(folder: Path) -> dict:
    run = json.loads((folder / "run.json").read_text())
    allocation = pd.read_csv(folder / "allocation.csv")
    assert run["status"] == "optimal"
    for year, amount in run["allocated"].items():
        assert allocation.loc[allocation["year"] == int(year), "amount"].sum() == pytest.approx(
            amount, abs=1e-3)
    for name in ("appendix-a.xlsx", "appendix-a.md", "tables/a1-priority-entity.csv"):
        assert (folder / name).stat().st_size > 0
    return run


@pytest.mark.parametrize("sig", [signal.SIGKILL])
def test_a_run_killed_at_any_point_leaves_the_previous_report(project: Path, sig: int) -> None:
    """Killed outright at any moment, the previous report stands whole (SIGINT and SIGTERM, which
    alloc answers, are tested in tests/report/test_report_folders.py)."""
    assert subprocess.run([sys.executable, "-m", "alloc", "run", "baseline", "--project",
                           str(project)], capture_output=True, timeout=300).returncode == 0
    folder = project / "reports" / "baseline"
    before = _report_is_whole(folder)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "alloc", "--version"], capture_output=True, timeout=60)
    # the interpreter's own start (site, runpy), before alloc's code runs, with a margin
    startup = 2 * (time.perf_counter() - start)
    start = time.perf_counter()
    first = _start(project)
    first.wait(timeout=300)
    duration = time.perf_counter() - start
    for fraction in (0.0, 0.2, 0.4, 0.6, 0.8, 0.95):
        process = _start(project)
        time.sleep(startup + (duration - startup) * fraction)
        process.send_signal(sig)
        out, err = process.communicate(timeout=300)
        if sig == signal.SIGINT and process.returncode == 130:
            assert len(err.strip().splitlines()) == 1, err
            assert "interrupted" in err
        elif sig == signal.SIGINT and process.returncode == -signal.SIGINT:
            # arrived after alloc had finished, while the interpreter was shutting down
            assert "wrote" in out and err == "", (out, err)
        elif sig == signal.SIGINT:
            assert process.returncode == 0, (fraction, process.returncode, err)
        after = _report_is_whole(folder)
        assert after["inputs_sha256"] == before["inputs_sha256"]


def test_two_runs_at_once_do_not_corrupt_each_other(project: Path) -> None:
    def run(_: int) -> int:
        return subprocess.run([sys.executable, "-m", "alloc", "run", "baseline", "--project",
                               str(project), "--quiet"], capture_output=True, timeout=300).returncode

    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(run, range(3))) == [0, 0, 0]
    _report_is_whole(project / "reports" / "baseline")
    leftovers = [p.name for p in (project / "reports").iterdir()
                 if p.name.startswith(".baseline.") and not p.name.endswith(".lock")]
    target = os.readlink(project / "reports" / "baseline")
    assert leftovers == [target]


def test_a_time_limit_is_reported_as_not_optimal(project: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "alloc", "run", "baseline", "--project",
                             str(project), "--time-limit", "0.001"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1
    assert "time limit" in result.stdout
    run = json.loads((project / "reports" / "baseline" / "run.json").read_text())
    assert run["status"] == "time_limit"
    assert not (project / "reports" / "baseline" / "allocation.csv").exists()


def test_a_model_too_large_for_memory_stops_with_a_message(project: Path) -> None:
    code = (
        "import sys, alloc.lp.build as b; b.BYTES_PER_COLUMN = 10**15; "
        "from alloc.cli import main; sys.exit(main(['run', 'tiny', '--project', sys.argv[1]]))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(project)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "would need about" in result.stderr and "Traceback" not in result.stderr
    run = json.loads((project / "reports" / "tiny" / "run.json").read_text())
    assert run["status"] == "too_large"
    assert not (project / "reports" / "tiny" / "allocation.csv").exists()


def test_input_files_are_never_modified(project: Path) -> None:
    def digest() -> dict[str, bytes]:
        return {p.as_posix(): p.read_bytes() for p in sorted((project / "models").rglob("*"))
                + sorted((project / "scenarios").rglob("*")) if p.is_file()}

    before = digest()
    for command in (["run", "baseline"], ["check", "tiny"], ["compare", "tiny", "baseline"]):
        subprocess.run([sys.executable, "-m", "alloc", *command, "--project", str(project)],
                       capture_output=True, timeout=300)
    assert digest() == before
