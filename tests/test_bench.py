"""The benchmark script runs (at 1e3 columns, one repeat): its JSON has every field, alloc's and
the reference's objectives agree at every level (the script exits 1 otherwise), in process and
end to end (a fresh `alloc run` against a fresh bench/reference.py), the organisation has
requirements (a value level) and both solve the quadratic tie-breaks, or with --linear both
their stand-in (in process only: `alloc run` solves its defaults). Timings are not asserted: they
are measured, and written down in BENCHMARKS.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

E2E = ("e2e_alloc_s", "e2e_reference_s", "e2e_ratio", "e2e_alloc_cpu_s", "e2e_reference_cpu_s",
       "e2e_cpu_ratio", "e2e_ratios")
SCRIPT = Path(__file__).parent.parent / "bench" / "bench.py"
FIELDS = ("n_vars", "n_rows", "nnz", "load_s", "build_s", "solve_s", "check_s", "total_s",
          "reference_s", "ratio", "peak_rss_mb", "objective", "reference_objective")


@pytest.mark.parametrize(("flags", "levels"), [
    ((), ["value", "level 1", "level 2", "shares", "unique"]),
    (("--linear",), ["value", "level 1", "level 2", "reference"])])
def test_bench_runs_at_1e3_and_objectives_agree(flags: tuple[str, ...], levels: list[str]) -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--size", "1e3", "--repeat", "1",
                           "--json", *flags], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert row["levels"] == levels and row["tie_break"] == levels[-1]
    assert set(FIELDS) <= set(row)
    assert 900 <= row["n_vars"] <= 1500 and row["n_rows"] > 0 and row["nnz"] > row["n_vars"]
    assert row["objective"] > 0
    assert abs(row["objective"] - row["reference_objective"]) <= 1e-6 * abs(row["objective"])
    parts = sum(row[k] for k in ("load_s", "build_s", "solve_s", "check_s"))
    assert abs(parts - row["total_s"]) <= 1e-3 + 1e-6 * row["total_s"]
    assert abs(row["ratio"] - row["total_s"] / row["reference_s"]) <= 0.01 * row["ratio"] + 1e-3
    assert row["peak_rss_mb"] > 10
    if flags:
        assert not set(E2E) & set(row)
        return
    assert set(E2E) <= set(row) and len(row["e2e_ratios"]) == 1
    # a fresh process each: start and imports included, so more than the in-process times
    assert row["e2e_alloc_s"] > row["total_s"] and row["e2e_reference_s"] > row["reference_s"]
    assert abs(row["e2e_ratio"] - row["e2e_alloc_s"] / row["e2e_reference_s"]) <= (
        0.01 * row["e2e_ratio"] + 1e-3)
    assert row["e2e_alloc_cpu_s"] > 0 and row["e2e_reference_cpu_s"] > 0


def test_bench_end_to_end_only_and_sizes_as_a_list() -> None:
    """--sizes takes a comma-separated list; --only end-to-end leaves the in-process figures out;
    and the end-to-end reference program agrees with alloc's run.json on every level."""
    done = subprocess.run([sys.executable, str(SCRIPT), "--sizes", "1e3,", "--repeat", "1",
                           "--only", "end-to-end", "--json"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert set(E2E) <= set(row) and "ratio" not in row and "total_s" not in row
    done = subprocess.run([sys.executable, str(SCRIPT), "--sizes", "1e3", "--only", "end-to-end",
                           "--linear"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "in process only" in done.stderr
