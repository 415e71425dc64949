"""Writing a run's report folder: whole or not at all, byte-identical for the same inputs.

Files are written into a temporary folder beside the target and moved into place at the end
(`alloc.report.folders`), so a failure or an interruption leaves the previous report as it was. A run
that is not optimal never replaces an optimal report: its record goes beside it. CSV files are
written by `alloc.report.book.write_csv` (here too, with `neutralise`, for those who import them
from this module).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from alloc._version import __version__
from alloc.lp.solution import CHECK_TOLERANCE, Solution
from alloc.report.appendix import write_appendix
from alloc.report.book import neutralise, write_csv
from alloc.report.ceiling import record as ceiling_record
from alloc.report.folders import NOT_OPTIMAL, RUN, current_status, report_folder, report_subfolder
from alloc.report.tables import Appendix
from alloc.report.workbook import Sheet
from alloc.text import hidden

__all__ = ["kept_beside", "neutralise", "run_record", "write_csv", "write_json", "write_report"]


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
        "unique": {"proven": solution.optimal and not solution.not_unique,
                   "why_not": solution.not_unique},
        "unit": plan.unit,
        "illustrative": plan.illustrative,
        "ceiling": ceiling_record(solution),
        "allocated": {str(y): round(solution.allocated(y), 6) for y in plan.years},
        "check": {"tolerance_chf_thousands": CHECK_TOLERANCE,
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


def write_json(data: object, path: Path) -> None:
    """JSON as UTF-8 text, with characters that hide or reorder text as \\u escapes (the same
    value to a JSON reader; inert when the file is shown in a terminal)."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if any(hidden(c) for c in text if c != "\n"):
        text = "".join(json.dumps(c)[1:-1] if hidden(c) and c != "\n" else c for c in text)
    path.write_text(text + "\n", encoding="utf-8", newline="\n")


def write_report(solution: Solution, target: Path, seconds: dict[str, float],
                 extra: Callable[[Path], None] | None = None,
                 support_costs: str = "rows", sheets: Sequence[Sheet] = (),
                 files: Callable[[Path], list[str]] | None = None,
                 infeasibility: Mapping[str, object] | None = None,
                 appendix: Appendix | None = None) -> list[str]:
    """Write a run's files into `target`; returns the names written.

    `support_costs` is how Appendix A shows support lines: rows, direct, step-down, reciprocal.
    An explanation adds `sheets` to the workbook and writes its own files with `files`; a
    diagnosis is written as infeasibility.json (`infeasibility`, else the solution's conflicts).
    A run that is not optimal, where an optimal report stands, writes into `target/not-optimal/`
    and leaves the optimal report as it is (see `kept_beside`). `appendix`: the solution's
    Appendix A views when the caller has made them already (else made here).
    """
    written = []
    started = time.perf_counter()
    if kept_beside(solution, target):
        folder = report_subfolder(target, NOT_OPTIMAL, NOT_OPTIMAL)
    else:
        folder = report_folder(target, RUN, keep=("sweep",))
    with folder as tmp:
        if solution.optimal:
            write_csv(solution.allocation, tmp / "allocation.csv")
            written.append("allocation.csv")
            written += write_appendix(solution, tmp, support_costs, run_record(solution, {}),
                                      sheets, appendix)
        if files is not None:
            written += files(tmp)
        if infeasibility is not None:
            write_json(infeasibility, tmp / "infeasibility.json")
            written.append("infeasibility.json")
        elif solution.conflicts:
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


def kept_beside(solution: Solution, target: Path) -> bool:
    """Whether this run's record goes beside the report in `target` instead of replacing it:
    the run is not optimal and the report standing there is."""
    return not solution.optimal and current_status(target) == "optimal"
