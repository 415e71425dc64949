"""PuLP's model of the program, solved by CBC or by PuLP's own HiGHS class, each level from scratch.

The plain path: the fallback when highspy cannot be loaded (`--solver cbc`, or `highs-pulp`), and
the yardstick the fast path (`alloc.lp.backends.highs`) is tested against. Its rows are `r{i}` and
its columns `c{j}`, in the order of the program's row and column names, so that
`PulpModel(lp, ...)`, `set_level(k)` then `problem.writeLP(...)` or `problem.writeMPS(...)` writes
one level as a file any LP solver reads. Rows that hold a level's optimum are named `level{k}`.

The status is ours: CBC's solution status, or HiGHS' own statuses under PuLP's HiGHS class
(PuLP reports a HiGHS time limit as "Optimal").
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pulp

from alloc.lp.backends.base import Backend
from alloc.lp.program import LinearProgram, Sense, face_threshold, level_bound
from alloc.lp.solution import Status

SOLVERS = {"highs-pulp": "HiGHS", "cbc": "PULP_CBC_CMD"}
"""Our solver names on this path and the PuLP solver class each stands on."""
ACTIVE = 1e-7
"""A row whose slack is this small is active, when holding a level's face."""
AT_ZERO = 1e-9
"""A column this close to zero is at its bound, when holding a level's face."""
_SENSES = {"<=": pulp.LpConstraintLE, ">=": pulp.LpConstraintGE, "==": pulp.LpConstraintEQ}


def make_solver(name: str, msg: bool, time_limit: float | None, **options: Any) -> Any:
    """A PuLP solver object by its PuLP name (a value of `SOLVERS`)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "PULP_CBC_CMD is deprecated", DeprecationWarning)
        return pulp.getSolver(name, msg=msg, timeLimit=time_limit, **options)


class PulpModel(Backend):
    """The program as a PuLP problem, solved level by level by CBC or PuLP's HiGHS class."""

    def __init__(self, lp: LinearProgram, solver: str = "cbc", verbose: bool = False):
        if solver not in SOLVERS:
            raise ValueError(f"no PuLP solver for '{solver}'; choose one of {', '.join(SOLVERS)}")
        if solver == "highs-pulp" and not verbose:
            from alloc.lp.backends.highs import silence_banner

            silence_banner()
        self.lp = lp
        self.solver = solver
        self.verbose = verbose
        self.problem = pulp.LpProblem(lp.plan.name or "alloc", pulp.LpMinimize)
        self.vars = [self.problem.add_variable(f"c{j}", lowBound=0) for j in range(lp.n_cols)]
        self.constraints: list[Any] = []
        for i, row in enumerate(lp.rows):
            self.constraints.append(self._add(f"r{i}", row.sense, row.rhs, row.cols, row.coefs))
        self.level_bounds: list[Any] = []
        self._faces: list[tuple[Any, str, Any]] = []
        """What `hold_level` changed, to undo: (variable or row, attribute, value before)."""

    def _add(self, name: str, sense: Sense, rhs: float, cols: np.ndarray,
             coefs: np.ndarray) -> Any:
        expr = pulp.LpAffineExpression([(self.vars[c], float(a)) for c, a in
                                        zip(cols.tolist(), coefs.tolist(), strict=True)])
        constraint = pulp.LpConstraint(expr, _SENSES[sense], name=name, rhs=rhs)
        self.problem.addConstraint(constraint)
        return constraint

    def set_level(self, k: int) -> None:
        """The objective: level k's scaled costs."""
        level = self.lp.levels[k]
        self.problem.setObjective(pulp.LpAffineExpression(
            [(self.vars[c], float(a)) for c, a in zip(level.cols.tolist(),
                                                      level.solver_coefs.tolist(), strict=True)]))

    def solve(self, solver: Any) -> None:
        self.problem.solve(solver)

    def solve_level(self, k: int, time_limit: float | None) -> Status:
        self.set_level(k)
        options: dict[str, Any] = {}
        if self.solver == "highs-pulp":
            from alloc.lp.backends.highs import HIGHS_OPTIONS

            options = HIGHS_OPTIONS
        self.solve(make_solver(SOLVERS[self.solver], msg=self.verbose, time_limit=time_limit,
                               **options))
        return self.status(time_limited=time_limit is not None)

    def status(self, time_limited: bool) -> Status:
        """Our status of the last solve."""
        if self.solver == "highs-pulp":
            from alloc.lp.backends.highs import highs_status

            return highs_status(self.solver_model)
        # PuLP's solution status codes: 1 optimal, -1 infeasible, -2 unbounded, 0/2 none or partial.
        sol_status = self.problem.sol_status
        if sol_status == 1:
            return "optimal"
        if sol_status == -1:
            return "infeasible"
        if sol_status == -2:
            return "unbounded"
        return "time_limit" if time_limited else "error"

    def hold_level(self, k: int, optimum: float) -> None:
        """Columns fixed at zero by their upper bound, rows made equalities by their sense; the
        level's bound as a row `level{k}`."""
        level = self.lp.levels[k]
        threshold = face_threshold(level)
        for var in self.vars:
            if (var.dj is not None and var.dj > threshold and var.varValue is not None
                    and abs(var.varValue) <= AT_ZERO):
                self._faces.append((var, "upBound", var.upBound))
                var.upBound = 0.0
        for constraint in (*self.constraints, *self.level_bounds):
            if (constraint.pi is not None and abs(constraint.pi) > threshold
                    and constraint.sense != pulp.LpConstraintEQ
                    and constraint.slack is not None and abs(constraint.slack) <= ACTIVE):
                self._faces.append((constraint, "sense", constraint.sense))
                constraint.sense = pulp.LpConstraintEQ
        self.level_bounds.append(self._add(f"level{k}", "<=",
                                           level_bound(optimum, self.lp.plan.level_tolerance)
                                           - level.constant, level.cols, level.coefs))

    def release_faces(self) -> bool:
        """Columns and rows back as they were before any face was held; the `level{k}` rows
        kept."""
        if not self._faces:
            return False
        for thing, attribute, before in reversed(self._faces):
            setattr(thing, attribute, before)
        self._faces = []
        return True

    def quadratic_ok(self) -> bool:
        """CBC solves no quadratic level (nor does PuLP hand one to HiGHS)."""
        return False

    def values(self) -> np.ndarray:
        return np.array([v.varValue if v.varValue is not None else np.nan for v in self.vars])

    def duals(self) -> np.ndarray:
        return np.array([c.pi if c.pi is not None else np.nan for c in self.constraints])

    @property
    def solver_model(self) -> Any:
        """The solver's own model object after an in-process solve (a highspy.Highs)."""
        return getattr(self.problem, "solverModel", None)
