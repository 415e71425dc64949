"""Will the model fit in memory? Asked before the harm, three times, each time more exactly.

A run needs about `BYTES_PER_COLUMN` of memory per allocation column (cell x year x fund that
admits the cell), measured at 1e6 LP columns. A model too large for the machine used to be found
only in `build`, after every file was read and validated (87 s and 3.1 GB for a mandate of 5e6
rows), and against the machine's total memory rather than what is free (a 2.8e6-column model
passed and grew past 8 GB). Now:

1. `check_mandate_file`, before the mandate is parsed: its rows (counted by streaming the file,
   stopping once there are too many) x the plan's years. Resolving costs about 10 us and 800
   bytes a row; counting, 0.3 us: a mandate of millions of rows is refused in about a second.
2. `check_document`, after resolution, before validation: the mandate's cells x years, for
   the regular budget and each fund on the cells its earmark admits (exact for a mandate
   without wildcard rows).
3. `fits_in_memory`, in `build`: the exact number of columns.

Every estimate is a lower bound of the columns the model will have (of a mandate validation
accepts: the first check counts a repeated row, which validation refuses, each time), so that
a model that fits is never refused early; each message says what was counted. All compare with
80% of the memory this process can still use: the least of the system's available memory (`MemAvailable`), the
room left under the process's cgroup limit (v2 `memory.max`, v1 `memory.limit_in_bytes`) and
under its address-space limit (`ulimit -v`).
"""

from __future__ import annotations

import csv
import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alloc.errors import InputError, ModelTooLarge, Problem

BYTES_PER_COLUMN = 6000
"""Peak memory of a run per allocation column, measured: bench/bench.py --size 1e6 peaked at
2.0 GB for 333,664 allocation columns (BENCHMARKS.md)."""
MEMORY_FRACTION = 0.8
"""Share of the available memory a model may take: the rest for the system and other programs."""
MAX_FILE_BYTES = 64 * 1024 * 1024
"""alloc.model.files refuses larger files; the count leaves them to it."""
_UNLIMITED = 2**60
"""cgroup v1 writes 'no limit' as a number near 2**63."""


# --- how much memory ---------------------------------------------------------------------------

def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def _meminfo(key: str) -> int | None:
    text = _read("/proc/meminfo")
    for line in (text or "").splitlines():
        name, _, rest = line.partition(":")
        if name == key:
            parts = rest.split()
            if parts and parts[0].isdigit():
                return int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return None


def _sysconf_memory() -> int | None:
    """Available (else physical) memory where there is no /proc: macOS and other Unixes."""
    for pages in ("SC_AVPHYS_PAGES", "SC_PHYS_PAGES"):
        try:
            n, size = os.sysconf(pages), os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            continue
        if n > 0 and size > 0:
            return n * size
    return None


def _number_in(path: str) -> int | None:
    text = _read(path)
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() else None


def _cgroup_room(root: str = "/sys/fs/cgroup", proc: str = "/proc/self/cgroup") -> int | None:
    """Room left under the memory limits of this process's cgroup and of its ancestors."""
    rooms = []
    for line in (_read(proc) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":               # v2: limit in memory.max, use in memory.current
            base, limit_file, used_file = root, "memory.max", "memory.current"
        elif "memory" in controllers.split(","):
            base, limit_file, used_file = (f"{root}/memory", "memory.limit_in_bytes",
                                           "memory.usage_in_bytes")
        else:
            continue
        folder = Path(base + path.rstrip("/")) if path.startswith("/") else Path(base)
        for level in (folder, *folder.parents):
            limit = _number_in(str(level / limit_file))
            if limit is not None and limit < _UNLIMITED:
                used = _number_in(str(level / used_file)) or 0
                rooms.append(max(limit - used, 0))
            if level == Path(base):
                break
    return min(rooms) if rooms else None


def _address_space_room() -> int | None:
    """Room left under `ulimit -v` (RLIMIT_AS): past it every allocation fails."""
    try:
        import resource
    except ImportError:                    # Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    return max(soft - (_status("VmSize") or 0), 0)


def _status(key: str) -> int | None:
    for line in (_read("/proc/self/status") or "").splitlines():
        name, _, rest = line.partition(":")
        if name == key and rest.split() and rest.split()[0].isdigit():
            return int(rest.split()[0]) * 1024
    return None


def available_memory() -> int | None:
    """Bytes this process can still use; None when the system does not say."""
    candidates = [m for m in (_meminfo("MemAvailable") or _sysconf_memory(), _cgroup_room(),
                              _address_space_room()) if m is not None]
    return min(candidates) if candidates else None


def gb(n: float) -> str:
    return f"{n / 2**30:,.1f} GB"


# --- the estimates -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    """A lower bound on the allocation columns, and what it counted."""

    cells: int
    """Cells the mandate surely has."""
    years: int
    funds: int
    """Extrabudgetary funds."""
    fund_cells: int
    """(cell, fund) pairs surely admitted among those cells, the regular budget's included."""

    @property
    def columns(self) -> int:
        return self.fund_cells * self.years

    def memory(self, per_column: int = BYTES_PER_COLUMN) -> int:
        return self.columns * per_column


def _too_large(need: int, available: int | None) -> bool:
    return available is not None and need > MEMORY_FRACTION * available


def _remedy(available: int) -> str:
    return (f"this process has {gb(available)} of memory available (a model may take "
            f"{MEMORY_FRACTION:.0%} of it). Reduce the mandate, the years or the funds, or run on a "
            "machine with more free memory")


MAX_YEARS = 2200 - 1900 + 1
"""Validation takes years from 1900 to 2200."""


def _years(value: object) -> int | None:
    """How many years a plan's `years` gives, if it is a list validation could accept."""
    if (isinstance(value, list) and value
            and all(isinstance(y, int) and not isinstance(y, bool) and 1900 <= y <= 2200
                    for y in value)):
        return len(set(value))
    return None


def _get(doc: object, *path: str) -> object:
    for part in path:
        if not isinstance(doc, Mapping):
            return None
        doc = doc.get(part)
    return doc


def _count_rows(path: Path, stop: int) -> int:
    """Rows of a CSV file that name one cell each (not blank, no '*'), past the header; the count
    stops at `stop`. 0.3 us a row: the file is streamed, nothing is kept."""
    n = -1                                  # the header
    with open(path, encoding="utf-8-sig", newline="") as f:
        for row in csv.reader(f):
            line = "".join(row)
            if line.strip() and "*" not in line:
                n += 1
                if n >= stop:
                    break
    return max(n, 0)


def check_mandate_file(root: Path, model: str, overrides: Iterable[Mapping[str, Any]]) -> None:
    """Refuse a mandate file with more rows than the memory allows, before it is parsed.

    `model` is the model's folder in `root`/models, `overrides` the scenario chain's documents,
    the scenario first (one of them may set the years): the years are those the resolved
    scenario will have. Anything unusual (no such folder, a file outside it, unreadable or too
    large, years that are not a list) leaves the question to resolution and validation, which
    name the problem.
    """
    models = root / "models"
    folder = models / model
    path = folder / "mandate.csv"
    label = f"models/{model}/mandate.csv"
    available = available_memory()
    if available is None:
        return
    try:
        if (not model or "/" in model or "\\" in model or model.startswith(".")
                or not folder.resolve().is_relative_to(models.resolve())
                or not path.is_file() or not path.resolve().is_relative_to(folder.resolve())
                or not 0 < path.stat().st_size <= MAX_FILE_BYTES):
            return
        size = path.stat().st_size
        if (size + 1) // 2 * MAX_YEARS * BYTES_PER_COLUMN <= MEMORY_FRACTION * available:
            return                          # too small to matter, whatever the years
        years = next((_get(doc, "financial_plan", "plan", "years") for doc in overrides
                      if _get(doc, "financial_plan", "plan", "years") is not None), None)
        if years is None:
            with open(folder / "financial-plan.toml", "rb") as f:
                years = _get(tomllib.load(f), "plan", "years")
    except (OSError, ValueError, tomllib.TOMLDecodeError):
        return
    n_years = _years(years) or 1
    limit = math.floor(MEMORY_FRACTION * available / (BYTES_PER_COLUMN * n_years))
    if (size + 1) // 2 <= limit:            # a row takes at least 2 bytes ("a" and a new line)
        return
    try:
        rows = _count_rows(path, limit + 1)
    except (OSError, UnicodeDecodeError, csv.Error):
        return
    if rows <= limit:
        return
    estimate = Estimate(rows, n_years, 0, rows)
    raise InputError([Problem(label, "", (
        f"the model is too large for this machine's memory: the file has more than {limit:,} "
        f"rows naming a cell each (counting stopped there; the file is {size:,} bytes), and "
        f"{limit + 1:,} rows x {n_years} year{'s' if n_years != 1 else ''} is already "
        f"{estimate.columns:,} allocation variables (one per cell and year for the regular "
        f"budget alone), about {gb(estimate.memory())} of memory at {BYTES_PER_COLUMN:,} bytes "
        "each; " + _remedy(available)))])


def _earmark(fund: Mapping[str, Any]) -> tuple[frozenset[str] | None, ...] | None:
    """A fund's earmark as the codes it admits per axis (None: all); None if it is not one
    validation accepts (then the fund counts for no cell)."""
    raw = fund.get("earmark", {})
    if not isinstance(raw, Mapping):
        return None
    out: list[frozenset[str] | None] = []
    for axis in ("entities", "priorities", "outputs"):
        value = raw.get(axis)
        items = [value] if isinstance(value, str) else value
        if value is None:
            out.append(None)
        elif isinstance(items, list) and items and all(isinstance(i, str) for i in items):
            out.append(frozenset(items))
        else:
            return None
    return tuple(out)


def estimate_document(doc: Mapping[str, Any], enough: int | None = None) -> Estimate:
    """The lower bound of a resolved (not yet validated) scenario document's columns.

    Cells: the rows naming one cell each, or the widest wildcard row if it has more. Each cell
    has a column per year for the regular budget and for every fund whose earmark admits it
    (earmarks are matched on the rows naming one cell; a wildcard row's cells count the funds
    without an earmark only). With `enough` (columns), earmarks are matched only when it
    matters: the funds without one do not already make that many, and every fund on every
    cell could.
    """
    mandate = doc.get("mandate")
    keys = list(mandate) if isinstance(mandate, Mapping) else []
    explicit = [tuple(k.split("/")) for k in keys if "*" not in k and k.count("/") == 2]
    axes = [_get(doc, "framework", axis) for axis in ("entities", "priorities", "outputs")]
    codes = [set(a) if isinstance(a, Mapping) else set() for a in axes]
    widest = wild = 0
    for key in keys:
        parts = key.split("/") if "*" in key else ()
        if len(parts) == 3:
            n = 1
            for part, known in zip(parts, codes, strict=True):
                n *= len(known) if part == "*" else int(part in known)
            widest, wild = max(widest, n), wild + n
    funds = _get(doc, "financial_plan", "funds")
    funds = funds if isinstance(funds, Mapping) else {}
    earmarks = [_earmark(f) for code, f in funds.items()
                if code != "regular" and isinstance(f, Mapping)]
    open_funds = sum(1 for e in earmarks if e == (None, None, None))
    years = _years(_get(doc, "financial_plan", "plan", "years")) or 1
    cells = max(len(explicit), widest)
    pairs = cells * (1 + open_funds)
    most = (len(explicit) + wild) * (1 + len(earmarks)) * years
    if enough is None or pairs * years < enough <= most:
        matched = len(explicit) * (1 + open_funds)
        for earmark in earmarks:
            if earmark is not None and earmark != (None, None, None):
                ents, pris, outs = earmark
                matched += sum(1 for e, p, o in explicit if (ents is None or e in ents)
                               and (pris is None or p in pris) and (outs is None or o in outs))
        pairs = max(pairs, matched)
    return Estimate(cells, years, len(earmarks), pairs)


def check_document(doc: Mapping[str, Any], label: str) -> None:
    """Refuse a resolved document whose model cannot fit in memory, before validating it."""
    available = available_memory()
    if available is None:
        return
    enough = math.floor(MEMORY_FRACTION * available / BYTES_PER_COLUMN) + 1
    e = estimate_document(doc, enough)
    if not _too_large(e.memory(), available):
        return
    raise InputError([Problem(label, "", (
        f"the model is too large for this machine's memory: {e.cells:,} cells x {e.years} "
        f"year{'s' if e.years != 1 else ''}, with the regular budget on every cell and the "
        f"{e.funds} extrabudgetary fund{'s' if e.funds != 1 else ''} on the cells their earmarks "
        f"admit ({e.fund_cells:,} cells and funds), is at least {e.columns:,} allocation "
        f"variables, about {gb(e.memory())} of memory at {BYTES_PER_COLUMN:,} bytes each; "
        + _remedy(available)))])


def fits_in_memory(columns: int, cells: int, years: int, funds: int,
                   per_column: int = BYTES_PER_COLUMN, copies: int = 1) -> None:
    """Refuse, with ModelTooLarge, the exact number of columns if it does not fit (`copies`:
    processes each holding the model)."""
    available = available_memory()
    need = columns * per_column * copies
    if not _too_large(need, available):
        return
    assert available is not None
    held = f" in each of {copies} processes" if copies > 1 else ""
    raise ModelTooLarge(
        f"the model has {columns:,} allocation variables ({cells:,} cells x {years} years x the "
        f"regular budget and {funds} extrabudgetary funds, each fund on the cells its earmark "
        f"admits){held} and would need about {gb(need)} of memory; "
        + _remedy(available) + (", or use fewer --workers" if copies > 1 else ""))
