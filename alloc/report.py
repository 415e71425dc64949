"""Writing a run's report folder: whole or not at all, byte-identical for the same inputs.

Files are written into a temporary folder beside the target and moved into place at the end, so a
failure or an interruption leaves the previous report as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from alloc import __version__
from alloc.appendix import write_appendix
from alloc.check import ABS_TOLERANCE
from alloc.solution import Solution


def run_record(solution: Solution, seconds: dict[str, float]) -> dict:
    """The content of run.json."""
    plan = solution.plan
    record = {
        "scenario": plan.name,
        "title": plan.title,
        "scenario_chain": list(plan.scenario_chain),
        "model": plan.model,
        "status": solution.status,
        "message": solution.message,
        "solver": solution.solver,
        "objective": solution.objectives,
        "unit": plan.unit,
        "ceiling": {str(y): solution.ceiling(y) for y in plan.years},
        "allocated": {str(y): round(solution.allocated(y), 6) for y in plan.years},
        "check": {"tolerance_chf_thousands": ABS_TOLERANCE,
                  "passed": solution.optimal},
        "inputs_date": plan.inputs_date,
        "inputs_sha256": dict(plan.input_files),
        "overrides": [{"scenario": o.scenario, "key": o.key, "old": o.old, "new": o.new}
                      for o in plan.overrides],
        "seconds": {k: round(v, 4) for k, v in seconds.items()},
        "alloc_version": __version__,
    }
    if solution.conflicts:
        record["conflicts"] = solution.conflicts
    return record


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n")


def write_json(data: object, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n",
                    encoding="utf-8")


@contextlib.contextmanager
def report_folder(target: Path) -> Iterator[Path]:
    """A temporary folder that replaces `target` when the block ends without error.

    Concurrent runs of the same scenario each write their own temporary folder; the swap into
    place is serialised by a lock file, so the last run to finish wins and no report is ever
    half one run and half another.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        yield tmp
        with _locked(target.parent / f".{target.name}.lock"):
            if target.exists():
                old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
                os.replace(target, old / target.name)
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; the rename is still atomic
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_report(solution: Solution, target: Path, seconds: dict[str, float],
                 extra: Callable[[Path], None] | None = None,
                 support_costs: str = "rows") -> list[str]:
    """Write a run's files into `target`; returns the names written.

    `support_costs` is how Appendix A shows support lines: rows, direct, step-down, reciprocal.
    """
    written = []
    started = time.perf_counter()
    with report_folder(target) as tmp:
        if solution.optimal:
            write_csv(solution.allocation, tmp / "allocation.csv")
            written.append("allocation.csv")
            written += write_appendix(solution, tmp, support_costs, run_record(solution, {}))
        if solution.conflicts:
            write_json({"scenario": solution.plan.name, "status": solution.status,
                        "message": solution.message, "conflicts": solution.conflicts},
                       tmp / "infeasibility.json")
            written.append("infeasibility.json")
        if extra is not None:
            extra(tmp)
        seconds = {**seconds, "write": time.perf_counter() - started}
        write_json(run_record(solution, seconds), tmp / "run.json")
        written.append("run.json")
    return written
