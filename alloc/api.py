"""alloc's Python API: what the command line, notebooks and the web view call.

    import alloc

    plan = alloc.load("baseline", project="path/to/project")   # files -> validated Plan
    result = alloc.solve(plan)                                  # Plan -> Result
    result.tables["a1-priority-entity"]                         # Appendix A tables (DataFrames)
    alloc.write(result)                                         # reports/baseline/, whole

Every function takes plain values (names, paths, numbers, lists and dicts), raises
`InputError` for bad input (every problem at once, each naming file and field) and returns
results that hold pandas DataFrames. An infeasible plan is not an error: its `Result` says so, with
the diagnosis in the user's words. The stages stay apart: `alloc.model` (files -> Plan),
`alloc.lp` (Plan -> Solution), `alloc.explain`, `alloc.report` (Solution -> tables -> files).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alloc.errors import InputError, ModelTooLarge, Problem, SheetTooLarge, SolveError
from alloc.model.domain import Plan

if TYPE_CHECKING:
    import pandas as pd

    from alloc.compare.core import Comparison
    from alloc.explain import Explanation
    from alloc.explain.reductions import ReductionOptions
    from alloc.lp.build import LinearProgram
    from alloc.lp.solution import Solution
    from alloc.report.tables import Appendix
    from alloc.sweep.core import Result as VariantResult
    from alloc.sweep.core import Sweep

__all__ = [
    "SUPPORT_COSTS", "Comparison", "InputError", "ModelTooLarge", "Problem", "Result",
    "SheetTooLarge", "SolveError", "SweepResult", "Written", "compare", "explain", "load",
    "reports_folder", "run", "solve", "sweep", "write", "write_comparison", "write_sweep",
]

SUPPORT_COSTS = ("rows", "direct", "step-down", "reciprocal")
"""How Appendix A shows support lines: as their own rows, or distributed over the thematic
priorities by a cost-accounting method."""
SOLVERS = ("highs", "cbc")


# --- files -> plan -----------------------------------------------------------------------------

def load(scenario: str | Path, project: str | Path = ".", sets: Mapping[str, Any] | None = None
         ) -> Plan:
    """A scenario (a name in `PROJECT/scenarios/` or a scenario file's path), resolved with its
    parents and model and validated as a whole. `sets` (dotted key -> value, as `--set` gives
    them, e.g. {"financial_plan.growth.rule": "zero_nominal"}) is one more override layer on top;
    its overrides are recorded as the scenario "--set"."""
    from alloc.model.load import load_plan

    return load_plan(str(scenario), Path(project), sets)


# --- plan -> result ------------------------------------------------------------------------------

@dataclass
class Result:
    """A solved plan: the solution, its explanation or diagnosis, and the Appendix A tables."""

    plan: Plan
    solution: Solution
    support_costs: str = "rows"
    explanation: Explanation | None = None
    """Prices and the rules at the optimum; with `explain`, ranging and room for manoeuvre."""
    infeasibility: dict[str, Any] | None = None
    """The diagnosis of an infeasible plan, as infeasibility.json records it."""
    lines: list[str] = field(default_factory=list)
    """What the run says in words beyond its figures: the explanation, or the conflicts."""
    seconds: dict[str, float] = field(default_factory=dict)
    reductions: ReductionOptions | None = None
    """Options for reducing expenses and what more money buys (optimal solutions; `frame`,
    `blocks`, `notes`), written as tables/reduction-options.csv."""

    @property
    def status(self) -> str:
        return self.solution.status

    @property
    def optimal(self) -> bool:
        return self.solution.optimal

    @property
    def message(self) -> str:
        return self.solution.message

    @property
    def allocation(self) -> pd.DataFrame:
        """entity, priority, output, year, fund, amount: one row per non-zero cell."""
        return self.solution.allocation

    @cached_property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every Appendix A table by its id, in whole units, rounded so that rows and columns
        add up (empty for a plan without an optimal allocation)."""
        return {t.id: t.rounded for t in self._tables}

    @cached_property
    def unrounded_tables(self) -> dict[str, pd.DataFrame]:
        """The same tables as computed, before rounding."""
        return {t.id: t.values for t in self._tables}

    @cached_property
    def appendix(self) -> Appendix | None:
        """Everything the Council workbook shows (every view of the tables, the financial plan,
        the previous period), from one rounding; None without an optimal allocation. Made once:
        the report, the terminal and the web view read the same figures."""
        if not self.optimal:
            return None
        from alloc.report.tables import appendix_views

        return appendix_views(self.solution, self.support_costs)

    @cached_property
    def _tables(self) -> list[Any]:
        if not self.optimal:
            return []
        if "appendix" in self.__dict__ and self.appendix is not None:   # made already
            return list(self.appendix.tables)
        from alloc.report.tables import appendix_a

        return list(appendix_a(self.solution, self.support_costs))


def solve(plan: Plan, *, solver: str = "highs", time_limit: float | None = None,
          support_costs: str = "rows", explain: bool = False, cell: str | None = None,
          tolerance: float = 0.01, reductions: bool | str = "auto", prices: bool = True
          ) -> Result:
    """Build the plan's linear program, solve it and check the answer independently.

    An optimal answer comes with its rules and shadow prices; with `explain`, also the ranges of
    the ceilings and targets and each priority's room for manoeuvre (`tolerance`, a fraction of
    the optimum), and with `cell` ("ENTITY/PRIORITY/OUTPUT") what determines that cell. An
    infeasible plan comes with the rules that conflict, in the user's words. A model too large for
    this machine's memory gives status "too_large". With `reductions` (the default), an optimal
    answer comes with the options for reducing expenses and what more money buys: with "auto" (the
default) for a model up to a size (`alloc.explain.reductions.LISTED_COLUMNS`, beyond it their
notes say how to ask), with True whatever the size, with False none (their notes say so). Without
    `prices`, an optimal answer is the checked allocation alone (what a what-if shows): no rules,
    prices or options.
    """
    _check_choice(solver, SOLVERS, "solver")
    _check_choice(support_costs, SUPPORT_COSTS, "support_costs")
    if not isinstance(reductions, bool):
        _check_choice(reductions, ("auto",), "reductions")
    if cell is not None:
        _check_cell(plan, cell)
    from alloc.lp.build import build
    from alloc.lp.solution import Solution
    from alloc.lp.solve import SolveOptions
    from alloc.lp.solve import solve as solve_program

    seconds: dict[str, float] = {}
    t = time.perf_counter()
    try:
        program = build(plan)
    except ModelTooLarge as exc:
        return Result(plan, Solution(plan, "too_large", "-", message=str(exc)), support_costs,
                      seconds=seconds)
    seconds["build"] = time.perf_counter() - t
    t = time.perf_counter()
    options = SolveOptions(solver, time_limit)
    views: list[Appendix] = []
    phrases: dict[int, str] = {}

    def meanwhile(solved: Solution) -> None:   # while the prices are still being solved for
        from alloc.explain.prices import rule_phrases
        from alloc.report.tables import appendix_views

        views.append(appendix_views(solved, support_costs))
        if solved.constraints is not None:
            phrases.update(rule_phrases(program, solved.constraints))

    solution = solve_program(program, options, meanwhile=meanwhile)
    seconds["solve_and_check"] = time.perf_counter() - t
    t = time.perf_counter()
    result = Result(plan, solution, support_costs, seconds=seconds)
    if views:
        result.__dict__["appendix"] = views[0]      # the cached `Result.appendix`, made already
    if solution.optimal and not prices:
        return result
    _explain(result, program, options, explain, tolerance, cell, phrases)
    seconds["explain"] = time.perf_counter() - t
    if solution.optimal:
        t = time.perf_counter()
        result.reductions = _reductions(program, solution, options, reductions)
        seconds["reductions"] = time.perf_counter() - t
    return result


def _reductions(program: LinearProgram, solution: Solution, options: Any, asked: bool | str
                ) -> ReductionOptions:
    """The options along the ceiling; a solver failure on the way is said in their notes."""
    from alloc.explain.reductions import ReductionOptions, reduction_options

    if asked is False:
        return ReductionOptions(solution.plan, computed=False, notes=[
            "Not computed in this run: it was asked not to (--reduction-options no)."])
    try:
        return reduction_options(program, solution, options, asked is True)
    except SolveError as exc:
        return ReductionOptions(solution.plan, notes=[f"No options this time: {exc}"])


def _explain(result: Result, program: LinearProgram, options: Any, deep: bool, tolerance: float,
             cell: str | None, phrases: Mapping[int, str] | None = None) -> None:
    """The rules with their prices for an optimal solution (with ranges, room for manoeuvre and
    the cell's story when `deep`), the conflicts and what to change for an infeasible one
    (`phrases`: the rules' phrases, when made while the prices were solving)."""
    from alloc.explain import diagnose_infeasible, explain
    from alloc.explain import report as words

    solution, plan = result.solution, result.plan
    if solution.optimal:
        from alloc.report.ceiling import period_equations

        result.explanation = words.restate_ceilings(
            explain(program, solution.constraints, solution.objectives, options, tolerance, deep,
                    cell, solution.priced, solution.values, phrases), solution)
        result.lines = (words.explanation_lines(result.explanation, plan,
                                                ceilings=period_equations(solution))
                        if deep else [])
        if result.explanation.cell is not None:
            result.lines += words.cell_lines(result.explanation.cell, plan)
        return
    if solution.status != "infeasible" or solution.objectives:
        return
    why: list[str] = []
    try:
        diagnosis = diagnose_infeasible(program, options)
    except SolveError as exc:  # fall back on the quick diagnosis, and say why no more
        diagnosis = diagnose_infeasible(program, options, cheap=True)
        why = [f"(no fuller diagnosis: {exc})"]
    solution.message = diagnosis.message
    solution.conflicts = diagnosis.moves()
    result.infeasibility = diagnosis.record()
    result.lines = ["no allocation keeps every rule:", *words.diagnosis_lines(diagnosis), *why]


def run(scenario: str | Path, project: str | Path = ".", sets: Mapping[str, Any] | None = None,
        **options: Any) -> Result:
    """`load` (with `sets`) then `solve` (keyword options as for `solve`)."""
    started = time.perf_counter()
    plan = load(scenario, project, sets)
    loaded = time.perf_counter() - started
    result = solve(plan, **options)
    result.seconds = {"load": loaded, **result.seconds}
    return result


def explain(scenario: str | Path | Plan, project: str | Path = ".",
            sets: Mapping[str, Any] | None = None, **options: Any) -> Result:
    """`run` (or `solve` of a Plan) with the full explanation: ranges, room for manoeuvre and,
    with `cell=`, a cell's story."""
    if isinstance(scenario, Plan):
        return solve(scenario, explain=True, **options)
    return run(scenario, project, sets, explain=True, **options)


# --- result -> files -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Written:
    """What `write` wrote: the folder and the names in it; `beside` when a run that is not
    optimal went to `<report>/not-optimal/`, leaving the optimal report as it was."""

    folder: Path
    files: list[str]
    beside: bool = False


def reports_folder(project: str | Path = ".", reports: str | Path | None = None) -> Path:
    """The folder reports go to (default PROJECT/reports), checked before any work: a file, the
    project itself, its models/ or scenarios/, or (when named) a folder holding things alloc did
    not write is refused."""
    from alloc.report.folders import check_reports_folder

    given = reports is not None
    folder = Path(reports) if reports is not None else Path(project) / "reports"
    check_reports_folder(folder, Path(project), "--reports" if given else "reports folder",
                         only_ours=given)
    return folder


def check_writable(plan: Plan, reports: Path) -> None:
    """Refuse, before solving, to write over a folder at reports/<scenario> that alloc did not
    write."""
    from alloc.report.folders import RUN, check_target

    check_target(reports / plan.name, RUN)


def write(result: Result, reports: str | Path | None = None, project: str | Path = ".") -> Written:
    """Write the run's report into `reports/<scenario>/`, whole or not at all (see README: what
    alloc writes and what it never touches)."""
    from alloc.explain import report as words
    from alloc.report.write import kept_beside, write_report

    folder = reports_folder(project, reports)
    target = folder / result.plan.name
    extra: dict[str, Any] = {}
    if result.explanation is not None:
        extra = {"sheets": words.sheets(result.explanation, result.plan),
                 "files": words.files(result.explanation)}
    elif result.infeasibility is not None:
        extra = {"infeasibility": result.infeasibility}
    if result.reductions is not None and result.optimal:
        extra = _with_reductions(extra, result.reductions)
    beside = kept_beside(result.solution, target)
    files = write_report(result.solution, target, result.seconds,
                         support_costs=result.support_costs, appendix=result.appendix, **extra)
    return Written(target / "not-optimal" if beside else target, files, beside)


def _with_reductions(extra: dict[str, Any], options: ReductionOptions) -> dict[str, Any]:
    """The report's extra sheets and files, with the reduction options' sheet and CSV file."""
    from alloc.report import reductions as report

    unit = options.plan.unit
    frame = options.frame
    before = extra.get("files")
    write_options = report.files(frame, unit)

    def files(folder: Path) -> list[str]:
        return [*(before(folder) if before is not None else []), *write_options(folder)]

    return {**extra, "sheets": [*extra.get("sheets", []), report.sheet(frame, unit, options.notes)],
            "files": files}


# --- scenarios side by side ----------------------------------------------------------------------

def compare(scenarios: Sequence[str | Path], project: str | Path = ".", *,
            solver: str = "highs", sets: Mapping[str, Any] | None = None) -> Comparison:
    """Two or more scenarios side by side: every Appendix A table with the differences against
    the first, every input that differs key by key, and the attribution of the differences.
    `sets` (as for `load`) applies to every scenario alike."""
    _check_choice(solver, SOLVERS, "solver")
    names = [str(s) for s in scenarios]
    if len(names) < 2:
        raise InputError([Problem("command line", "compare", "needs at least two scenarios")])
    twice = _given_twice(names, Path(project))
    if twice:
        raise InputError([Problem("command line", "compare",
                                  f"needs different scenarios; {twice}")])
    from alloc.compare.core import compare as compare_scenarios
    from alloc.lp.solve import SolveOptions
    from alloc.model.scenario import command_line_sets

    with command_line_sets(sets):
        return compare_scenarios(names, Path(project), SolveOptions(solver))


def write_comparison(comparison: Comparison, reports: str | Path | None = None,
                     project: str | Path = ".") -> Written:
    """reports/compare/A-vs-B[-vs-C]/, whole or not at all."""
    from alloc.compare.writer import write_comparison as write_files
    from alloc.report.folders import COMPARE_FOLDER, COMPARISON, report_folder

    target = reports_folder(project, reports) / COMPARE_FOLDER / "-vs-".join(comparison.names)
    with report_folder(target, COMPARISON) as tmp:
        files = write_files(comparison, tmp)
    return Written(target, files)


def _given_twice(refs: list[str], root: Path) -> str | None:
    """Whether two of the scenarios are one file (as a name and as a path, say), or share a
    name, which names their columns and the report's folder; None if all differ."""
    from alloc.model.scenario import locate_scenario

    seen: dict[str, str] = {}
    for ref in refs:
        path = locate_scenario(ref, root)
        name, real = path.stem, str(path.resolve())
        for other, other_real in seen.items():
            if other_real == real:
                return (f"'{ref}' is given twice" if ref == other else
                        f"'{other}' and '{ref}' are the same scenario ({path.as_posix()})")
            if Path(other_real).stem == name:
                return (f"'{other}' and '{ref}' are both named '{name}', and a comparison names "
                        "its columns and folder by scenario name; rename one of the files")
        seen[ref] = real
    return None


# --- many variants -------------------------------------------------------------------------------

@dataclass
class SweepResult:
    """The variants of a sweep, each solved and checked, in variant order."""

    plan: Plan
    sweep: Sweep
    results: list[VariantResult]

    @property
    def statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def all_optimal(self) -> bool:
        return all(r.status == "optimal" for r in self.results)

    @property
    def variants(self) -> pd.DataFrame:
        """Per variant: its values, status, check, objective per level, totals per thematic
        priority and per entity."""
        return self._frames[0]

    @property
    def summary(self) -> pd.DataFrame:
        """Mean, min, percentiles and max per thematic priority and entity."""
        return self._frames[1]

    @cached_property
    def _frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        from alloc.sweep.core import frames

        return frames(self.plan, self.sweep, self.results)


def sweep(scenario: str | Path, project: str | Path = ".", *, draws: int = 0, seed: int = 1,
          spread: float | Mapping[str, float] | None = None,
          ceiling: Sequence[float] | None = None,
          receipt_rate: Mapping[str, Sequence[float]] | None = None,
          pledge: Mapping[str, Sequence[float]] | None = None,
          target: Mapping[str, Sequence[float]] | None = None,
          weight: Mapping[str, Sequence[float]] | None = None,
          settings: Mapping[str, Sequence[float]] | None = None,
          workers: int = 1, max_variants: int | None = None,
          progress: Callable[[int, int], None] | None = None,
          sets: Mapping[str, Any] | None = None, executor: str = "local",
          scheduler: str | None = None) -> SweepResult:
    """Solve many variants of one scenario warm on one built model.

    Either `draws` Monte Carlo draws of every fund's receipt rate (Beta around the expected rate,
    standard deviation `spread`: one number, or per fund with "*" for the rest; default each
    fund's stated spread, else 0.1), or a grid: every combination of `ceiling` (factors on every
    revenue line), `receipt_rate`/`pledge` per fund, `target` (share or amount) per target, `weight`
    (a priority's or goal's weight in [objective], else a target's shortfall weight), and
    `settings` (any number of the scenario by its dotted key). `sets` (as for `load`) is one
    fixed override layer on the scenario, under every variant.
    A sweep of more than `max_variants` variants (default 100,000) is refused before any work.
    `executor` "dask" solves the blocks of variants on a Dask cluster: the scheduler at
    `scheduler` (tcp://HOST:8786), or a LocalCluster of `workers` processes (docs/sweep-dask.md).
    """
    from alloc.sweep.core import prepare, run_variants

    plan, resolved, made = prepare(
        str(scenario), Path(project), draws=draws, seed=seed, spread=spread,
        ceiling=ceiling, receipt_rate=receipt_rate, pledge=pledge, target=target, weight=weight,
        settings=settings, workers=workers, max_variants=max_variants, sets=sets)
    return SweepResult(plan, made, run_variants(resolved, made, workers, progress,
                                                executor=executor, scheduler=scheduler))


def write_sweep(result: SweepResult, reports: str | Path | None = None,
                project: str | Path = ".") -> Written:
    """reports/<scenario>/sweep/ (variants.csv, summary.csv, sweep.xlsx), whole or not at all;
    the scenario's report beside it is kept."""
    from alloc.sweep.core import SWEEP_FOLDER
    from alloc.sweep.core import write_sweep as write_files

    folder = reports_folder(project, reports)
    files = write_files(folder / result.plan.name, result.sweep, result.results, result.plan)
    return Written(folder / result.plan.name / SWEEP_FOLDER, files)


# --- checks shared by the functions above ------------------------------------------------------

def _check_choice(value: str, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise InputError([Problem("command line", what, f"'{value}' is not one of "
                                  f"{', '.join(allowed)}")])


def _check_cell(plan: Plan, cell: str) -> None:
    from alloc.suggest import closest

    cells = ["/".join(m.cell) for m in plan.mandate]
    if cell not in cells:
        hint = closest(cell, cells)
        raise InputError([Problem("command line", "--cell", f"'{cell}' is not a cell of the "
                                  "mandate (ENTITY/PRIORITY/OUTPUT)"
                                  + (f"; did you mean '{hint}'?" if hint else ""))])
