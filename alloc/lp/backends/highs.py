"""HiGHS in process (highspy): the default backend, and the one sweeps re-solve warm.

The whole matrix goes to HiGHS in one `passModel` call, and that one instance is kept through the
goal-programming levels: each later level changes the objective, fixes the earlier level's optimal
face by bounds and adds one row, then re-solves warm from the last basis. Answers are read back as
arrays. Between solves, a sweep hands the instance another program of the same shape (`update`):
only the right-hand sides and coefficients that differ are changed, and the next solve is warm.

The status is ours, read from HiGHS' model status and primal solution status (`highs_status`),
never from a status word alone.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, cast

import highspy
import numpy as np

from alloc.errors import SolveError
from alloc.lp.backends.base import Backend
from alloc.lp.program import (
    GE,
    LE,
    RULE_GROUPS,
    STAND_IN,
    Level,
    LinearProgram,
    face_threshold,
    level_bound,
)
from alloc.lp.solution import Status

HIGHS_OPTIONS: dict[str, Any] = {}
"""HiGHS options beyond its defaults, the same on every path (and in the benchmark's reference)."""
LARGE = 50_000
"""Columns above which a level whose objective touches many columns is solved by interior point."""
NARROW = 0.01
"""A later level whose objective touches at most this share of the columns is re-solved warm by
primal simplex: the last basis stays primal feasible when only such costs change."""
INF = highspy.kHighsInf
ACTIVE = 1e-7
"""A row whose activity is this close to its bound is active, when holding a level's face."""
AT_ZERO = 1e-9
"""A column this close to zero is at its bound, when holding a level's face."""
QP_REGULARISATION = (0.0, 1e-7)
"""HiGHS' QP regularisation: none first (its default, 1e-7, moves the optimum by some 1e-6 of
the amounts, and fails on a few small programs); its default when the first ends in a solve error
or the iteration limit."""
QP_RETRIES = ((QP_REGULARISATION[1], 1.0), (QP_REGULARISATION[0], 1e3), (QP_REGULARISATION[0], 1e-3))
"""When the quadratic level fails: HiGHS' regularisation, then the objective (costs and curvature)
times 1,000 and times 1/1,000 (the optimum is the same; the duals are divided back). Why: its
active-set solver cycles on some degenerate programs with a small objective (a dozen columns, a
2020-2021 plan of 1 unit a year, tests/lp/test_qp_retries.py) and ends at the iteration limit on
a point that is not optimal; the same program with its objective scaled is solved in a few
iterations."""
QUADRATIC_COLUMNS = 6_000
"""Columns in quadratic levels up to which they are solved (HiGHS' active-set QP solver); beyond,
their linear stand-in is, and the optimum is not proven unique. Measured in BENCHMARKS.md: the
two tie-breaks take about 1 s at 2,800 columns, 5 s at 4,300 and 10 s at 5,500, growing with
about the 2.5th power of the columns (some 4 minutes at 20,000)."""


def level_options(n_cols: int, k: int, level: Level) -> dict[str, Any]:
    if level.quadratic is not None:
        return {"solver": "choose", "presolve": "choose",
                "qp_regularization_value": QP_REGULARISATION[0],
                "qp_iteration_limit": max(10_000, 20 * n_cols)}
    return {"presolve": "choose", **_linear_options(n_cols, k, level)}


def _linear_options(n_cols: int, k: int, level: Level) -> dict[str, Any]:
    """How HiGHS solves level k (measured on bench/bench.py's organisations, see BENCHMARKS.md).

    A later level with a narrow objective (a few deviation columns) starts from a basis that is
    still primal feasible: primal simplex finishes it in a few iterations where dual simplex
    takes seconds at 1e5 columns. So does a level that says so (`Level.primal`: the ends of a
    room for manoeuvre, 4.1 -> 0.6 s at 1e4 columns), however broad. A broad objective (the first
    level, the reference level) on a large model is solved faster by interior point (with
    crossover, so that the face of the next level can be read from a basic solution) than by
    either simplex; on a small model, by dual simplex, warm from the last basis.
    """
    if k > 0 and (level.primal or len(level.cols) <= NARROW * n_cols):
        return {"solver": "simplex", "simplex_strategy": 4}
    if n_cols > LARGE:
        return {"solver": "ipm", "run_crossover": "on"}
    return {"solver": "simplex", "simplex_strategy": 1}


_BANNER_SHOWN = False


def silence_banner() -> None:
    """HiGHS prints a copyright banner from C++ the first time a model is made; swallow it."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w", encoding="utf-8") as devnull:
            os.dup2(devnull.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _BANNER_SHOWN = True


def highs_status(highs: highspy.Highs) -> Status:
    """Our status from HiGHS' model status and primal solution status."""
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


def row_bounds(lp: LinearProgram) -> tuple[np.ndarray, np.ndarray]:
    """The rows as HiGHS takes them: lower and upper bounds (infinite where there is none)."""
    sense, rhs = lp.senses, lp.rhs
    return np.where(sense == LE, -INF, rhs), np.where(sense == GE, INF, rhs)


def _change_rows_bounds(h: highspy.Highs, rows: np.ndarray, lower: np.ndarray,
                        upper: np.ndarray) -> None:
    # highspy's stubs leave out changeRowsBounds (the binding has it, like changeColsBounds)
    h.changeRowsBounds(len(rows), rows, lower, upper)  # type: ignore[attr-defined]


class HighsModel(Backend):
    """The program in one HiGHS instance; levels solved in order on it, each warm from the last basis.

    `reset` takes back what holding the levels changed (bounds, level rows); `update` hands the
    instance another program of the same shape (`alloc.sweep.core`), to solve again, still warm.
    """

    can_update = True

    def __init__(self, lp: LinearProgram, verbose: bool = False,
                 options: dict[str, Any] | None = None):
        if not verbose:
            silence_banner()
        self.lp = lp
        h = self.highs = highspy.Highs()
        h.setOptionValue("output_flag", verbose)
        for key, value in {**HIGHS_OPTIONS, **(options or {})}.items():
            h.setOptionValue(key, value)
        start, index, value = lp.matrix()
        if len(index) >= 2**31:
            raise SolveError(f"the LP has {len(index):,} non-zeros; HiGHS takes at most 2^31")
        self.row_lower, self.row_upper = row_bounds(lp)
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
        self._pinned: list[np.ndarray] = []
        self._held: list[np.ndarray] = []
        self._costed: np.ndarray = np.zeros(0, dtype=np.int32)
        self._hessian = False
        self._stand_in_free = False
        self._stand_in_rows = np.flatnonzero(lp.rules == RULE_GROUPS.index("reference")
                                             ).astype(np.int32)
        self._stand_in_cols = np.concatenate(
            [lv.cols for lv in lp.levels if lv.role == STAND_IN] or [np.zeros(0, np.int64)]
        ).astype(np.int32)
        self._kept: highspy.HighsBasis | None = None
        self._solution: highspy.HighsSolution | None = None
        self._factor = 1.0
        self._vectors: dict[str, np.ndarray] = {}

    # --- changes between solves ----------------------------------------------------------------
    def set_row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """New bounds of original rows (kept as the rows' own bounds by `reset`)."""
        rows = np.asarray(rows, dtype=np.int32)
        if len(rows):
            self.row_lower[rows], self.row_upper[rows] = lower, upper
            self._lower[rows], self._upper[rows] = lower, upper
            _change_rows_bounds(self.highs, rows, np.asarray(lower, float),
                                np.asarray(upper, float))

    def set_coefficients(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
        for r, c, v in zip(np.asarray(rows).tolist(), np.asarray(cols).tolist(),
                           np.asarray(values, dtype=float).tolist(), strict=True):
            self.highs.changeCoeff(r, c, v)

    def update(self, lp: LinearProgram) -> None:
        """Hold `lp` instead, a program with the same rows and columns in the same places (same
        matrix pattern): the holding of levels undone, then only the row bounds and coefficients
        that differ changed, so that the next solve starts warm from the last basis."""
        self.reset()
        lower, upper = row_bounds(lp)
        changed = np.flatnonzero((lower != self.row_lower) | (upper != self.row_upper))
        self.set_row_bounds(changed, lower[changed], upper[changed])
        start, index, value = lp.matrix()
        diff = np.flatnonzero(value != self.lp.matrix()[2])
        if len(diff):
            rows = np.searchsorted(start, diff, side="right") - 1
            self.set_coefficients(rows, index[diff], value[diff])
        self.lp = lp

    def reset(self) -> None:
        """Undo the holding of levels: free fixed columns, restore row bounds, drop level rows."""
        h = self.highs
        self._fixed += self._pinned
        self._pinned = []
        self._free_columns()
        if self._held:
            rows = np.unique(np.concatenate(self._held))
            rows = rows[rows < self.n_rows].astype(np.int32)
            _change_rows_bounds(h, rows, self.row_lower[rows], self.row_upper[rows])
            self._held = []
        self._clear_hessian()
        self._free_stand_in(False)
        extra = len(self._lower) - self.n_rows
        if extra:
            h.deleteRows(extra, np.arange(self.n_rows, self.n_rows + extra, dtype=np.int32))
        self._lower = self.row_lower.copy()
        self._upper = self.row_upper.copy()

    def _free_columns(self) -> None:
        """The columns fixed at zero freed, but for those a quadratic level pinned since."""
        if self._fixed:
            cols = np.unique(np.concatenate(self._fixed))
            if self._pinned:
                cols = np.setdiff1d(cols, np.concatenate(self._pinned))
            cols = cols.astype(np.int32)
            self.highs.changeColsBounds(len(cols), cols, np.zeros(len(cols)),
                                        np.full(len(cols), INF))
            self._fixed = []

    def release_faces(self) -> bool:
        """The linear levels' faces undone: columns freed, held rows back to their own bounds
        (a level's bound row to its bound alone); each level's bound row kept, and a quadratic
        level's columns kept at their values (its optimum has no bound row, and is unique)."""
        if not self._fixed and not self._held:
            return False
        self._free_columns()
        if self._held:
            rows = np.unique(np.concatenate(self._held))
            own = rows[rows < self.n_rows]
            self._lower[own], self._upper[own] = self.row_lower[own], self.row_upper[own]
            self._lower[rows[rows >= self.n_rows]] = -INF
            _change_rows_bounds(self.highs, rows.astype(np.int32), self._lower[rows],
                                self._upper[rows])
            self._held = []
        return True

    # --- solving -------------------------------------------------------------------------------
    def quadratic_ok(self) -> bool:
        """Whether the quadratic levels are solved: HiGHS' QP solver, up to a size."""
        n = sum(len(level.cols) for level in self.lp.levels if level.quadratic is not None)
        return n <= QUADRATIC_COLUMNS

    def set_level(self, k: int, factor: float = 1.0) -> None:
        """The objective: level k's scaled costs only (the previous level's reset to 0), times
        `factor` (the quadratic levels' retries: `QP_RETRIES`)."""
        h = self.highs
        if len(self._costed):
            h.changeColsCost(len(self._costed), self._costed, np.zeros(len(self._costed)))
        level = self.lp.levels[k]
        cols = level.cols.astype(np.int32)
        h.changeColsCost(len(cols), cols, level.solver_coefs * factor)
        self._costed = cols
        quadratic = level.solver_quadratic
        self._free_stand_in(quadratic is not None)
        if quadratic is None:
            self._clear_hessian()
            return
        n = self.lp.n_cols
        diagonal = np.zeros(n)
        diagonal[level.cols] = quadratic * factor
        nz = np.flatnonzero(diagonal).astype(np.int32)
        start = np.searchsorted(nz, np.arange(n)).astype(np.int32)
        status = h.passHessian(n, len(nz), int(highspy.HessianFormat.kTriangular), start, nz,
                               diagonal[nz])
        if status != highspy.HighsStatus.kOk:
            raise SolveError(f"HiGHS refused the quadratic level {level.name} ({status})")
        self._hessian = True

    def _free_stand_in(self, free: bool) -> None:
        """Take the linear stand-in's rows and columns out of the program while a quadratic
        level is solved (rows free, columns at 0), and put them back for any other level.

        Why: its distance columns have neither cost nor curvature in a quadratic level, and the
        rays they open made HiGHS' active-set QP solver cycle on programs of a dozen columns."""
        if free == self._stand_in_free or not len(self._stand_in_rows):
            return
        h, rows, cols = self.highs, self._stand_in_rows, self._stand_in_cols
        if free:
            _change_rows_bounds(h, rows, np.full(len(rows), -INF), np.full(len(rows), INF))
            h.changeColsBounds(len(cols), cols, np.zeros(len(cols)), np.zeros(len(cols)))
        else:
            _change_rows_bounds(h, rows, self._lower[rows], self._upper[rows])
            h.changeColsBounds(len(cols), cols, np.zeros(len(cols)), np.full(len(cols), INF))
        self._stand_in_free = free

    def _clear_hessian(self) -> None:
        if self._hessian:
            n = self.lp.n_cols
            self.highs.passHessian(n, 0, int(highspy.HessianFormat.kTriangular),
                                   np.zeros(n, np.int32), np.zeros(0, np.int32), np.zeros(0))
            self._hessian = False

    def solve_level(self, k: int, time_limit: float | None) -> Status:
        h = self.highs
        h.setOptionValue("time_limit", INF if time_limit is None else float(time_limit))
        for key, value in level_options(self.lp.n_cols, k, self.lp.levels[k]).items():
            h.setOptionValue(key, value)
        self.set_level(k)
        h.run()
        status = highs_status(h)
        factor = 1.0
        if status == "error" and self.lp.levels[k].quadratic is not None:
            for regularisation, factor in QP_RETRIES:
                h.setOptionValue("qp_regularization_value", regularisation)
                self.set_level(k, factor)
                h.clearSolver()
                h.run()
                status = highs_status(h)
                if status != "error":
                    break
        if status == "optimal":
            self._solution, self._factor, self._vectors = h.getSolution(), factor, {}
        return status

    def _vector(self, name: str) -> np.ndarray:
        """One vector of the last optimal solution, made an array when first read: each costs
        a quarter of a millisecond at 10,000 columns, and most solves need only the values."""
        vector = self._vectors.get(name)
        if vector is None:
            if self._solution is None:
                return np.zeros(0)
            vector = np.array(getattr(self._solution, name), dtype=float)
            if name.endswith("dual") and self._factor != 1.0:
                vector /= self._factor
            self._vectors[name] = vector
        return vector

    @property
    def col_value(self) -> np.ndarray:
        return self._vector("col_value")

    @property
    def col_dual(self) -> np.ndarray:
        return self._vector("col_dual")

    @property
    def row_value(self) -> np.ndarray:
        return self._vector("row_value")

    @property
    def row_dual(self) -> np.ndarray:
        return self._vector("row_dual")

    def hold_level(self, k: int, optimum: float) -> None:
        """Columns fixed at zero and rows made equalities by bounds; the level's bound as a row.
        A quadratic level's optimum is unique in its columns: they are fixed at their values."""
        h = self.highs
        level = self.lp.levels[k]
        if level.quadratic is not None:
            cols = level.cols.astype(np.int32)
            at = np.maximum(self.col_value[cols], 0.0)
            h.changeColsBounds(len(cols), cols, at, at)
            self._pinned.append(cols)
            return
        threshold = face_threshold(level)
        fix = np.flatnonzero((self.col_dual > threshold) & (np.abs(self.col_value) <= AT_ZERO))
        if len(fix):
            fix32 = fix.astype(np.int32)
            h.changeColsBounds(len(fix32), fix32, np.zeros(len(fix32)), np.zeros(len(fix32)))
            self._fixed.append(fix32)
        lower, upper, act = self._lower, self._upper, self.row_value
        le = np.isinf(lower) & np.isfinite(upper)
        ge = np.isfinite(lower) & np.isinf(upper)
        hold = (np.abs(self.row_dual) > threshold) & (
            (le & (np.abs(upper - act) <= ACTIVE)) | (ge & (np.abs(act - lower) <= ACTIVE)))
        rows = np.flatnonzero(hold)
        if len(rows):
            lower[rows] = np.where(le[rows], upper[rows], lower[rows])
            upper[rows] = lower[rows]
            rows32 = rows.astype(np.int32)
            _change_rows_bounds(h, rows32, lower[rows], upper[rows])
            self._held.append(rows)
        bound = level_bound(optimum, self.lp.plan.level_tolerance) - level.constant
        h.addRow(-INF, bound, len(level.cols), level.cols.astype(np.int32),
                 level.coefs.astype(float))
        self._lower = np.append(lower, -INF)
        self._upper = np.append(upper, bound)

    def basis(self) -> highspy.HighsBasis | None:
        basis = self.highs.getBasis()
        return basis if basis.valid else None

    def start_from(self, basis: object) -> None:
        """The basis alone: what the instance kept of its last solve (factors, edge weights) is
        cleared first, so that the next solve is the same on this instance as on a fresh one."""
        self.highs.clearSolver()
        self.highs.setBasis(cast(highspy.HighsBasis, basis))

    def prices_beside(self) -> bool:
        """Above LARGE columns the priced level is solved from scratch (interior point and
        crossover: at 1e5 columns 5.6 s against 10.2 s warm by primal simplex, the same duals to
        1e-17, BENCHMARKS.md), on an instance of its own (`LevelAlone`)."""
        return self.lp.n_cols > LARGE

    def keep_basis(self) -> None:
        self._kept = self.highs.getBasis()

    def solve_alone(self, k: int, bounds: Sequence[tuple[int, float]], time_limit: float | None
                    ) -> tuple[Status, np.ndarray, np.ndarray] | None:
        """Level k alone on this instance, warm from the basis kept right after the run solved
        it (`keep_basis`; still primal feasible: only bounds are relaxed), else from the last:
        the faces held undone, the stand-in taken out (as for a quadratic level), each bounded
        level's row scaled to a largest coefficient of 1 (as `alloc.explain` bounds a level).
        The answer read is not kept as the instance's (`values` stays the run's). Above LARGE
        columns the level is solved from scratch on an instance of its own instead
        (`LevelAlone`, `prices_beside`)."""
        self.reset()
        h = self.highs
        for row in _bound_rows(self.lp, bounds):
            h.addRow(-INF, *row)
            self._lower = np.append(self._lower, -INF)
            self._upper = np.append(self._upper, row[0])
        h.setOptionValue("time_limit", INF if time_limit is None else float(time_limit))
        for key, value in level_options(self.lp.n_cols, k, self.lp.levels[k]).items():
            h.setOptionValue(key, value)
        self.set_level(k)
        self._free_stand_in(True)
        kept, self._kept = self._kept, None
        if kept is not None and len(kept.row_status) == len(self._lower):
            h.setBasis(kept)
        h.run()
        status = highs_status(h)
        if status != "optimal":
            return status, np.zeros(0), np.zeros(0)
        solution = h.getSolution()
        return (status, np.asarray(solution.row_dual)[: self.n_rows].copy(),
                np.asarray(solution.col_value).copy())

    def values(self) -> np.ndarray:
        return self.col_value

    def duals(self) -> np.ndarray:
        return self.row_dual[: self.n_rows]


def _bound_rows(lp: LinearProgram, bounds: Sequence[tuple[int, float]],
                at: np.ndarray | None = None) -> list[tuple[float, int, np.ndarray, np.ndarray]]:
    """Each bounded level j as a row (upper bound, length, columns, coefficients) scaled to a
    largest coefficient of 1, its columns renumbered by `at` when given."""
    rows = []
    for j, bound in bounds:
        level = lp.levels[j]
        scale = float(np.abs(level.coefs).max()) if len(level.coefs) else 1.0
        scale = scale if scale > 0 else 1.0
        cols = level.cols if at is None else at[level.cols]
        rows.append((bound / scale, len(cols), cols.astype(np.int32),
                     level.coefs.astype(float) / scale))
    return rows


class LevelAlone:
    """A goal level solved alone, from scratch (interior point and crossover), on an instance of
    its own: the shadow prices of a large program (`alloc.lp.solve`), beside the run's last levels
    on another thread, or after them once the run's instance is given back.

    The instance holds the program without the linear stand-in's rows and columns: they only
    define the distance its tie-break minimises, and no goal level reads them (the run's instance
    freed them and presolve took them away). Never copied into the solver, they cost it no
    memory: at 1e5 columns 47% of the columns and 34% of the rows fewer, the instance's peak
    110 -> 94 MB (at 1e6 the run's 3,180 -> 2,902 MB), its solve as long, and the same duals
    bit for bit (BENCHMARKS.md). Row duals and column values are answered for the
    whole program: 0 on the rows and columns left out (a free row's dual, a column held at 0).
    """

    def __init__(self, lp: LinearProgram, verbose: bool = False):
        if not verbose:
            silence_banner()
        self.lp = lp
        keep_row = lp.rules != RULE_GROUPS.index("reference")
        keep_col = np.ones(lp.n_cols, dtype=bool)
        for level in lp.levels:
            if level.role == STAND_IN:
                keep_col[level.cols] = False
        self._rows = np.flatnonzero(keep_row)
        self._cols = np.flatnonzero(keep_col)
        self._at = np.full(lp.n_cols, -1, dtype=np.int64)
        self._at[self._cols] = np.arange(len(self._cols))
        start, index, value = lp.matrix()
        entries = np.repeat(keep_row, np.diff(start)) & keep_col[index]
        before = np.concatenate([[0], np.cumsum(entries)])
        counts = (before[start[1:]] - before[start[:-1]])[self._rows]
        del before
        index, value = self._at[index[entries]].astype(np.int32), value[entries]
        lower, upper = row_bounds(lp)
        self.n_rows, n = len(self._rows), len(self._cols)
        h = self.highs = highspy.Highs()
        h.setOptionValue("output_flag", verbose)
        for key, option in HIGHS_OPTIONS.items():
            h.setOptionValue(key, option)
        status = h.passModel(n, self.n_rows, len(index), int(highspy.MatrixFormat.kRowwise),
                             int(highspy.ObjSense.kMinimize), 0.0, np.zeros(n), np.zeros(n),
                             np.full(n, INF), lower[self._rows], upper[self._rows],
                             np.concatenate([[0], np.cumsum(counts)])[:-1].astype(np.int32),
                             index, value, np.zeros(n, dtype=np.int32))
        if status != highspy.HighsStatus.kOk:
            raise SolveError(f"HiGHS refused the model ({status})")

    def solve_alone(self, k: int, bounds: Sequence[tuple[int, float]], time_limit: float | None
                    ) -> tuple[Status, np.ndarray, np.ndarray] | None:
        """As `Backend.solve_alone`; None when level k or a bounded level reads a column left
        out (not a goal level: then the caller solves the whole program)."""
        lp, at, h = self.lp, self._at, self.highs
        level = lp.levels[k]
        if level.quadratic is not None or any(
                (at[lp.levels[j].cols] < 0).any() for j in [k, *(j for j, _ in bounds)]):
            return None
        extra = h.getNumRow() - self.n_rows
        if extra:
            h.deleteRows(extra, np.arange(self.n_rows, self.n_rows + extra, dtype=np.int32))
        for row in _bound_rows(lp, bounds, at):
            h.addRow(-INF, *row)
        options = {**level_options(lp.n_cols, k, level), "solver": "ipm", "run_crossover": "on",
                   "time_limit": INF if time_limit is None else float(time_limit)}
        for key, option in options.items():
            h.setOptionValue(key, option)
        costs = np.zeros(len(self._cols))
        costs[at[level.cols]] = level.solver_coefs
        h.changeColsCost(len(costs), np.arange(len(costs), dtype=np.int32), costs)
        h.clearSolver()
        h.run()
        status = highs_status(h)
        if status != "optimal":
            return status, np.zeros(0), np.zeros(0)
        solution = h.getSolution()
        duals = np.zeros(lp.n_rows)
        duals[self._rows] = np.asarray(solution.row_dual)[: self.n_rows]
        values = np.zeros(lp.n_cols)
        values[self._cols] = np.asarray(solution.col_value)
        return status, duals, values
