"""`alloc sweep`: many variants of one scenario, each a few changed numbers of one built model.

A variant is the scenario plus overrides of its document (what a scenario file could say: a
fund's receipt rate or pledge, a target's share or weight, every revenue line scaled for the
ceiling), validated and built by the same code as `alloc run`, so that a variant is exactly the
fresh run of those parameters. What makes a sweep fast is the solve: the variant's LP has the
same rows and columns as the scenario's, so only the right-hand sides and coefficients that
differ are handed to the HiGHS instance that already holds the model, which re-solves warm from
its last basis. A variant whose LP has another shape (say a fund's pledge set to nothing) is
solved on a fresh instance. Every answer goes through the independent check.

Grids are the product of the values given for each parameter; Monte Carlo draws every fund's
receipt rate from a Beta distribution with the expected rate as its mean and a standard deviation
of 0.1 (`--spread`), from a seeded generator: the same seed gives the same variants, whatever the
number of workers.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from alloc.errors import InputError, ModelTooLarge, Problem, SolveError
from alloc.explain import diagnose_infeasible
from alloc.lp.build import LinearProgram, build, check_fits
from alloc.lp.solution import AMOUNT_DECIMALS
from alloc.lp.solve import allocation_frame, funding_frame, solve_levels, solver_name, uniqueness
from alloc.lp.verify import check
from alloc.model.domain import Plan
from alloc.model.scenario import Path_, Resolved, parse_key, resolve
from alloc.model.validate import MAX_AMOUNT, validate
from alloc.options import DEFAULT_MAX_VARIANTS, SECONDS_PER_VARIANT

if TYPE_CHECKING:
    from alloc.lp.backends.highs import HighsModel

if TYPE_CHECKING:
    import pandas as pd

    from alloc.report.book import Book

DEFAULT_SPREAD = 0.1
"""Standard deviation of a receipt rate around its expected value in Monte Carlo draws."""
PERCENTILES = (5, 25, 50, 75, 95)
SWEEP_FOLDER = "sweep"


@dataclass(frozen=True)
class Parameter:
    """One swept quantity: a label for the tables and how it changes the scenario document."""

    label: str
    path: Path_ | None
    """The document key set to the value; None for the ceiling factor (every revenue line)."""

    def apply(self, doc: dict, value: float) -> None:
        if self.path is None:
            _scale_revenue(doc, value)
        else:
            _set(doc, self.path, value)


@dataclass
class Sweep:
    parameters: list[Parameter]
    variants: list[tuple[float, ...]]
    """Per variant, one value per parameter."""
    kind: str = "grid"
    design: dict[str, object] = field(default_factory=dict)
    """How the variants were made, enough to make them again: the grid's values per parameter,
    or the draws, the seed and each fund's distribution (sweep/run.json)."""


@dataclass
class Result:
    """One variant's outcome: a row of variants.csv."""

    id: int
    values: tuple[float, ...]
    status: str
    objectives: dict[str, float] = field(default_factory=dict)
    priorities: dict[str, float] = field(default_factory=dict)
    entities: dict[str, float] = field(default_factory=dict)
    check: str = ""
    warm: bool = True
    message: str = ""
    unique: bool = True
    """Whether the strictly convex tie-breaks were solved (the answer is then the only one)."""


def _copy_path(doc: dict, path: Path_) -> dict:
    """A copy of the document sharing every table but those on the path (which get changed)."""
    out = dict(doc)
    node = out
    for part in path[:-1]:
        child = node.get(part)
        child = dict(child) if isinstance(child, dict) else {}
        node[part] = child
        node = child
    return out


def _set(doc: dict, path: Path_, value: float) -> None:
    node = doc
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _scale_revenue(doc: dict, factor: float) -> None:
    """Every revenue line times `factor` (amounts, or contributory units): the ceiling scaled."""
    lines = doc.get("financial_plan", {}).get("revenue", {})
    for code, line in list(lines.items()):
        if not isinstance(line, dict):
            continue
        line = dict(line)
        key = "units" if "units" in line else "amount"
        value = line.get(key)
        if isinstance(value, dict):
            line[key] = {y: v * factor if isinstance(v, int | float) else v for y, v in value.items()}
        elif isinstance(value, int | float) and not isinstance(value, bool):
            line[key] = value * factor
        lines[code] = line


def variant_document(resolved: Resolved, parameters: Sequence[Parameter],
                     values: Sequence[float]) -> Resolved:
    """The scenario's resolved document with a variant's values set (the original untouched)."""
    doc = resolved.doc
    for p, value in zip(parameters, values, strict=True):
        doc = _copy_path(doc, p.path or ("financial_plan", "revenue", ""))
        p.apply(doc, value)
    return replace(resolved, doc=doc)


# --- what to sweep -----------------------------------------------------------------------------

def grid(parameters: Sequence[tuple[Parameter, list[float]]]) -> Sweep:
    """Every combination of the values given (the first parameter varies slowest)."""
    combos: list[tuple[float, ...]] = [()]
    for _, values in parameters:
        combos = [(*c, v) for c in combos for v in values]
    design: dict[str, object] = {
        "grid": {p.label: list(values) for p, values in parameters},
        "order": "every combination; the first parameter varies slowest"}
    return Sweep([p for p, _ in parameters], combos, "grid", design)


def monte_carlo(plan: Plan, draws: int, seed: int, spread: dict[str, float] | float | None = None
                ) -> Sweep:
    """Every fund's receipt rate drawn from a Beta distribution whose mean is the expected rate.

    Why Beta: a rate lives in [0, 1], and unlike a normal cut at 1 a Beta keeps the mean at the
    expected rate (a normal with sd 0.1 around 0.9, truncated, averages 0.87). The standard
    deviation is `spread` from the command line, else the fund's `receipt_rate_spread` in the
    scenario, else 0.1; reduced to 99% of the largest a Beta of that mean can
    have when the rate is close to 0 or 1; a rate of exactly 0 or 1 is not drawn.
    """
    rng = np.random.default_rng(seed)
    parameters, columns = [], []
    funds: dict[str, dict[str, object]] = {}
    for fund in plan.funds:
        stated = DEFAULT_SPREAD if fund.receipt_spread is None else fund.receipt_spread
        sd = (spread.get(fund.code, spread.get("*", stated)) if isinstance(spread, dict)
              else stated if spread is None else spread)
        m = fund.receipt_rate
        if sd <= 0 or m <= 0 or m >= 1:
            x = np.full(draws, m)
            funds[fund.code] = {"distribution": "fixed", "rate": m}
        else:
            var = min(sd * sd, 0.99 * m * (1 - m))
            k = m * (1 - m) / var - 1
            x = rng.beta(m * k, (1 - m) * k, draws)
            funds[fund.code] = {"distribution": "beta", "mean": m, "sd_asked": sd,
                                "sd": math.sqrt(var), "alpha": m * k, "beta": (1 - m) * k}
        parameters.append(Parameter(f"receipt_rate[{fund.code}]",
                                    ("financial_plan", "funds", fund.code, "receipt_rate")))
        columns.append(np.clip(np.round(x, 6), 0.0, 1.0))
    variants = [tuple(float(c[i]) for c in columns) for i in range(draws)]
    design: dict[str, object] = {
        "draws": draws, "seed": seed, "generator": "numpy.random.default_rng(seed).beta, "
        "one fund after another in the order of parameters, each rate rounded to 6 decimals", "funds": funds}
    return Sweep(parameters, variants, "monte_carlo", design)


def key_parameter(label: str, text: str) -> Parameter:
    path = parse_key(text)
    if path is None:
        raise InputError([Problem("command line", text, "expected a dotted key of the scenario, "
                                  "e.g. financial_plan.funds.connect.receipt_rate")])
    return Parameter(label, path)


# --- solving variants --------------------------------------------------------------------------

def derive_plan(plan: Plan, parameters: Sequence[Parameter], values: Sequence[float]
                ) -> Plan | None:
    """The variant's plan straight from the scenario's, for the parameters that are one field of
    a fund or a target; None when validation is needed (any other key, a value out of range).

    Why: validating the whole document again costs more than solving a variant. `Engine` checks
    on the first variant that this gives exactly what validation gives, and validates otherwise.
    """
    funds = {f.code: f for f in plan.funds}
    targets = {t.code: t for t in plan.targets}
    for p, value in zip(parameters, values, strict=True):
        path = p.path
        if path is None or len(path) != 4 or not math.isfinite(value):
            return None
        section, table, code, key = path
        if (section, table) == ("financial_plan", "funds") and code in funds:
            if key == "receipt_rate" and 0.0 <= value <= 1.0:
                funds[code] = replace(funds[code], receipt_rate=float(value))
            elif key == "pledge" and 0.0 <= value <= MAX_AMOUNT:
                funds[code] = replace(funds[code], pledges=dict.fromkeys(plan.years, float(value)))
            else:
                return None
        elif (section, table) == ("rules", "targets") and code in targets:
            t = targets[code]
            if key == "share" and t.share is not None and 0.0 <= value <= 1.0:
                targets[code] = replace(t, share=float(value))
            elif key == "amount" and t.amount is not None and 0.0 <= value <= MAX_AMOUNT:
                targets[code] = replace(t, amount=float(value))
            elif key == "shortfall_weight" and 0.0 <= value <= 1e6:
                targets[code] = replace(t, shortfall_weight=float(value))
            elif key == "excess_weight" and 0.0 <= value <= 1e6:
                targets[code] = replace(t, excess_weight=float(value))
            else:
                return None
        else:
            return None
    return replace(plan, funds=tuple(funds[f.code] for f in plan.funds),
                   targets=tuple(targets[t.code] for t in plan.targets))


class Engine:
    """The scenario built once and held in HiGHS; variants applied as changes and solved warm."""

    def __init__(self, resolved: Resolved, parameters: Sequence[Parameter]):
        self.resolved = resolved
        self.parameters = list(parameters)
        self.plan = validate(resolved)
        self.lp = build(self.plan)
        self.model: HighsModel | None = None
        start, index, _ = self.lp.matrix()
        self._shape = (self.lp.n_cols, start, index)
        thematic = [p.code for p in self.plan.priorities if not p.support]
        self.priorities = thematic
        self.entities = [e.code for e in self.plan.entities]
        self.derive: bool | None = None
        """Whether derive_plan may stand for validation: None until the first variant says."""
        pos = {p: i for i, p in enumerate(thematic)}
        self._cell_priority = np.array([pos.get(m.cell.priority, -1) for m in self.plan.mandate])
        pos = {e: i for i, e in enumerate(self.entities)}
        self._cell_entity = np.array([pos.get(m.cell.entity, -1) for m in self.plan.mandate])

    def plan_of(self, values: tuple[float, ...]) -> Plan:
        fast = derive_plan(self.plan, self.parameters, values) if self.derive is not False else None
        if fast is not None and self.derive:
            return fast
        slow = validate(variant_document(self.resolved, self.parameters, values))
        if fast is not None:
            self.derive = fast == slow
        return slow

    def totals(self, lp: LinearProgram, values: np.ndarray) -> tuple[dict[str, float],
                                                                       dict[str, float]]:
        """Totals per thematic priority and entity of the reported (rounded) amounts."""
        amounts = np.round(values[: lp.n_alloc], AMOUNT_DECIMALS)
        amounts = np.where(amounts >= 0.5 * 10.0**-AMOUNT_DECIMALS, amounts, 0.0)
        out = []
        for index, codes in ((self._cell_priority, self.priorities),
                             (self._cell_entity, self.entities)):
            of = index[lp.cell]
            sums = np.bincount(np.where(of >= 0, of, len(codes)), weights=amounts,
                               minlength=len(codes) + 1)
            out.append({c: float(sums[i]) for i, c in enumerate(codes)})
        return out[0], out[1]

    def _model_for(self, lp: LinearProgram) -> tuple[HighsModel, bool]:
        """The warm model with this variant's numbers, or a fresh one if the shape differs."""
        from alloc.lp.backends.highs import HighsModel

        start, index, _ = lp.matrix()
        n_cols, base_start, base_index = self._shape
        same = (lp.n_cols == n_cols and np.array_equal(start, base_start)
                and np.array_equal(index, base_index))
        if self.model is None or not same:
            model = HighsModel(lp)
            if same:
                self.model = model
            return model, False
        self.model.update(lp)
        return self.model, True

    def run(self, vid: int, values: tuple[float, ...]) -> Result:
        try:
            plan = self.plan_of(values)
        except InputError as exc:
            return Result(vid, values, "invalid", message=str(exc).splitlines()[-1].strip(" -"))
        lp = build(plan)
        model, warm = self._model_for(lp)
        status, objectives, _ = solve_levels(model)
        result = Result(vid, values, status, objectives, warm=warm)
        if status != "optimal":
            if warm:  # start the next variant from a clean instance
                self.model = None
            if status == "infeasible" and not objectives:  # the rules named, from one more solve
                try:
                    result.message = diagnose_infeasible(lp, cheap=True).message
                except SolveError as exc:
                    result.message = f"no diagnosis: {exc}"
            return result
        allocation = allocation_frame(lp, model.values())
        result.unique = not uniqueness(model)
        violations = check(plan, allocation, funding_frame(lp, model.values()))
        result.check = "passed" if not violations else f"failed: {len(violations)} rule(s)"
        if violations:
            result.status = "check_failed"
            result.message = str(violations[0])
        result.priorities, result.entities = self.totals(lp, model.values())
        return result


BLOCK = 50
"""Variants per block. Each block starts from a freshly built model, so that a variant's answer
(at a degenerate optimum, which vertex the warm simplex stops at) depends on the sweep alone,
never on which worker ran what before it: same sweep, same files, whatever --workers says."""

_SHARED: tuple[Resolved, list[Parameter]] | None = None


def _init_worker(resolved: Resolved, parameters: list[Parameter]) -> None:
    global _SHARED
    _SHARED = (resolved, parameters)


def _init_process(resolved: Resolved, parameters: list[Parameter]) -> None:
    from alloc.interrupt import quiet_worker

    quiet_worker()
    _init_worker(resolved, parameters)


def _run_block(block: list[tuple[int, tuple[float, ...]]]) -> list[Result]:
    assert _SHARED is not None
    engine = Engine(*_SHARED)
    return [engine.run(vid, values) for vid, values in block]


EXECUTORS = ("local", "dask")


def run_variants(resolved: Resolved, sweep: Sweep, workers: int = 1,
                 progress: Callable[[int, int], None] | None = None, *,
                 executor: str = "local", scheduler: str | None = None,
                 processes: bool = True) -> list[Result]:
    """Solve every variant (in `workers` processes when more than one); results in variant order.

    `executor` "dask": the blocks on a Dask cluster instead (`alloc.sweep.cluster`), the
    scheduler at `scheduler` or a LocalCluster of `workers` workers (threads when `processes` is
    False); the same blocks, so the same results."""
    todo = list(enumerate(sweep.variants, start=1))
    blocks = [todo[i:i + BLOCK] for i in range(0, len(todo), BLOCK)]
    results: list[Result] = []
    if executor == "dask":
        from alloc.sweep.cluster import run_blocks

        return run_blocks(resolved, sweep.parameters, blocks, len(todo), progress,
                          scheduler=scheduler, workers=workers, processes=processes)
    if executor != "local" or scheduler is not None:
        raise InputError([Problem("command line", "--executor", (
            f"'{executor}' is not one of {', '.join(EXECUTORS)}" if executor != "local"
            else "--scheduler needs --executor dask"))])
    if workers <= 1 or len(blocks) < 2:
        _init_worker(resolved, sweep.parameters)
        for block in blocks:
            engine = Engine(resolved, sweep.parameters)
            for vid, values in block:
                results.append(engine.run(vid, values))
                if progress:
                    progress(len(results), len(todo))
        return results
    import multiprocessing

    context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    # a Pool, not a ProcessPoolExecutor: leaving its block on Ctrl-C terminates the workers
    with context.Pool(min(workers, len(blocks)), initializer=_init_process,
                      initargs=(resolved, sweep.parameters)) as pool:
        for done in pool.imap_unordered(_run_block, blocks):
            results.extend(done)
            if progress:
                progress(len(results), len(todo))
    return sorted(results, key=lambda r: r.id)


# --- output ------------------------------------------------------------------------------------

def variants_frame(sweep: Sweep, results: Sequence[Result], priorities: Sequence[str],
                   entities: Sequence[str], levels: Sequence[str]):  # -> pd.DataFrame
    import pandas as pd

    rows = []
    for r in results:
        row: dict[str, object] = {"variant": r.id}
        row.update({p.label: v for p, v in zip(sweep.parameters, r.values, strict=True)})
        row.update({"status": r.status, "check": r.check, "warm": r.warm, "unique": r.unique})
        row.update({f"objective[{lv}]": r.objectives.get(lv, math.nan) for lv in levels})
        row.update({f"priority[{p}]": r.priorities.get(p, math.nan) for p in priorities})
        row.update({f"entity[{e}]": r.entities.get(e, math.nan) for e in entities})
        row["message"] = r.message
        rows.append(row)
    return pd.DataFrame(rows)


def summary_frame(variants, priorities: Sequence[str], entities: Sequence[str]):  # -> pd.DataFrame
    """Percentiles of each thematic priority's and each entity's total over the optimal variants."""
    import pandas as pd

    ok = variants[variants["status"] == "optimal"]
    records = []
    for kind, codes in (("priority", priorities), ("entity", entities)):
        for code in codes:
            x = ok[f"{kind}[{code}]"].to_numpy(dtype=float)
            rec: dict[str, object] = {"kind": kind, "code": code, "variants": len(x)}
            if len(x):
                rec.update({"mean": x.mean(), "min": x.min(),
                            **{f"p{q}": float(np.percentile(x, q)) for q in PERCENTILES},
                            "max": x.max()})
            records.append(rec)
    columns = ["kind", "code", "variants", "mean", "min", *(f"p{q}" for q in PERCENTILES), "max"]
    return pd.DataFrame.from_records(records, columns=columns)


def _items(value: object) -> list[tuple[str, object]]:
    return [(str(k), v) for k, v in value.items()] if isinstance(value, dict) else []


def _cover(book: Book, record: Mapping[str, object]) -> None:
    """The sweep's provenance on its first sheet: what it solved and how to make it again."""
    ws = book.sheet("about")
    bold = book.f["bold"]
    design = record.get("design")
    lines: list[tuple[str, object]] = [
        ("Scenario", f"{record['scenario']}: {record['title']}"),
        ("Model", record["model"]), ("Inputs date", record["inputs_date"]),
        ("Amounts in", record["unit"]), ("Kind", record["kind"]),
        ("Variants", record["variants"]),
        ("Statuses", ", ".join(f"{k} {v}" for k, v in _items(record["statuses"]))),
        ("alloc version", record["alloc_version"]),
    ]
    if isinstance(design, dict):
        for key, value in design.items():
            if isinstance(value, dict):
                for sub, inner in value.items():
                    lines.append((f"{key}: {sub}", json.dumps(inner, sort_keys=True)))
            else:
                lines.append((str(key), value if isinstance(value, int | float) else str(value)))
    for k, (file, digest) in enumerate(_items(record["inputs_sha256"])):
        lines.append(("Input files (sha256)" if k == 0 else "", f"{file}: {digest}"))
    t = book.top
    book.write(ws, t, 0, str(record.get("title", "")) or "alloc sweep", bold)
    book.write(ws, t + 1, 0, "What this sweep solved and how to make it again (also sweep/run.json).")
    for i, (label, value) in enumerate(lines, start=t + 3):
        book.write(ws, i, 0, label, bold)
        book.write(ws, i, 1, str(value))
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 90)


def write_workbook(path: Path, variants: pd.DataFrame, summary: pd.DataFrame, title: str,
                   unit: str, record: Mapping[str, object] | None = None,
                   names: Mapping[tuple[str, str], str] | None = None,
                   illustrative: bool = False, reference: str = "") -> None:
    """sweep.xlsx: an "about" sheet with the sweep's provenance, the summary with the names of
    the priorities and entities and a chart of the spread of each (amounts in `unit`, the
    model's), and the variants (on "variants (2)" and further sheets past a sheet's rows;
    variants.csv holds them all); printed landscape, a page wide, numbered; opened, formatted and
    written as every workbook alloc writes (`alloc.report.book`: text stays text, the same sweep
    gives the same bytes, nothing cut at the edge of a sheet)."""
    from alloc.report.book import AMOUNT, Book, Properties, created_on

    book = Book(path, Properties(title=title, created=created_on("")), illustrative=illustrative)
    bold, number = book.f["bold"], book.f["num"]
    t = book.top
    footer = f"&L{title.replace('&', '&&')}&CPage &P of &N"
    if record is not None:
        _cover(book, record)
    shown = summary.copy()
    shown.insert(2, "name", [(names or {}).get((str(k), str(c)), str(c))
                             for k, c in zip(summary["kind"], summary["code"], strict=True)])
    ws = book.sheet("summary")
    book.write(ws, t, 0, f"{title}: totals over the variants ({unit}, all funds and years)", bold)
    book.write_frame(ws, shown, row=t + 1, header=bold,
                     formats=[number if j >= 4 else None for j in range(len(shown.columns))])
    ws.set_column(0, 1, 10)
    ws.set_column(2, 2, 44)
    ws.set_column(3, len(shown.columns), 12)
    ws.repeat_rows(t + 1)
    col = len(shown.columns) + 1
    for c, head in enumerate(["median", "to p95", "below to p5"]):
        book.write(ws, t + 1, col + c, head, bold)
    at = len(shown) + 4 + t
    for kind, what in (("priority", "thematic priority"), ("entity", "entity")):
        rows = shown.index[shown["kind"] == kind].tolist()
        if not rows or shown.loc[rows, "variants"].max() <= 0:
            continue
        # helper columns: median, and the distances to p5 and p95 for the error bars
        for i in rows:
            r = shown.loc[i]
            for c, value in enumerate([r["p50"], r["p95"] - r["p50"], r["p50"] - r["p5"]]):
                book.write(ws, i + 2 + t, col + c, value, number)
        first, last = rows[0] + 2 + t, rows[-1] + 2 + t
        chart = book.add_chart({"type": "column"})
        chart.add_series({
            "name": "median (bars: 5th to 95th percentile)",
            "categories": ["summary", first, 2, last, 2],
            "values": ["summary", first, col, last, col],
            "y_error_bars": {"type": "custom",
                             "plus_values": ["summary", first, col + 1, last, col + 1],
                             "minus_values": ["summary", first, col + 2, last, col + 2]},
        })
        chart.set_title({"name": book.chart_title(f"Spread of the total per {what} over the variants")})
        chart.set_y_axis({"name": unit, "num_format": AMOUNT})
        chart.set_legend({"position": "bottom"})
        ws.insert_chart(at, 0, chart, {"x_scale": 1.6, "y_scale": 1.4})
        at += 23
    for part in book.frame_sheets("variants", variants, t, header=bold, whole="variants.csv"):
        part.ws.freeze_panes(t + 1, 1)
    book.print_setup(footer, reference)
    book.close()


def frames(plan: Plan, sweep: Sweep, results: Sequence[Result]):  # -> (variants, summary)
    """The variants and their summary as tables."""
    levels = [lv.name for lv in build(plan).levels]
    priorities = [p.code for p in plan.priorities if not p.support]
    entities = [e.code for e in plan.entities]
    variants = variants_frame(sweep, results, priorities, entities, levels)
    return variants, summary_frame(variants, priorities, entities)


def write_sweep(report: Path, sweep: Sweep, results: Sequence[Result], plan: Plan) -> list[str]:
    """`report`/sweep/: variants.csv, summary.csv, sweep.xlsx, whole or not at all.

    Moved into the scenario's report under the lock a run takes to switch that report, so a sweep
    and a run of the same scenario at the same time both keep their output.
    """
    from alloc.report.book import write_csv
    from alloc.report.folders import SWEEP, report_subfolder
    from alloc.report.write import write_json

    variants, summary = frames(plan, sweep, results)
    title = f"alloc sweep {plan.name}"
    record = sweep_record(plan, sweep, results)
    with report_subfolder(report, SWEEP_FOLDER, SWEEP) as tmp:
        write_csv(variants, tmp / "variants.csv", float_format="%.6f")
        write_csv(summary, tmp / "summary.csv", float_format="%.6f")
        names = {**{("priority", p.code): p.name for p in plan.priorities},
                 **{("entity", e.code): e.name for e in plan.entities}}
        write_workbook(tmp / "sweep.xlsx", variants, summary, title, plan.unit, record, names,
                       plan.illustrative, plan.reference or f"{plan.model}/{plan.name}")
        write_json(record, tmp / "run.json")
    return ["variants.csv", "summary.csv", "sweep.xlsx", "run.json"]


def sweep_record(plan: Plan, sweep: Sweep, results: Sequence[Result]) -> dict[str, object]:
    """sweep/run.json: what a sweep was made of, so that it can be made again from its outputs
    (the same command gives the same files): the scenario and its inputs' hashes, the kind of
    sweep and its design, the statuses, the alloc version. No timings: the same sweep gives the
    same bytes."""
    from alloc._version import __version__

    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    return {
        "scenario": plan.name, "title": plan.title, "scenario_chain": list(plan.scenario_chain),
        "model": plan.model, "unit": plan.unit, "inputs_date": plan.inputs_date,
        "kind": sweep.kind, "variants": len(sweep.variants),
        "parameters": [p.label for p in sweep.parameters],
        "design": sweep.design,
        "statuses": dict(sorted(statuses.items())),
        "unique": all(r.unique for r in results if r.status == "optimal"),
        "inputs_sha256": dict(plan.input_files),
        "overrides": [{"scenario": o.scenario, "key": o.key, "old": o.old, "new": o.new}
                      for o in plan.overrides],
        "alloc_version": __version__,
    }


class Progress:
    """A progress bar on a terminal; nothing when the output is not one."""

    def __init__(self, stream=None, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.started = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        width = 30
        filled = int(width * done / max(total, 1))
        self.stream.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total} variants "
                          f"{now - self.started:5.1f} s")
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def grid_parameters(plan: Plan, *, ceiling: Sequence[float] | None = None,
                    receipt_rate: Mapping[str, Sequence[float]] | None = None,
                    pledge: Mapping[str, Sequence[float]] | None = None,
                    target: Mapping[str, Sequence[float]] | None = None,
                    weight: Mapping[str, Sequence[float]] | None = None,
                    settings: Mapping[str, Sequence[float]] | None = None,
                    ) -> list[tuple[Parameter, list[float]]]:
    """The grid asked for, each parameter with its values, checked against the scenario."""
    out: list[tuple[Parameter, list[float]]] = []
    if ceiling is not None:
        out.append((Parameter("ceiling_factor", None), _finite(ceiling, "--ceiling")))
    funds = {f.code for f in plan.funds}
    targets = {t.code: t for t in plan.targets}
    valued = {p.code for p in plan.priorities} | {g.code for g in plan.goals}
    target_weights = {c: w for c, w in (weight or {}).items() if c in targets or c not in valued}
    for code, values in (weight or {}).items():
        if code not in target_weights:
            table = "weights" if code in {p.code for p in plan.priorities} else "goal_weights"
            label = f"{'weight' if table == 'weights' else 'goal_weight'}[{code}]"
            out.append((Parameter(label, ("rules", "objective", table, code)),
                        _finite(values, f"--weight {code}")))
    for option, asked, field_, known, what in (
        ("--receipt-rate", receipt_rate, "receipt_rate", funds, "fund"),
        ("--pledge", pledge, "pledge", funds, "fund"),
        ("--weight", target_weights, "shortfall_weight", set(targets), "target"),
        ("--target", target, None, set(targets), "target"),
    ):
        for code, values in (asked or {}).items():
            if code not in known:
                if option == "--weight":
                    raise InputError([Problem(
                        "command line", f"--weight {code}", "expected CODE=VALUES with a "
                        "thematic priority, support line or strategic goal (its weight in "
                        "[objective]) or a target (its shortfall weight) of the scenario: "
                        f"{', '.join(sorted(valued | set(targets)))}")])
                raise InputError([Problem("command line", f"{option} {code}", f"expected "
                                          f"{what.upper()}=VALUES with a {what} of the scenario: "
                                          f"{', '.join(sorted(known)) or 'none'}")])
            if what == "fund":
                path: Path_ = ("financial_plan", "funds", code, field_ or "")
                label = f"{field_}[{code}]"
            elif field_ is not None:
                path, label = ("rules", "targets", code, field_), f"{field_}[{code}]"
            else:
                key = "share" if targets[code].share is not None else "amount"
                path, label = ("rules", "targets", code, key), f"{key}[{code}]"
            out.append((Parameter(label, path), _finite(values, f"{option} {code}")))
    for key, values in (settings or {}).items():
        out.append((key_parameter(key, key), _finite(values, f"--set {key}")))
    return out


def _finite(values: Iterable[float], option: str) -> list[float]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise InputError([Problem("command line", option, f"{v!r} is not a finite number")])
        out.append(float(v))
    if not out:
        raise InputError([Problem("command line", option, "no values given")])
    return out


GRID_OPTIONS = ("receipt_rate", "pledge", "target", "weight", "set")
"""The NAME=VALUES options (besides --ceiling), as argparse names them."""
BYTES_PER_VARIANT = 5000
"""Memory a variant's result takes until the files are written: sweeps of 300 and 3000 draws of
the reference model peaked at 96 and 109 MB, 4.7 KB a variant (BENCHMARKS.md)."""


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:.0f} seconds"


def check_variant_count(count: int, limit: int, workers: int = 1, kind: str = "values") -> None:
    """Refuse, before anything is read or made, a sweep of more variants than `limit` (the
    default, or --max-variants), or than the memory can hold the results of; `kind`: what to
    give fewer of."""
    if count > limit:
        took = _duration(count * SECONDS_PER_VARIANT / max(1, workers))
        raise InputError([Problem("command line", "sweep", (
            f"the sweep has {count:,} variants, more than the limit of {limit:,}: at about "
            f"{SECONDS_PER_VARIANT * 1000:.0f} ms a variant (the reference model; larger ones take "
            f"longer) it would take about {took} on {workers} worker{'s' if workers > 1 else ''}; "
            f"sweep fewer {kind}" + (" (a larger step)" if kind == "values" else "")
            + ", or allow it with "
            f"--max-variants {count}"))])
    from alloc.model.size import MEMORY_FRACTION, available_memory, gb

    need = count * BYTES_PER_VARIANT
    available = available_memory()
    if available is not None and need > MEMORY_FRACTION * available:
        raise InputError([Problem("command line", "sweep", (
            f"the sweep has {count:,} variants, whose results would need about {gb(need)} of "
            f"memory (about {BYTES_PER_VARIANT:,} bytes each) where this process has "
            f"{gb(available)} available; sweep fewer {kind}, or split the sweep"))])


def _check_memory(resolved: Resolved, plan: Plan, sweep: Sweep, workers: int) -> None:
    """Refuse a sweep whose model, held once per worker process, would not fit in memory."""
    blocks = math.ceil(len(sweep.variants) / BLOCK)
    copies = 1 if workers <= 1 or blocks < 2 else min(workers, blocks)
    try:
        check_fits(plan)
    except ModelTooLarge as exc:
        raise InputError([Problem(resolved.source(("mandate",)).file, "", str(exc))]) from None
    try:
        check_fits(plan, copies)
    except ModelTooLarge as exc:
        raise InputError([Problem("command line", "--workers", str(exc))]) from None


def prepare(scenario: str, project: Path, *, draws: int = 0, seed: int = 1,
            spread: float | Mapping[str, float] | None = None,
            ceiling: Sequence[float] | None = None,
            receipt_rate: Mapping[str, Sequence[float]] | None = None,
            pledge: Mapping[str, Sequence[float]] | None = None,
            target: Mapping[str, Sequence[float]] | None = None,
            weight: Mapping[str, Sequence[float]] | None = None,
            settings: Mapping[str, Sequence[float]] | None = None,
            workers: int = 1, max_variants: int | None = None,
            sets: Mapping[str, Any] | None = None) -> tuple[Plan, Resolved, Sweep]:
    """The scenario (with the `--set` layer `sets` on top) and the variants asked for, every
    guard passed: Monte Carlo `draws` or a grid (every combination of the values given), not
    both."""
    limit = max_variants or DEFAULT_MAX_VARIANTS
    asked = {"ceiling": ceiling, "receipt_rate": receipt_rate, "pledge": pledge,
             "target": target, "weight": weight, "settings": settings}
    given = {k: v for k, v in asked.items() if v}
    if draws and given:
        raise InputError([Problem("command line", "--draws", "give either --draws or grid "
                                  "parameters, not both")])
    if draws < 0 or not 0 <= seed < 2**32 or workers < 1:
        raise InputError([Problem("command line", "sweep", "draws must be 0 or more, the seed "
                                  "0 to 2**32-1, workers 1 or more")])
    keyed = (receipt_rate, pledge, target, weight, settings)
    counts = [len(ceiling or ())] + [len(v) for m in keyed for v in (m or {}).values()]
    count = draws or (math.prod(c for c in counts if c) if given else 0)
    check_variant_count(count, limit, workers, "draws" if draws else "values")
    if solver_name("highs") != "highs":
        raise InputError([Problem("command line", "sweep", "a sweep needs HiGHS (highspy)")])
    resolved = resolve(scenario, project, sets)
    base = validate(resolved)
    if draws:
        unknown = sorted(set(spread) - {f.code for f in base.funds} - {"*"}
                         if isinstance(spread, Mapping) else [])
        if unknown:
            raise InputError([Problem("command line", "--spread", f"'{code}' is not a fund of the "
                                      "scenario; expected SD or FUND=SD with a fund of: "
                                      f"{', '.join(f.code for f in base.funds) or 'none'}")
                              for code in unknown])
        made = monte_carlo(base, draws, seed, dict(spread) if isinstance(spread, Mapping)
                           else spread)
    elif given:
        made = grid(grid_parameters(base, ceiling=ceiling, receipt_rate=receipt_rate,
                                    pledge=pledge, target=target, weight=weight,
                                    settings=settings))
    else:
        raise InputError([Problem("command line", "sweep", "nothing to sweep: give --draws N or "
                                  "grid parameters (--ceiling, --receipt-rate, --pledge, --target, "
                                  "--weight, --set)")])
    _check_memory(resolved, base, made, workers)
    return base, resolved, made


def spread_option(items: Iterable[str] | None) -> dict[str, float] | float | None:
    """The --spread options: None when not given, so each fund's stated spread applies."""
    spread: dict[str, float] = {}
    default: float | None = None
    for item in items or []:
        code, sep, text = item.partition("=")
        try:
            if sep:
                spread[code] = float(text)
            else:
                default = float(code)
        except ValueError:
            raise InputError([Problem("command line", item, "expected SD or FUND=SD")]) from None
    if spread and default is not None:
        return {"*": default, **spread}
    return spread or default

