"""Solving, solver-neutral: the choice of backend, the goal-programming levels in order, the `Solution`.

The solvers themselves are in `alloc.lp.backends`: `highs` (HiGHS in process through highspy, the
default: one instance kept through the levels, warm from the last basis) and `pulp` (CBC, or
PuLP's own HiGHS class, each level from scratch; the fallback when highspy cannot be loaded).
A backend module is imported only when it is chosen, so that the default path never loads PuLP.

The status is the backend's reading of what the solver says about its solution, never a status
word alone. Every optimal answer is then checked independently (`alloc.lp.verify`) and refused if
any rule is violated.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from alloc.errors import SolveError
from alloc.lp.backends.base import Backend, SolvesAlone
from alloc.lp.program import (
    GE,
    GOAL,
    LE,
    RULE_GROUPS,
    LinearProgram,
    level_bound,
    priced_level,
    solved_levels,
)
from alloc.lp.solution import (
    ALLOCATION_COLUMNS,
    AMOUNT_DECIMALS,
    CONSTRAINT_COLUMNS,
    FUNDING_COLUMNS,
    Priced,
    Solution,
    Status,
)
from alloc.lp.verify import check

if TYPE_CHECKING:
    import pandas as pd

SOLVERS = ("highs", "highs-pulp", "cbc")
"""Our solver names: `highs` (the HiGHS backend), `highs-pulp` and `cbc` (the PuLP backend)."""
ZERO = 0.5 * 10.0**-AMOUNT_DECIMALS
MIN_TIME = 0.01
"""Seconds a level is given at least, whatever is left of the time limit."""


@dataclass(frozen=True)
class SolveOptions:
    solver: str = "highs"
    time_limit: float | None = None
    verbose: bool = False
    quadratic: bool = True
    """Solve the strictly convex tie-breaks where the solver can (False: their linear stand-in)."""


def _highs_available() -> bool:
    try:
        import alloc.lp.backends.highs  # noqa: F401
    except ImportError:
        return False
    return True


def solver_name(requested: str) -> str:
    """The solver to use: the one asked for, or CBC when HiGHS cannot be loaded."""
    if requested not in SOLVERS:
        raise ValueError(f"unknown solver '{requested}'; choose one of {', '.join(SOLVERS)}")
    if requested.startswith("highs") and not _highs_available():
        return "cbc"
    return requested


def backend(lp: LinearProgram, solver: str, verbose: bool = False) -> Backend:
    """The program held by the backend of a solver (a name of `solver_name`)."""
    if solver == "highs":
        from alloc.lp.backends.highs import HighsModel

        return HighsModel(lp, verbose)
    from alloc.lp.backends.pulp import PulpModel

    return PulpModel(lp, solver, verbose)


def uniqueness(model: Backend, quadratic: bool = True) -> str:
    """Why the optimum is not proven unique ("" when the strictly convex tie-breaks are solved)."""
    if not any(level.quadratic is not None for level in model.lp.levels):
        return "the program has no tie-break level"
    if not quadratic:
        return "the linear tie-break was asked for (quadratic = false)"
    if getattr(model, "quadratic_failed", ""):
        return (f"the quadratic solver failed on the level '{model.quadratic_failed}'; ties are "
                "broken by a linear distance, which leaves some")
    if model.quadratic_ok():
        return ""
    solver = str(getattr(model, "solver", "highs"))
    if solver != "highs":
        return (f"the {solver} solver solves no quadratic level; ties are broken by a "
                "linear distance, which leaves some")
    return ("the model is larger than the quadratic tie-break is solved for; ties are broken by "
            "a linear distance, which leaves some")


def solve_levels(model: Backend, time_limit: float | None = None, quadratic: bool = True,
                 on_priced: Callable[[dict[str, float]], None] | None = None
                 ) -> tuple[Status, dict[str, float], str]:
    """Solve every level in order, each held on the optimal face of those before it (docs/
    formulation.md, section 5.6); status, optimum per level (unscaled), and the level that failed.

    The tie-breaks are quadratic where the solver can (`Backend.quadratic_ok`) and `quadratic`
    allows, else their linear stand-in is solved; so it is too when the quadratic solver fails
    (`model.quadratic_failed` says so). `time_limit` is for all the levels: each is given what is
    left of it (at least MIN_TIME).

    When the priced level (`priced_level`, a goal) is the first solved, its duals and values are
    kept as `model.priced`: shadow prices are then read, not solved for again. When it is not,
    `on_priced` (if given) is called with the optima of the levels before it, as soon as they are
    solved (its program alone, `_price_alone`, needs no more: it can be solved beside while this
    instance solves it and the levels after it), else the instance keeps its basis for
    `_price_alone` once it is solved.

    A level that finds the held faces infeasible is solved again with them released
    (`Backend.release_faces`), the levels before kept by their bound rows alone: the optimal
    face of a feasible level is never empty, so only the solver's rounding of a borderline face
    can make it so (`model.faces_released` names that level).
    """
    levels = model.lp.levels
    chosen = solved_levels(model.lp, quadratic and model.quadratic_ok())
    model.quadratic_failed = ""
    model.faces_released = ""
    model.priced = None
    priced = priced_level(model.lp)
    objectives: dict[str, float] = {}
    started = time.perf_counter()
    n = 0
    while n < len(chosen):
        k = chosen[n]
        level = levels[k]
        if k == priced and level.role == GOAL and n > 0 and on_priced is not None:
            on_priced(dict(objectives))     # its program alone needs only the optima before it
        status = model.solve_level(k, _left(time_limit, started))
        if status == "infeasible" and n > 0 and model.release_faces():
            model.faces_released = level.name
            status = model.solve_level(k, _left(time_limit, started))
        if status == "error" and level.quadratic is not None:
            model.quadratic_failed = level.name
            chosen = chosen[:n] + [j for j in solved_levels(model.lp, False) if j > k]
            continue
        if status != "optimal":
            return status, objectives, level.name
        objectives[level.name] = level.value(model.values())
        if k == priced and level.role == GOAL:
            if n == 0:
                model.priced = Priced(k, np.array(model.duals(), dtype=float) * level.scale,
                                      np.array(model.values(), dtype=float))
            elif on_priced is None:  # earlier levels held: `solve_alone` may re-solve from here
                model.keep_basis()
        if n < len(chosen) - 1:
            model.hold_level(k, objectives[level.name])
        n += 1
    return "optimal", objectives, ""


def _left(time_limit: float | None, started: float) -> float | None:
    """What is left of `time_limit` since `started`, at least MIN_TIME; None for no limit."""
    if time_limit is None:
        return None
    return max(time_limit - (time.perf_counter() - started), MIN_TIME)


@dataclass
class _Run:
    status: Status
    solver: str
    objectives: dict[str, float] = field(default_factory=dict)
    level: str = ""
    """The level that failed, when one did."""
    values: np.ndarray | None = None
    duals: np.ndarray | None = None
    not_unique: str = ""
    """Why the optimum is not proven unique, "" when it is."""
    priced: Priced | None = None
    released: str = ""
    """The level at which the held faces were released (`Backend.release_faces`), if any."""
    pending: _PricedBeside | None = None
    """The priced level still solving beside (`_run_levels(..., wait=False)`): `priced` is its
    answer once `pending.answer()` returns."""


PRICING_BYTES_PER_COLUMN = 1_500
"""Memory a second instance solving the priced level alone takes per LP column (its copy of the
program, presolve and interior point): 1.36 GB measured at 1e6 columns (BENCHMARKS.md)."""
TRIM_COLUMNS = 50_000
"""Programs above this size give the solver's freed memory back to the system after solving."""


def room_beside(lp: LinearProgram) -> bool:
    """Whether two instances of the program solving at once (the run's, still to solve its
    levels, and a second for the priced level) fit in the memory this process may still use
    (`alloc.model.size.available_memory`, at most MEMORY_FRACTION of it): the priced level is
    solved beside the last levels only then, in turn otherwise (the same prices, a lower peak)."""
    from alloc.model.size import MEMORY_FRACTION, available_memory

    room = available_memory()
    need = 2 * lp.n_cols * PRICING_BYTES_PER_COLUMN
    return room is not None and need <= MEMORY_FRACTION * room


def _give_back_memory(lp: LinearProgram) -> None:
    """After a large solve, the memory the solver instances freed given back to the system (glibc
    keeps it for the process otherwise): the writing that follows starts from a lower peak.
    Linux only; elsewhere nothing."""
    if lp.n_cols <= TRIM_COLUMNS or not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def cores() -> int:
    """Cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _run_levels(lp: LinearProgram, options: SolveOptions, price: bool = False,
                wait: bool = True) -> _Run:
    """The levels solved in order and, with `price`, the priced level's duals. Without `wait`, a
    priced level still solving beside when the last level is done is left `pending` (the caller
    does what needs only the values meanwhile)."""
    solver = solver_name(options.solver)
    model = backend(lp, solver, options.verbose)
    alone = price and model.prices_beside()
    beside = (_PricedBeside(lp, options)
              if alone and cores() > 1 and room_beside(lp) else None)
    status, objectives, level = solve_levels(model, options.time_limit, options.quadratic,
                                             on_priced=beside.start if beside else None)
    if status != "optimal":
        if beside is not None:
            beside.answer()
        return _Run(status, solver, objectives, level)
    run = _Run(status, solver, objectives, level, model.values(), model.duals(),
               uniqueness(model, options.quadratic), model.priced,
               released=model.faces_released)
    if not price or run.priced is not None:
        if beside is not None:
            beside.answer()
        return run
    if beside is not None and beside.started:
        run.pending = beside
        if wait:
            run.priced, run.pending = beside.answer(), None
    elif alone:     # the run's instance given back before the priced level's own is made
        del model
        run.priced = _price_alone(_level_alone(lp, options), objectives, options.time_limit)
    else:
        run.priced = _price_alone(model, objectives, options.time_limit)
    return run


def _level_alone(lp: LinearProgram, options: SolveOptions) -> SolvesAlone:
    """An instance of its own for the priced level alone (`Backend.prices_beside`)."""
    from alloc.lp.backends.highs import LevelAlone

    return LevelAlone(lp, options.verbose)


class _PricedBeside:
    """The priced level solved alone for its shadow prices on an instance of its own, on a thread,
    while the run's instance solves it (held on the faces of the levels before it) and the levels
    after it (HiGHS releases Python's lock as it solves). At 1e5 columns its 4.7 s then pass
    beside the 3 s of the last levels instead of after them. The answer is the one made after
    the levels (on one core, or without the memory for two instances), bit for bit: the same
    instance of its own (`_level_alone`), made a little sooner, at the cost of holding it beside
    the run's while both solve."""

    def __init__(self, lp: LinearProgram, options: SolveOptions):
        self.lp, self.options = lp, options
        self.thread: threading.Thread | None = None
        self._answer: Priced | None = None
        self._error: BaseException | None = None

    @property
    def started(self) -> bool:
        return self.thread is not None

    def start(self, objectives: dict[str, float]) -> None:
        def work() -> None:
            try:
                self._answer = _price_alone(_level_alone(self.lp, self.options), objectives,
                                            self.options.time_limit)
            except BaseException as exc:   # raised again in the calling thread
                self._error = exc

        self.thread = threading.Thread(target=work, name="alloc-prices", daemon=True)
        self.thread.start()

    def answer(self) -> Priced | None:
        """The prices (None if not started, or if the solve did not end optimal)."""
        if self.thread is None:
            return None
        self.thread.join()
        if self._error is not None:
            raise self._error
        return self._answer


def _price_alone(model: SolvesAlone, objectives: dict[str, float], time_limit: float | None
                 ) -> Priced | None:
    """The priced level solved alone once more (on the run's own instance, warm, or on one of
    its own, `Backend.prices_beside`), each earlier goal level bounded by the bound the run held
    it to (`level_bound`), its face no longer fixed: the program `alloc.explain.prices.
    shadow_prices` would otherwise build and solve from scratch. None when the backend cannot or
    the solve does not end optimal (the prices are then solved for from scratch, as before)."""
    lp = model.lp
    k = priced_level(lp)
    level = lp.levels[k]
    if level.role != GOAL:
        return None
    tolerance = lp.plan.level_tolerance
    bounds = [(j, level_bound(objectives[lv.name], tolerance) - lv.constant)
              for j, lv in enumerate(lp.levels[:k]) if lv.role == GOAL]
    answer = model.solve_alone(k, bounds, time_limit)
    if answer is None or answer[0] != "optimal":
        return None
    _, duals, values = answer
    return Priced(k, duals * level.scale, values)


def allocation_frame(lp: LinearProgram, values: np.ndarray) -> pd.DataFrame:
    """The allocation columns as a tidy frame of non-zero amounts.

    Sorted by cell (mandate order), year and fund (plan order): the order the columns are built
    in, so no sort is needed.
    """
    import pandas as pd

    plan = lp.plan
    amounts = np.round(values[: lp.n_alloc], AMOUNT_DECIMALS)
    keep = np.flatnonzero(amounts >= ZERO)
    cell = lp.cell[keep]
    axes = {axis: np.array([getattr(m.cell, axis) for m in plan.mandate], dtype=object)
            for axis in ("entity", "priority", "output")}
    return pd.DataFrame({
        "entity": axes["entity"][cell],
        "priority": axes["priority"][cell],
        "output": axes["output"][cell],
        "year": lp.year[keep].astype(np.int64),
        "fund": np.array(plan.fund_codes, dtype=object)[lp.fund[keep]],
        "amount": amounts[keep] + 0.0,
    }, columns=ALLOCATION_COLUMNS)


def funding_frame(lp: LinearProgram, values: np.ndarray) -> pd.DataFrame:
    """Per costed requirement: amount, part funded (clipped to [0, amount]) and value per unit."""
    import pandas as pd

    reqs = lp.plan.requirements
    funded = np.round(values[lp.funded], AMOUNT_DECIMALS) if len(reqs) else np.zeros(0)
    amount = np.array([r.amount for r in reqs], dtype=float)
    return pd.DataFrame({
        "entity": [r.cell.entity for r in reqs],
        "priority": [r.cell.priority for r in reqs],
        "output": [r.cell.output for r in reqs],
        "year": np.array([r.year for r in reqs], dtype=np.int64),
        "tranche": [r.tranche for r in reqs],
        "requirement": amount,
        "funded": np.clip(funded, 0.0, amount) + 0.0,
        "value": np.array([r.value for r in reqs], dtype=float),
    }, columns=FUNDING_COLUMNS)


def row_activity(lp: LinearProgram, values: np.ndarray) -> np.ndarray:
    """A @ x, row by row."""
    start, index, value = lp.matrix()
    rows = np.repeat(np.arange(lp.n_rows), np.diff(start))
    return np.bincount(rows, weights=value * values[index], minlength=lp.n_rows)


def _constraints(lp: LinearProgram, values: np.ndarray, duals: np.ndarray) -> pd.DataFrame:
    import pandas as pd

    rows = np.flatnonzero(lp.rules != RULE_GROUPS.index("reference"))
    listed = rows.tolist()
    activity = row_activity(lp, values)[rows]
    sense, rhs = lp.senses[rows], lp.rhs[rows]
    slack = np.where(sense == LE, rhs - activity, np.where(sense == GE, activity - rhs, 0.0))
    return pd.DataFrame({
        "rule": [RULE_GROUPS[r] for r in lp.rules[rows]],
        "name": [lp.row_names[i] for i in listed],
        "source": [lp.row_sources[i] for i in listed],
        "text": [lp.row_texts[i] for i in listed],
        "sense": [("<=", ">=", "==")[s] for s in sense],
        "bound": rhs,
        "activity": activity,
        "slack": slack,
        "shadow_price": duals[rows],
    }, columns=CONSTRAINT_COLUMNS)


def solve(lp: LinearProgram, options: SolveOptions | None = None,
          meanwhile: Callable[[Solution], object] | None = None) -> Solution:
    """Solve the levels in order, then check the answer independently of the solver.

    When the priced level is still solving beside after the last level (large programs, two
    cores), the solution's frames and check are made meanwhile, and so is `meanwhile(solution)`
    (the checked solution, its prices not yet in): the caller's work that needs only the values
    fills the wait. It is not called otherwise."""
    options = options or SolveOptions()
    run = _run_levels(lp, options, price=True, wait=False)
    try:
        solution = solution_of(lp, run, options)
        if run.pending is not None and meanwhile is not None and solution.optimal:
            meanwhile(solution)
    finally:
        if run.pending is not None:   # its prices came beside the values' frames and check
            run.priced = run.pending.answer()
    solution.priced = run.priced
    _give_back_memory(lp)
    return solution


def solution_of(lp: LinearProgram, run: _Run, options: SolveOptions, constraints: bool = True,
                check_answer: bool = True) -> Solution:
    """The checked `Solution` of a run of the levels.

    An infeasible plan is not diagnosed here: callers that want to know why ask
    `alloc.explain.diagnose_infeasible` (a later stage, which re-solves copies of the LP).

    `check_answer=False` is for callers that run the independent check themselves (the benchmark
    times it apart); `constraints=False` skips the table of rules (a sweep does not report it).
    """
    if run.status != "optimal":
        solution = Solution(lp.plan, run.status, run.solver, objectives=run.objectives)
        where = "" if run.level == lp.levels[0].name else f" (at goal-programming {run.level})"
        if run.status == "infeasible" and not run.objectives:
            solution.message = "the rules cannot all hold"
        else:
            solution.message = {
                "infeasible": "the solver found no allocation that keeps every rule",
                "unbounded": "the objective is unbounded; a target or weight is ill-posed",
                "time_limit": "the solver stopped at the time limit before proving optimality",
                "error": "the solver failed",
            }[run.status] + where
        return solution
    values, duals = run.values, run.duals
    if values is None or duals is None or np.isnan(values).any():
        raise SolveError("the solver reported optimal but returned no values")
    allocation = allocation_frame(lp, values)
    solution = Solution(lp.plan, "optimal", run.solver, objectives=run.objectives,
                        allocation=allocation, funding=funding_frame(lp, values),
                        not_unique=run.not_unique, values=values, priced=run.priced)
    if run.released:
        solution.message = released_faces(run.released)
    if constraints:
        solution.constraints = _constraints(lp, values, duals)
    violations = check(lp.plan, allocation, solution.funding) if check_answer else []
    if violations:
        listed = "\n".join(f"  - {v}" for v in violations[:10])
        raise SolveError(f"the {run.solver} solution breaks {len(violations)} rule(s) when checked "
                         f"independently; it is not reported:\n{listed}")
    return solution


def released_faces(level: str) -> str:
    """What a solution says when the held faces were released at `level` (`solve_levels`)."""
    return (f"from the level '{level}' on, the levels before were kept within their tolerance of "
            "the optimum, not exactly on it: held exactly, the solver's rounding made them "
            "infeasible")


def solve_raw(lp: LinearProgram, options: SolveOptions | None = None
              ) -> tuple[Status, dict[str, float], np.ndarray | None, np.ndarray | None]:
    """The levels solved in order: status, optimum per level, column values and row duals.

    No independent check and no diagnosis. Why: `alloc.explain` solves changed copies of the LP
    (elastic copies, bounds moved, objectives bounded) whose answers need not keep the plan's own
    rules, and for which "infeasible" is an answer to record, not a failure to explain. Duals are
    those of the last level, per unit of the costs handed to the solver for it.
    """
    run = _run_levels(lp, options or SolveOptions())
    return run.status, run.objectives, run.values, run.duals
