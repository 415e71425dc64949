"""Writing a run's report folder: whole or not at all, byte-identical for the same inputs.

Files are written into a temporary folder beside the target and moved into place at the end, so a
failure or an interruption leaves the previous report as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pandas as pd

from alloc import __version__
from alloc.appendix import write_appendix
from alloc.check import ABS_TOLERANCE
from alloc.solution import Solution
from alloc.xlsx import Sheet


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


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert the way OWASP recommends.

    A cell starting with =, +, -, @, tab or carriage return gets a leading apostrophe; text that
    is a plain number stays as it is.
    """
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """A CSV with plain numbers and inert text."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(lambda v: neutralise(v) if isinstance(v, str) else v)
    safe.to_csv(path, index=False, lineterminator="\n")


def write_json(data: object, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n",
                    encoding="utf-8")


@contextlib.contextmanager
def report_folder(target: Path, keep: tuple[str, ...] = ()) -> Iterator[Path]:
    """A temporary folder that replaces `target` when the block ends without error.

    The report is written in full under a hidden name, then `target` (a symbolic link on POSIX)
    is switched to it with one atomic rename, under a lock and with Ctrl-C held back, so a run
    killed at any moment leaves the previous report complete, and of two concurrent runs the
    last to finish wins. Where links are not available the old folder is moved aside and the new
    one moved in. Subfolders named in `keep` (written by other commands, such as `sweep/`)
    are carried over from the previous report.
    """
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}.tmp-"))
    try:
        yield tmp
        with _signals_held(), _locked(parent / f".{target.name}.lock"):
            for name in keep:
                if (target / name).is_dir() and not (tmp / name).exists():
                    shutil.copytree(target / name, tmp / name)
            final = parent / tmp.name.replace(".tmp-", ".run-", 1)
            os.chmod(tmp, 0o777 & ~_umask())
            os.replace(tmp, final)
            if hasattr(os, "symlink") and os.name == "posix":
                _switch_link(target, final)
            else:
                _switch_folder(target, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _switch_link(target: Path, final: Path) -> None:
    link = final.with_name(final.name.replace(".run-", ".link-", 1))
    os.symlink(final.name, link)
    if target.exists() and not target.is_symlink():
        aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
        os.replace(target, aside / target.name)
        shutil.rmtree(aside, ignore_errors=True)
    os.replace(link, target)
    for stale in target.parent.glob(f".{target.name}.run-*"):
        if stale.name != final.name:
            shutil.rmtree(stale, ignore_errors=True)


def _switch_folder(target: Path, final: Path) -> None:
    if target.exists():
        aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
        os.replace(target, aside / target.name)
        os.replace(final, target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(final, target)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back Ctrl-C and termination while a report is switched into place."""
    held = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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
                 support_costs: str = "rows", sheets: Sequence[Sheet] = (),
                 files: Callable[[Path], list[str]] | None = None,
                 infeasibility: Mapping[str, object] | None = None) -> list[str]:
    """Write a run's files into `target`; returns the names written.

    `support_costs` is how Appendix A shows support lines: rows, direct, step-down, reciprocal.
    An explanation adds `sheets` to the workbook and writes its own files with `files`; a
    diagnosis is written as infeasibility.json (`infeasibility`, else the solution's conflicts).
    """
    written = []
    started = time.perf_counter()
    with report_folder(target, keep=("sweep",)) as tmp:
        if solution.optimal:
            write_csv(solution.allocation, tmp / "allocation.csv")
            written.append("allocation.csv")
            written += write_appendix(solution, tmp, support_costs, run_record(solution, {}),
                                      sheets)
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
