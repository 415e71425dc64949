"""Solving: the only module that knows solvers. HiGHS in process by default, CBC as fallback.

The default path (`highs`) hands HiGHS the whole matrix in one call and keeps that one HiGHS
instance through the goal-programming levels: each later level changes the objective, fixes the
earlier level's optimal face by bounds and adds one row, then re-solves warm from the last basis.
Answers are read back as arrays. The plain PuLP path (`highs-pulp`: PuLP's own HiGHS class, and
`cbc`) builds a PuLP problem and solves each level from scratch; it is kept as the fallback when
highspy cannot be loaded and as the yardstick the fast path is tested against.

The status is ours, read from what the solver says about its solution (HiGHS' model status and
primal solution status; CBC's solution status), never from a status word alone: PuLP reports a
HiGHS time limit as "Optimal". Every optimal answer is then checked independently (`alloc.lp.verify`)
and refused if any rule is violated.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from alloc.errors import SolveError
from alloc.lp.build import (
    GE,
    LE,
    RULE_GROUPS,
    Level,
    LinearProgram,
    PulpModel,
    face_threshold,
    level_bound,
    make_solver,
)
from alloc.lp.solution import (
    ALLOCATION_COLUMNS,
    AMOUNT_DECIMALS,
    CONSTRAINT_COLUMNS,
    Solution,
    Status,
)
from alloc.lp.verify import check

if TYPE_CHECKING:
    import pandas as pd

SOLVERS = {"highs": "HiGHS", "highs-pulp": "HiGHS", "cbc": "PULP_CBC_CMD"}
"""Our solver names and the PuLP solver each stands on (`highs` only for the fallback)."""
HIGHS_OPTIONS: dict[str, Any] = {}
"""HiGHS options beyond its defaults, the same on every path (and in the benchmark's reference)."""
LARGE = 50_000
"""Columns above which a level whose objective touches many columns is solved by interior point."""
NARROW = 0.01
"""A later level whose objective touches at most this share of the columns is re-solved warm by
primal simplex: the last basis stays primal feasible when only such costs change."""


def level_options(n_cols: int, k: int, level: Level) -> dict[str, Any]:
    """How HiGHS solves level k (measured on bench/bench.py's organisations, see BENCHMARKS.md).

    A later level with a narrow objective (a few deviation columns) starts from a basis that is
    still primal feasible: primal simplex finishes it in a few iterations where dual simplex
    takes seconds at 1e5 columns. A broad objective (the first level, the reference level) on a
    large model is solved faster by interior point (with crossover, so that the face of the next
    level can be read from a basic solution) than by either simplex; on a small model, by dual
    simplex, warm from the last basis.
    """
    if k > 0 and len(level.cols) <= NARROW * n_cols:
        return {"solver": "simplex", "simplex_strategy": 4}
    if n_cols > LARGE:
        return {"solver": "ipm", "run_crossover": "on"}
    return {"solver": "simplex", "simplex_strategy": 1}
ZERO = 0.5 * 10.0**-AMOUNT_DECIMALS
INF = float("inf")


@dataclass(frozen=True)
class SolveOptions:
    solver: str = "highs"
    time_limit: float | None = None
    verbose: bool = False


_BANNER_SHOWN = False


def _silence_highs_banner() -> None:
    """HiGHS prints a copyright banner from C++ the first time a model is made; swallow it."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _BANNER_SHOWN = True


def _highs_available() -> bool:
    try:
        import highspy  # noqa: F401
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


def highs_status(highs: Any, time_limited: bool = False) -> Status:
    """Our status from HiGHS' model status and primal solution status."""
    import highspy

    status = highs.getModelStatus()
    feasible = (highs.getInfo().primal_solution_status
                == highspy.SolutionStatus.kSolutionStatusFeasible)
    kinds = highspy.HighsModelStatus
    if status == kinds.kOptimal and feasible:
        return "optimal"
    if status in (kinds.kInfeasible, kinds.kUnboundedOrInfeasible):
        return "infeasible"
    if status == kinds.kUnbounded:
        return "unbounded"
    if status == kinds.kTimeLimit:
        return "time_limit"
    return "error"


def _pulp_status(model: PulpModel, solver: str, time_limited: bool) -> Status:
    if solver == "highs-pulp":
        return highs_status(model.solver_model, time_limited)
    _, sol_status = model.pulp_status
    # PuLP's solution status codes: 1 optimal, -1 infeasible, -2 unbounded, 0/2 none or partial.
    if sol_status == 1:
        return "optimal"
    if sol_status == -1:
        return "infeasible"
    if sol_status == -2:
        return "unbounded"
    return "time_limit" if time_limited else "error"


class HighsModel:
    """The LP in one HiGHS instance; levels solved in order on it, each warm from the last basis.

    `reset` takes back what holding the levels changed (bounds, level rows), so that callers
    (`alloc.sweep.core`) can change right-hand sides or coefficients and solve again, still warm.
    """

    def __init__(self, lp: LinearProgram, verbose: bool = False,
                 options: dict[str, Any] | None = None):
        import highspy

        if not verbose:
            _silence_highs_banner()
        self.lp = lp
        h = self.highs = highspy.Highs()
        h.setOptionValue("output_flag", verbose)
        for key, value in {**HIGHS_OPTIONS, **(options or {})}.items():
            h.setOptionValue(key, value)
        start, index, value = lp.matrix()
        if len(index) >= 2**31:
            raise SolveError(f"the LP has {len(index):,} non-zeros; HiGHS takes at most 2^31")
        sense, rhs = lp.senses, lp.rhs
        self.row_lower = np.where(sense == LE, -INF, rhs)
        self.row_upper = np.where(sense == GE, INF, rhs)
        n = lp.n_cols
        status = h.passModel(n, lp.n_rows, len(index), int(highspy.MatrixFormat.kRowwise),
                             int(highspy.ObjSense.kMinimize), 0.0, np.zeros(n), np.zeros(n),
                             np.full(n, INF), self.row_lower, self.row_upper,
                             start[:-1].astype(np.int32), index.astype(np.int32), value,
                             np.zeros(n, dtype=np.int32))
        if status != highspy.HighsStatus.kOk:
            raise SolveError(f"HiGHS refused the model ({status})")
        self.n_rows = lp.n_rows
        self._lower = self.row_lower.copy()
        self._upper = self.row_upper.copy()
        self._fixed: list[np.ndarray] = []
        self._held: list[np.ndarray] = []
        self._costed: np.ndarray = np.zeros(0, dtype=np.int32)
        self.col_value = np.zeros(0)
        self.col_dual = np.zeros(0)
        self.row_value = np.zeros(0)
        self.row_dual = np.zeros(0)

    # --- changes between solves ----------------------------------------------------------------
    def set_row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """New bounds of original rows (kept as the rows' own bounds by `reset`)."""
        rows = np.asarray(rows, dtype=np.int32)
        if len(rows):
            self.row_lower[rows], self.row_upper[rows] = lower, upper
            self._lower[rows], self._upper[rows] = lower, upper
            self.highs.changeRowsBounds(len(rows), rows, np.asarray(lower, float),
                                        np.asarray(upper, float))

    def set_coefficients(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
        for r, c, v in zip(np.asarray(rows).tolist(), np.asarray(cols).tolist(),
                           np.asarray(values, dtype=float).tolist(), strict=True):
            self.highs.changeCoeff(r, c, v)

    def reset(self) -> None:
        """Undo the holding of levels: free fixed columns, restore row bounds, drop level rows."""
        h = self.highs
        if self._fixed:
            cols = np.unique(np.concatenate(self._fixed)).astype(np.int32)
            h.changeColsBounds(len(cols), cols, np.zeros(len(cols)), np.full(len(cols), INF))
            self._fixed = []
        if self._held:
            rows = np.unique(np.concatenate(self._held))
            rows = rows[rows < self.n_rows].astype(np.int32)
            h.changeRowsBounds(len(rows), rows, self.row_lower[rows], self.row_upper[rows])
            self._held = []
        extra = len(self._lower) - self.n_rows
        if extra:
            h.deleteRows(extra, np.arange(self.n_rows, self.n_rows + extra, dtype=np.int32))
        self._lower = self.row_lower.copy()
        self._upper = self.row_upper.copy()

    # --- solving -------------------------------------------------------------------------------
    def _set_cost(self, level: Level) -> None:
        h = self.highs
        if len(self._costed):
            h.changeColsCost(len(self._costed), self._costed, np.zeros(len(self._costed)))
        cols = level.cols.astype(np.int32)
        h.changeColsCost(len(cols), cols, level.solver_coefs)
        self._costed = cols

    def solve_levels(self, time_limit: float | None = None
                     ) -> tuple[Status, dict[str, float], str]:
        """Solve every level in order; status, optimum per level, and the level that failed."""
        lp, h = self.lp, self.highs
        objectives: dict[str, float] = {}
        started = time.perf_counter()
        for k, level in enumerate(lp.levels):
            remaining = None
            if time_limit is not None:
                remaining = max(time_limit - (time.perf_counter() - started), 0.01)
            h.setOptionValue("time_limit", INF if remaining is None else float(remaining))
            for key, value in level_options(lp.n_cols, k, level).items():
                h.setOptionValue(key, value)
            self._set_cost(level)
            h.run()
            status = highs_status(h, remaining is not None)
            if status != "optimal":
                return status, objectives, level.name
            solution = h.getSolution()
            self.col_value = np.asarray(solution.col_value)
            self.col_dual = np.asarray(solution.col_dual)
            self.row_value = np.asarray(solution.row_value)
            self.row_dual = np.asarray(solution.row_dual)
            objectives[level.name] = float(level.coefs @ self.col_value[level.cols])
            if k < len(lp.levels) - 1:
                self._hold(level, objectives[level.name])
        return "optimal", objectives, ""

    def _hold(self, level: Level, optimum: float) -> None:
        """Keep later levels on this level's optimal face (see `PulpModel.hold_level`)."""
        h = self.highs
        threshold = face_threshold(level)
        fix = np.flatnonzero((self.col_dual > threshold) & (np.abs(self.col_value) <= 1e-9))
        if len(fix):
            fix32 = fix.astype(np.int32)
            h.changeColsBounds(len(fix32), fix32, np.zeros(len(fix32)), np.zeros(len(fix32)))
            self._fixed.append(fix32)
        lower, upper, act = self._lower, self._upper, self.row_value
        le = np.isinf(lower) & np.isfinite(upper)
        ge = np.isfinite(lower) & np.isinf(upper)
        hold = (np.abs(self.row_dual) > threshold) & (
            (le & (np.abs(upper - act) <= 1e-7)) | (ge & (np.abs(act - lower) <= 1e-7)))
        rows = np.flatnonzero(hold)
        if len(rows):
            lower[rows] = np.where(le[rows], upper[rows], lower[rows])
            upper[rows] = lower[rows]
            rows32 = rows.astype(np.int32)
            h.changeRowsBounds(len(rows32), rows32, lower[rows], upper[rows])
            self._held.append(rows)
        bound = level_bound(optimum, self.lp.plan.level_tolerance)
        h.addRow(-INF, bound, len(level.cols), level.cols.astype(np.int32),
                 level.coefs.astype(float))
        self._lower = np.append(lower, -INF)
        self._upper = np.append(upper, bound)

    def values(self) -> np.ndarray:
        return self.col_value

    def duals(self) -> np.ndarray:
        return self.row_dual[: self.n_rows]


@dataclass
class _Run:
    status: Status
    solver: str
    objectives: dict[str, float] = field(default_factory=dict)
    level: str = ""
    """The level that failed, when one did."""
    values: np.ndarray | None = None
    duals: np.ndarray | None = None


def _run_levels(lp: LinearProgram, options: SolveOptions) -> _Run:
    solver = solver_name(options.solver)
    if solver == "highs":
        model = HighsModel(lp, options.verbose)
        status, objectives, level = model.solve_levels(options.time_limit)
        return _Run(status, solver, objectives, level, model.values(), model.duals())
    return _run_pulp(lp, options, solver)


def _run_pulp(lp: LinearProgram, options: SolveOptions, solver: str) -> _Run:
    if solver == "highs-pulp" and not options.verbose:
        _silence_highs_banner()
    model = PulpModel(lp)
    objectives: dict[str, float] = {}
    started = time.perf_counter()
    extra = HIGHS_OPTIONS if solver == "highs-pulp" else {}
    for k, level in enumerate(lp.levels):
        remaining = None
        if options.time_limit is not None:
            remaining = max(options.time_limit - (time.perf_counter() - started), 0.01)
        model.set_level(k)
        model.solve(make_solver(SOLVERS[solver], msg=options.verbose, time_limit=remaining,
                                **extra))
        status = _pulp_status(model, solver, remaining is not None)
        if status != "optimal":
            return _Run(status, solver, objectives, level.name)
        values = model.values()
        objectives[level.name] = float(level.coefs @ values[level.cols])
        if k < len(lp.levels) - 1:
            model.hold_level(k, objectives[level.name], lp.plan.level_tolerance)
    return _Run("optimal", solver, objectives, "", model.values(), model.duals())


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


def row_activity(lp: LinearProgram, values: np.ndarray) -> np.ndarray:
    """A @ x, row by row."""
    start, index, value = lp.matrix()
    rows = np.repeat(np.arange(lp.n_rows), np.diff(start))
    return np.bincount(rows, weights=value * values[index], minlength=lp.n_rows)


def _constraints(lp: LinearProgram, values: np.ndarray, duals: np.ndarray) -> pd.DataFrame:
    import pandas as pd

    rows = np.flatnonzero(lp.rules != RULE_GROUPS.index("reference"))
    activity = row_activity(lp, values)[rows]
    sense, rhs = lp.senses[rows], lp.rhs[rows]
    slack = np.where(sense == LE, rhs - activity, np.where(sense == GE, activity - rhs, 0.0))
    return pd.DataFrame({
        "rule": [RULE_GROUPS[r] for r in lp.rules[rows]],
        "name": [lp.row_names[i] for i in rows],
        "source": [lp.row_sources[i] for i in rows],
        "text": [lp.row_texts[i] for i in rows],
        "sense": [("<=", ">=", "==")[s] for s in sense],
        "bound": rhs,
        "activity": activity,
        "slack": slack,
        "shadow_price": duals[rows],
    }, columns=CONSTRAINT_COLUMNS)


def solve(lp: LinearProgram, options: SolveOptions | None = None) -> Solution:
    """Solve the levels in order, then check the answer independently of the solver."""
    options = options or SolveOptions()
    run = _run_levels(lp, options)
    return solution_of(lp, run, options)


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
                        allocation=allocation)
    if constraints:
        solution.constraints = _constraints(lp, values, duals)
    violations = check(lp.plan, allocation) if check_answer else []
    if violations:
        listed = "\n".join(f"  - {v}" for v in violations[:10])
        raise SolveError(f"the {run.solver} solution breaks {len(violations)} rule(s) when checked "
                         f"independently; it is not reported:\n{listed}")
    solution.max_violation = 0.0
    return solution


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
