"""What each page shows, as plain values for the templates: taken from the Python API
(`alloc.api`) and the report's table functions (`alloc.report.tables`), never computed here.

The served app (`alloc.web.app`) and the static site (`alloc.web.publish`) both render these; a
`Links` object says how a page points to another (URLs for the server, relative file names for
the static site).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar, cast

from markupsafe import Markup

from alloc import api
from alloc.errors import InputError, Problem
from alloc.model.domain import Plan
from alloc.web.charts import bars

DOWNLOADS = ("appendix-a.xlsx", "appendix-a.md", "allocation.csv", "constraints.csv", "run.json",
             "flexibility.csv", "ranging.csv")
"""The files of a run's report a page links to (with tables/*.csv)."""
FUNDS_VIEWS = {"all": "All funds", "regular": "Regular budget"}
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
"""Names the web view writes a scenario under: letters, digits, '-' and '_' (the safe ones)."""
T = TypeVar("T")


def scenario_names(project: Path) -> list[str]:
    """The scenarios of the project (scenarios/*.toml), the only names a URL may name."""
    folder = project / "scenarios"
    return sorted(p.stem for p in folder.glob("*.toml") if p.is_file()) if folder.is_dir() else []


def known(name: str, project: Path) -> str:
    """`name` if it is a scenario of the project; else an InputError (no path is ever built from
    a name that is not in the list)."""
    names = scenario_names(project)
    if name not in names:
        raise InputError([Problem("scenarios", name, "no such scenario in the project")])
    return name


class Links:
    """How pages link: to the server's URLs (subclass for static files)."""

    static_prefix = "/static/"

    def index(self) -> str:
        return "/"

    def scenario(self, name: str, funds: str = "all", period: str = "all") -> str:
        query = "&".join(f"{k}={v}" for k, v in (("funds", funds), ("period", period))
                         if v != "all")
        return f"/scenario/{name}" + (f"?{query}" if query else "")

    def compare(self, names: Sequence[str]) -> str:
        return "/compare?" + "&".join(f"s={n}" for n in names)

    def whatif(self, name: str) -> str | None:
        return f"/whatif/{name}"

    def download(self, name: str, file: str) -> str | None:
        return f"/reports/{name}/{file}"

    def static(self, file: str) -> str:
        return self.static_prefix + file


# --- the scenarios list ------------------------------------------------------------------------

@dataclass
class ScenarioRow:
    name: str
    title: str
    description: str
    parent: str
    model: str
    status: str
    when: str
    error: str = ""


def last_run(report: Path) -> tuple[str, str]:
    """Status and time of the last run written in reports/<name>/ ('' when none)."""
    record = report / "run.json"
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        when = dt.datetime.fromtimestamp(record.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    except (OSError, ValueError):
        return "", ""
    status = data.get("status") if isinstance(data, dict) else None
    return (str(status) if status else "unknown"), when


def scenario_rows(project: Path, reports: Path) -> list[ScenarioRow]:
    """Every scenario with its title, question, parent, model and last run; one that does not
    load says why (the same message as `alloc check`)."""
    import tomllib

    rows = []
    for name in scenario_names(project):
        status, when = last_run(reports / name)
        try:
            meta = tomllib.loads((project / "scenarios" / f"{name}.toml").read_text(encoding="utf-8"))
            head = meta.get("scenario", {}) if isinstance(meta, dict) else {}
            plan = api.load(name, project)
            rows.append(ScenarioRow(name, plan.title, str(head.get("description", "")),
                                    str(head.get("parent", "")), plan.model, status, when))
        except (InputError, OSError, ValueError) as exc:
            rows.append(ScenarioRow(name, name, "", "", "", status, when, error=str(exc)))
    return rows


# --- one scenario ------------------------------------------------------------------------------

@dataclass
class Cell:
    text: str
    kind: str = "value"   # value, group, total, share, label
    sort: float | str = ""


@dataclass
class TableView:
    id: str
    title: str
    unit: str
    source: str
    notes: list[str]
    header: list[Cell]
    rows: list[list[Cell]]
    total: list[Cell]


def _fmt(x: float) -> str:
    return f"{round(x) + 0:,.0f}"


def table_view(table: Any) -> TableView:
    """A report table laid out as the workbook shows it: names, not codes; biennium subtotals."""
    frame = table.rounded
    cols = table.display_columns()
    header = [Cell(table.row_title, "label")] + [Cell(table.name(label), kind) for kind, label, _ in cols]

    def line(row: str) -> list[Cell]:
        cells = [Cell(table.name(row) if row != "Total" else table.total_name, "label", row)]
        for kind, label, members in cols:
            if kind == "group":
                v = float(sum(frame.at[row, m] for m in members))
            else:
                v = float(frame.at[row, label])
            text = f"{v:.1f}" if kind == "share" else _fmt(v)
            cells.append(Cell(text, kind, v))
        return cells

    return TableView(table.id, table.title, table.unit, table.source,
                     ([table.method] if table.method else []) + list(table.notes),
                     header, [line(r) for r in table.rows], line("Total"))


def periods(plan: Plan) -> dict[str, str]:
    """The periods a view can show: the whole plan, each biennium, each year."""
    out = {"all": f"Whole period {plan.years[0]}-{plan.years[-1]}"}
    out.update({label: f"Biennium {label}" for label in plan.biennia})
    out.update({str(y): str(y) for y in plan.years})
    return out


def view_tables(result: api.Result, funds: str, period: str, appendix: Any = None) -> list[Any]:
    """The Appendix A tables of a view, the very figures of the Council workbook: as `alloc run`
    writes them for all funds over the whole period (with the reconciliation); else that view of
    each table (the entity-by-year table only for the whole period, the fund table only for all
    funds)."""
    if funds == "all" and period == "all":
        return list(result._tables)
    plan = result.plan
    label = f"{plan.years[0]}-{plan.years[-1]}" if period == "all" else period
    made = appendix if appendix is not None else result.appendix
    if made is None:            # no optimal allocation, no tables
        return []
    return [t for t in made.views if t.funds == funds and t.period == label]


def charts(tables: Sequence[Any], unit: str) -> list[Markup]:
    """Bar charts of the totals by thematic priority, entity, goal and year."""
    by_id = {t.id: t for t in tables}
    out = []
    for table_id, title in (("a1-priority-entity", "By thematic priority and support line"),
                            ("a2-goal-entity", "By strategic goal")):
        if table_id in by_id:
            tb = by_id[table_id]
            out.append(bars(title, [(tb.name(r), float(tb.rounded.at[r, "Total"])) for r in tb.rows],
                            unit))
    if "a1-priority-entity" in by_id:
        tb = by_id["a1-priority-entity"]
        out.append(bars("By entity", [(tb.name(c), float(tb.rounded.at["Total", c]))
                                      for c in tb.value_columns], unit))
    if "a4-entity-year" in by_id:
        tb = by_id["a4-entity-year"]
        out.append(bars("By year", [(c, float(tb.rounded.at["Total", c]))
                                    for c in tb.value_columns], unit))
    return out


@dataclass
class ScenarioPage:
    name: str
    plan: Plan
    result: api.Result
    funds: str
    period: str
    tables: list[TableView]
    charts: list[Markup]
    summary: list[list[str]] = field(default_factory=list)
    objective: list[str] = field(default_factory=list)
    binding: list[dict[str, str]] = field(default_factory=list)
    binding_note: str = ""
    reductions: list[list[str]] = field(default_factory=list)
    reductions_total: int = 0
    lines: list[str] = field(default_factory=list)
    provenance: list[tuple[str, str]] = field(default_factory=list)
    overrides: list[tuple[str, str, str, str]] = field(default_factory=list)
    inputs: list[tuple[str, str]] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    last_status: str = ""
    last_when: str = ""


def _value(value: object) -> str:
    if value is None:
        return "(none)"
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def scenario_page(result: api.Result, funds: str, period: str, reports: Path,
                  appendix: Any = None) -> ScenarioPage:
    """Everything the scenario page shows, for one view (funds x period); `appendix` is the
    scenario's `appendix_views` when the caller keeps it (computed here otherwise)."""
    plan = result.plan
    if funds not in FUNDS_VIEWS:
        raise InputError([Problem("page", "funds", f"'{funds}' is not one of all, regular")])
    if period not in periods(plan):
        raise InputError([Problem("page", "period", f"'{period}' is not one of "
                                  + ", ".join(periods(plan)))])
    page = ScenarioPage(plan.name, plan, result, funds, period, [], [])
    page.last_status, page.last_when = last_run(reports / plan.name)
    page.downloads = report_files(reports / plan.name)
    page.provenance = [("Scenario", plan.name), ("Title", plan.title),
                       ("Scenario chain", " <- ".join(plan.scenario_chain)), ("Model", plan.model),
                       ("Inputs of", plan.inputs_date), ("Unit", plan.unit),
                       ("Status", f"{result.status} ({result.solution.solver})")]
    page.overrides = [(o.scenario, o.key, _value(o.old), _value(o.new)) for o in plan.overrides]
    page.inputs = sorted(plan.input_files.items())
    page.lines = list(result.lines)
    if not result.optimal:
        page.lines = page.lines or [result.message]
        return page
    from alloc.report.requirements import objective_lines
    from alloc.report.tables import summarize

    tables = view_tables(result, funds, period, appendix)
    page.tables = [table_view(t) for t in tables]
    page.charts = charts(tables, plan.unit)
    summary = summarize(result.solution, result._tables, result.support_costs)
    page.summary = [[y.label, _fmt(y.ceiling), _fmt(y.regular), _fmt(y.extrabudgetary),
                     _fmt(y.balance)] for y in summary.years]
    page.objective = objective_lines(result.solution)
    if result.explanation is not None:
        from alloc.explain.report import binding_first, short_source

        table = binding_first(result.explanation.table)
        table = table[(table["rule"] != "requirement") & table["binding"]]
        page.binding = [{"name": str(r.name), "source": short_source(str(r.source)),
                         "sentence": str(r.sentence)} for r in table.itertuples(index=False)]
        page.binding_note = result.explanation.note
    if result.reductions is not None:
        frame = result.reductions.frame
        page.reductions_total = len(frame)
        page.reductions = [
            [str(r["direction"]), str(r["option"]), str(r["entity_name"]), str(r["priority_name"]),
             str(r["output_name"]), str(r["year"]), _fmt(float(r["amount"])),
             f"{float(r['value_per_unit']):.3f}", _fmt(float(r["cumulative"]))]
            for r in frame.head(40).to_dict("records")]
    return page


def report_files(report: Path) -> list[str]:
    """The report files present in reports/<name>/ that a page may link to."""
    if not (report / "run.json").is_file():
        return []
    files = [f for f in DOWNLOADS if (report / f).is_file()]
    tables = report / "tables"
    if tables.is_dir():
        files += sorted(f"tables/{p.name}" for p in tables.glob("*.csv") if p.is_file())
    return files


class Once:
    """Values computed once per key and kept (the `limit` most recently used): a caller asking
    for a key that another thread is computing waits for that computation instead of starting
    its own, so twenty users opening a scenario at once cost one solve. A failure is not kept:
    every waiter gets the exception, and the next caller tries again."""

    def __init__(self, limit: int = 64):
        self.limit = limit
        self.lock = threading.Lock()
        self.done: OrderedDict[Hashable, Any] = OrderedDict()
        self.running: dict[Hashable, Future[Any]] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self.lock:
            if key in self.done:
                self.done.move_to_end(key)
                return cast(T, self.done[key])
            future = self.running.get(key)
            owner = future is None
            if future is None:
                future = self.running[key] = Future()
        if not owner:
            return cast(T, future.result())
        try:
            value = compute()
        except BaseException as exc:
            with self.lock:
                del self.running[key]
            future.set_exception(exc)
            raise
        with self.lock:
            self.done[key] = value
            while len(self.done) > self.limit:
                self.done.popitem(last=False)
            del self.running[key]
        future.set_result(value)
        return value


def folder_state(*folders: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, modification time and size of every file under the folders: what the scenario list
    is keyed by (a file added, removed, written or touched changes it)."""
    out = []
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                try:
                    st = path.stat()
                except OSError:
                    continue
                if path.is_file():
                    out.append((path.as_posix(), st.st_mtime_ns, st.st_size))
    return tuple(out)


def files_unchanged(project: Path, files: Mapping[str, str]) -> bool:
    """Whether every input file of a plan still has the sha256 it was loaded with, and its
    folder the same files (a file the model may read could have appeared)."""
    import hashlib

    for rel, digest in files.items():
        try:
            data = (project / rel).read_bytes()
        except OSError:
            return False
        if hashlib.sha256(data).hexdigest() != digest:
            return False
    return True


PlanKey = tuple[str, tuple[tuple[str, str], ...]]


@dataclass
class Solved:
    """A scenario solved (with the reduction options) and every view of its tables."""
    result: api.Result
    appendix: Any


def solve_scenario(plan: Plan) -> Solved:
    """The solve behind a scenario's pages, with the tables of every view made once (run in a
    worker process by `alloc serve`: what it returns is pickled)."""
    result = api.solve(plan)
    appendix = result.appendix
    result._tables  # noqa: B018 (made here, in the worker, and sent along)
    return Solved(result, appendix)


class Cache:
    """What the pages show, kept while the input files are unchanged: a solved scenario keyed by
    its input files' sha256 (computed once, concurrent requests waiting on that one solve), each
    view of its page, its resolved scenario, comparisons, and the scenario list (keyed by the
    names, times and sizes of the files under scenarios/ and models/)."""

    def __init__(self, project: Path, run: Callable[[Callable[..., Any], tuple[Any, ...]], Any]
                 | None = None):
        self.project = project
        self.run = run if run is not None else (lambda fn, args: fn(*args))
        """How a solve is run: here, or in a worker process (`alloc serve`)."""
        self.lock = threading.Lock()
        self.plans: dict[str, tuple[Plan, tuple[str, ...]]] = {}
        self.results: Once = Once(32)
        self.pages: Once = Once(256)
        self.resolved: Once = Once(32)
        self.comparisons: Once = Once(16)
        self.lists: Once = Once(2)

    def plan(self, name: str) -> tuple[PlanKey, Plan]:
        """The scenario loaded and validated, and its key: reused while its input files hash the
        same (and their folders hold the same names); else loaded again."""
        with self.lock:
            known = self.plans.get(name)
        if known is not None:
            plan, listing = known
            if listing == _listing(self.project, plan) and files_unchanged(self.project, plan.input_files):
                return (name, tuple(sorted(plan.input_files.items()))), plan
        plan = api.load(name, self.project)
        with self.lock:
            self.plans[name] = (plan, _listing(self.project, plan))
        return (name, tuple(sorted(plan.input_files.items()))), plan

    def result(self, name: str) -> api.Result:
        return self.solved(name)[1].result

    def solved(self, name: str) -> tuple[PlanKey, Solved]:
        key, plan = self.plan(name)
        return key, cast(Solved, self.results.get(key, lambda: self.run(solve_scenario, (plan,))))

    def page(self, name: str, funds: str, period: str, reports: Path) -> ScenarioPage:
        """One view of a scenario's page (the last run's status and files read afresh)."""
        return self.keyed_page(name, funds, period, reports)[1]

    def keyed_page(self, name: str, funds: str, period: str, reports: Path
                   ) -> tuple[Hashable, ScenarioPage]:
        """The page and a key that changes whenever what it shows does."""
        key, solved = self.solved(name)

        def make() -> ScenarioPage:
            return scenario_page(solved.result, funds, period, reports, solved.appendix)

        page = cast(ScenarioPage, self.pages.get((key, funds, period), make))
        status, when = last_run(reports / name)
        page = replace(page, last_status=status, last_when=when,
                       downloads=report_files(reports / name))
        return (key, funds, period, status, when, tuple(page.downloads)), page

    def resolve(self, name: str) -> Any:
        """The scenario's resolved document (what a what-if changes), with its key."""
        from alloc.model.scenario import resolve

        key, _ = self.plan(name)
        return self.resolved.get(key, lambda: resolve(name, self.project))

    def comparison(self, names: Sequence[str]) -> Any:
        return self.keyed_comparison(names)[1]

    def keyed_comparison(self, names: Sequence[str]) -> tuple[Hashable, Any]:
        key = tuple(self.plan(n)[0] for n in names)
        return key, self.comparisons.get(
            key, lambda: self.run(api.compare, (list(names), self.project)))

    def scenario_rows(self, reports: Path) -> list[ScenarioRow]:
        """The scenario list, computed again only when a file under scenarios/ or models/
        changes; the last run of each read afresh."""
        state = folder_state(self.project / "scenarios", self.project / "models")
        rows = cast(list[ScenarioRow], self.lists.get(state, lambda: scenario_rows(
            self.project, reports)))
        out = []
        for row in rows:
            status, when = last_run(reports / row.name)
            out.append(replace(row, status=status, when=when))
        return out


def _listing(project: Path, plan: Plan) -> tuple[str, ...]:
    folders = sorted({(project / rel).parent for rel in plan.input_files})
    names: list[str] = []
    for folder in folders:
        try:
            names += sorted(f"{folder.name}/{n}" for n in os.listdir(folder))
        except OSError:
            names.append(f"{folder.name}/?")
    return tuple(names)


# --- compare -----------------------------------------------------------------------------------

@dataclass
class CompareTable:
    id: str
    title: str
    header: list[str]
    rows: list[list[Cell]]


@dataclass
class ComparePage:
    names: list[str]
    titles: list[str]
    unit: str
    failed: list[str]
    tables: list[CompareTable]
    charts: list[Markup]
    inputs: list[list[str]]
    attribution: list[list[str]]
    illustrative: bool = False
    """Whether a compared model says its figures are illustrative (the page then says so)."""


def compare_page(comparison: Any) -> ComparePage:
    """Each table's totals side by side with the differences and %, the inputs that differ and
    the attribution, as `alloc compare` computes them."""
    from alloc.compare.core import totals_side_by_side

    names = comparison.names
    first = comparison.scenarios[0]
    unit = first.plan.unit
    failed = [f"{s.name} is {s.solution.status}: {s.solution.message}"
              for s in comparison.scenarios if not s.solution.optimal]
    page = ComparePage(names, [s.plan.title for s in comparison.scenarios], unit, failed, [], [],
                       [], [], any(s.plan.illustrative for s in comparison.scenarios))
    if failed:
        return page
    for table_id, table in first.tables.items():
        if table_id == "reconciliation":
            continue
        totals = totals_side_by_side(comparison, table_id)
        header = ["", *names, *(h for n in names[1:] for h in (f"difference {n}", f"% {n}"))]
        rows = []
        for code, row in totals.iterrows():
            cells = [Cell(table.name(str(code)), "label", str(code))]
            cells += [Cell(_fmt(float(row[n])), "value", float(row[n])) for n in names]
            for n in names[1:]:
                d = float(row[f"diff_{n}"])
                pct = row[f"pct_{n}"]
                cells.append(Cell(f"{d:+,.0f}" if d else "0", "diff-neg" if d < 0 else
                                  "diff-pos" if d > 0 else "value", d))
                cells.append(Cell("" if pct != pct else f"{float(pct):+.1f}%", "value",
                                  "" if pct != pct else float(pct)))
            rows.append(cells)
        page.tables.append(CompareTable(table_id, table.title.split(",")[0] + " (totals)", header, rows))
    a1 = first.tables.get("a1-priority-entity")
    if a1 is not None:
        totals = totals_side_by_side(comparison, "a1-priority-entity")
        for n in names[1:]:
            page.charts.append(bars(f"Difference {n} - {names[0]} by thematic priority",
                                    [(a1.name(str(c)), float(totals[f"diff_{n}"].loc[c]))
                                     for c in totals.index if c != "Total"], unit))
    page.inputs = [[str(v) for v in r] for r in comparison.inputs.astype(str).itertuples(index=False)]
    page.inputs.insert(0, [str(c) for c in comparison.inputs.columns])
    att = comparison.attribution
    if len(att):
        page.attribution = [[str(c) for c in att.columns]] + [
            [f"{v:,.1f}" if isinstance(v, float) else str(v) for v in r]
            for r in att.itertuples(index=False)]
    return page


# --- what-if -----------------------------------------------------------------------------------

@dataclass
class Control:
    key: str
    """The form field: 'ceiling', 'cut', 'receipt_rate.FUND', 'goal_weight.G', 'weight.P'."""
    label: str
    value: float
    low: float
    high: float
    step: float


def controls(result: api.Result, doc: Mapping[str, Any]) -> list[Control]:
    """The assumptions a what-if changes, at the scenario's values."""
    plan = result.plan
    growth = doc.get("financial_plan", {}).get("growth", {})
    out = [Control("ceiling", "Factor on the ceiling (every revenue line)", 1.0, 0.5, 1.5, 0.01),
           Control("cut", "Cut of revenue (share, e.g. 0.05)",
                   float(growth.get("cut", 0.0) or 0.0), 0.0, 0.5, 0.005)]
    out += [Control(f"receipt_rate.{f.code}", f"Receipt rate: {f.name}", f.receipt_rate, 0.0, 1.0,
                    0.01) for f in plan.funds]
    objective = doc.get("rules", {}).get("objective", {})
    for table, what in (("goal_weights", "goal_weight"), ("weights", "weight")):
        for code, value in (objective.get(table) or {}).items():
            names = {x.code: x.name for x in plan.goals} | {x.code: x.name for x in plan.priorities}
            name = names.get(code, code)
            if isinstance(value, int | float):
                out.append(Control(f"{what}.{code}", f"Weight: {name} ({code})", float(value),
                                   0.0, 10.0, 0.01))
    return out


def edited_overrides(resolved: Any, form: Mapping[str, str], known_controls: Sequence[Control]
                     ) -> dict[str, Any]:
    """The scenario keys a what-if changes (only those that differ from the scenario), as a
    scenario file would write them. Values are checked to be numbers here; their ranges are
    checked by the validation of the scenario built from them, with its messages."""
    from alloc.compare.core import _leaves
    from alloc.sweep.core import Parameter

    doc = copy.deepcopy(resolved.doc)
    problems = []
    for c in known_controls:
        text = form.get(c.key, "").strip()
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            problems.append(Problem("what-if", c.label, f"'{text}' is not a number"))
            continue
        if value != value or value in (float("inf"), float("-inf")):
            problems.append(Problem("what-if", c.label, f"'{text}' is not a finite number"))
            continue
        if abs(value - c.value) < 1e-12:
            continue
        kind, _, code = c.key.partition(".")
        if kind == "ceiling":
            Parameter("ceiling", None).apply(doc, value)
        elif kind == "cut":
            doc.setdefault("financial_plan", {}).setdefault("growth", {})["cut"] = value
        elif kind == "receipt_rate":
            doc["financial_plan"]["funds"][code]["receipt_rate"] = value
        else:
            table = "goal_weights" if kind == "goal_weight" else "weights"
            doc["rules"]["objective"][table][code] = value
    if problems:
        raise InputError(problems)
    before, after = _leaves(resolved.doc), _leaves(doc)
    changed: dict[str, Any] = {}
    missing = object()
    for path, new in after.items():
        if before.get(path, missing) != new:
            node: dict[str, Any] = changed
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = new
    return changed


def scenario_text(parent: str, title: str, overrides: Mapping[str, Any]) -> str:
    """A scenario file: the parent and only the keys changed."""
    import tomli_w

    return ("# Written by the what-if of `alloc serve`: only the keys changed from the parent.\n"
            + tomli_w.dumps({"scenario": {"parent": parent, "title": title}, **overrides}))


@dataclass
class WhatIfOutcome:
    status: str
    lines: list[str]
    rows: list[list[Cell]]
    header: list[str]
    overrides: str
    seconds: float = 0.0


@dataclass
class WhatIfSolved:
    """What a worker sends back from a what-if: plain values (it crosses a process boundary)."""
    status: str
    lines: list[str]
    overrides: str
    seconds: float = 0.0
    figures: dict[str, float] = field(default_factory=dict)
    """The totals of table A1 by thematic priority or support line, by entity, and "Total"."""


def a1_totals(table: Any) -> dict[str, float]:
    """The row and column totals of table A1 (rounded as the report rounds them), by code."""
    from alloc.report.tables import TOTAL

    out = {f"row:{r}": float(table.rounded.at[r, TOTAL]) for r in table.rows}
    out.update({f"col:{c}": float(table.rounded.at[TOTAL, c]) for c in table.value_columns})
    out[TOTAL] = float(table.rounded.at[TOTAL, TOTAL])
    return out


def whatif_rows(base: api.Result, figures: Mapping[str, float]) -> tuple[list[str], list[list[Cell]]]:
    """Totals by thematic priority and entity (A1), the scenario against the what-if."""
    from alloc.report.tables import TOTAL

    a = {t.id: t for t in base._tables}["a1-priority-entity"]
    before = a1_totals(a)
    rows = []
    for key, label in ([(f"row:{r}", r) for r in a.rows] + [(f"col:{c}", c) for c in a.value_columns]
                       + [(TOTAL, TOTAL)]):
        x, y = before[key], figures.get(key, 0.0)
        d = y - x
        pct = f"{d / abs(x) * 100:+.1f}%" if x else ""
        rows.append([Cell(a.name(label), "label", label), Cell(_fmt(x), "value", x),
                     Cell(_fmt(y), "value", y),
                     Cell(f"{d:+,.0f}" if round(d) else "0",
                          "diff-neg" if round(d) < 0 else "diff-pos" if round(d) > 0 else "value", d),
                     Cell(pct, "value", pct)])
    return ["Thematic priority, support line or entity", base.plan.name, "what-if", "difference",
            "%"], rows


def solve_whatif(project: Path, name: str, overrides: Mapping[str, Any], time_limit: float,
                 scratch: Path) -> WhatIfSolved:
    """Solve the scenario with the changed keys, written as a scenario file whose parent is the
    scenario, so that it is validated exactly as a file would be, with the same messages. Runs in
    a worker process (`alloc.web.workers`): takes and returns plain values.

    An optimal what-if needs only its allocation (`api.solve` without prices: build, solve and
    the independent check): not the explanation's prices, a third of its time. An infeasible
    one comes with the diagnosis, in the words of `alloc run`."""
    import tempfile
    import time

    from alloc.report.tables import priority_entity

    text = scenario_text(name, f"What-if on {name}", overrides)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        path = Path(tmp) / "what-if.toml"
        path.write_text(text, encoding="utf-8", newline="\n")
        try:
            plan = api.load(path, project)
        except InputError as exc:  # named as the form, not as the scratch file it was put in
            lines = [line.replace(path.as_posix(), "what-if").replace(str(path), "what-if")
                     for line in str(exc).split("\n")]
            return WhatIfSolved("invalid", lines, text)
    result = api.solve(plan, time_limit=time_limit, reductions=False, prices=False)
    if result.optimal:
        figures = a1_totals(priority_entity(result.solution, result.support_costs))
        return WhatIfSolved("optimal", [], text, time.perf_counter() - started, figures)
    return WhatIfSolved(result.status, result.lines or [result.message], text,
                        time.perf_counter() - started)


def whatif_outcome(base: api.Result, solved: WhatIfSolved) -> WhatIfOutcome:
    """The what-if page's result: the worker's answer laid out against the scenario."""
    if solved.status != "optimal":
        return WhatIfOutcome(solved.status, solved.lines, [], [], solved.overrides, solved.seconds)
    header, rows = whatif_rows(base, solved.figures)
    return WhatIfOutcome("optimal", [], rows, header, solved.overrides, solved.seconds)


def save_scenario(project: Path, name: str, text: str) -> Path:
    """Write scenarios/NAME.toml whole (temp then rename), refusing an unsafe or taken name."""
    import os
    import tempfile

    from alloc.model.scenario import check_report_name

    reason = check_report_name(name)
    if not SAFE_NAME.match(name) or reason is not None:
        raise InputError([Problem("what-if", "name", f"'{name}' "
                                  + (reason or "may hold only letters, digits, '-' and '_'")
                                  + "; a scenario's name becomes scenarios/NAME.toml")])
    folder = project / "scenarios"
    target = folder / f"{name}.toml"
    if target.exists() or target.is_symlink():
        raise InputError([Problem("what-if", "name", f"scenarios/{name}.toml exists already; "
                                  "choose another name")])
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.link(tmp, target)      # fails if the name was taken meanwhile: no save is lost
    finally:
        os.unlink(tmp)
    return target


Render = Callable[[str, dict[str, Any]], str]
