"""Solving: the only module that knows solvers. HiGHS in process by default, CBC as fallback.

The status is ours, read from what the solver says about its solution (HiGHS' model status and
primal solution status; CBC's solution status), never from a status word alone: PuLP reports a
HiGHS time limit as "Optimal". Every optimal answer is then checked independently (`alloc.check`)
and refused if any rule is violated.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alloc.build import Level, LinearProgram, PulpModel, available_solvers, make_solver
from alloc.check import check
from alloc.errors import SolveError
from alloc.solution import (
    ALLOCATION_COLUMNS,
    AMOUNT_DECIMALS,
    CONSTRAINT_COLUMNS,
    Solution,
    Status,
)

SOLVERS = {"highs": "HiGHS", "cbc": "PULP_CBC_CMD"}
ZERO = 0.5 * 10.0**-AMOUNT_DECIMALS


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


def solver_name(requested: str) -> str:
    """The solver to use: the one asked for, or CBC when HiGHS cannot be loaded."""
    if requested not in SOLVERS:
        raise ValueError(f"unknown solver '{requested}'; choose one of {', '.join(SOLVERS)}")
    if requested == "highs" and "HiGHS" not in available_solvers():
        return "cbc"
    return requested


def _status(model: PulpModel, solver: str, time_limited: bool) -> Status:
    if solver == "highs":
        import highspy

        highs = model.solver_model
        status = highs.getModelStatus()  # type: ignore[attr-defined]
        feasible = (highs.getInfo().primal_solution_status  # type: ignore[attr-defined]
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
    _, sol_status = model.pulp_status
    # PuLP's solution status codes: 1 optimal, -1 infeasible, -2 unbounded, 0/2 none or partial.
    if sol_status == 1:
        return "optimal"
    if sol_status == -1:
        return "infeasible"
    if sol_status == -2:
        return "unbounded"
    return "time_limit" if time_limited else "error"


def _run_levels(lp: LinearProgram, options: SolveOptions, elastic: bool = False
                ) -> tuple[Status, str, PulpModel, dict[str, float], str]:
    solver = solver_name(options.solver)
    if solver == "highs" and not options.verbose:
        _silence_highs_banner()
    model = PulpModel(lp)
    objectives: dict[str, float] = {}
    started = time.perf_counter()
    for k, level in enumerate(lp.levels):
        remaining = None
        if options.time_limit is not None:
            remaining = max(options.time_limit - (time.perf_counter() - started), 0.01)
        model.set_level(k)
        model.solve(make_solver(SOLVERS[solver], msg=options.verbose, time_limit=remaining))
        status = _status(model, solver, remaining is not None)
        if status != "optimal":
            return status, solver, model, objectives, level.name
        values = model.values()
        objectives[level.name] = float(level.coefs @ values[level.cols])
        if k < len(lp.levels) - 1:
            model.hold_level(k, objectives[level.name], lp.plan.level_tolerance)
    return "optimal", solver, model, objectives, ""


def allocation_frame(lp: LinearProgram, values: np.ndarray) -> pd.DataFrame:
    """The allocation columns as a tidy, sorted frame of non-zero amounts."""
    plan = lp.plan
    amounts = np.round(values[: lp.n_alloc], AMOUNT_DECIMALS)
    keep = np.flatnonzero(amounts >= ZERO)
    cells = [plan.mandate[i].cell for i in lp.cell[keep]]
    frame = pd.DataFrame({
        "entity": [c.entity for c in cells],
        "priority": [c.priority for c in cells],
        "output": [c.output for c in cells],
        "year": lp.year[keep].astype(int),
        "fund": [plan.fund_codes[k] for k in lp.fund[keep]],
        "amount": amounts[keep] + 0.0,
    }, columns=ALLOCATION_COLUMNS)
    order = {code: i for i, code in enumerate(plan.fund_codes)}
    frame["_fund"] = frame["fund"].map(order)
    frame["_cell"] = lp.cell[keep]
    return (frame.sort_values(["_cell", "year", "_fund"], kind="stable")
            .drop(columns=["_fund", "_cell"]).reset_index(drop=True))


def _constraints(lp: LinearProgram, values: np.ndarray, duals: np.ndarray) -> pd.DataFrame:
    records = []
    for row, dual in zip(lp.rows, duals[: len(lp.rows)], strict=True):
        if row.rule == "reference":
            continue
        activity = float(row.coefs @ values[row.cols])
        slack = row.rhs - activity if row.sense == "<=" else activity - row.rhs
        records.append((row.rule, row.name, row.source, row.text, row.sense, row.rhs, activity,
                        0.0 if row.sense == "==" else slack, float(dual)))
    return pd.DataFrame.from_records(records, columns=CONSTRAINT_COLUMNS)


def solve(lp: LinearProgram, options: SolveOptions | None = None) -> Solution:
    """Solve the levels in order, then check the answer independently of the solver."""
    options = options or SolveOptions()
    status, solver, model, objectives, level = _run_levels(lp, options)
    if status != "optimal":
        solution = Solution(lp.plan, status, solver, objectives=objectives)
        where = "" if level == lp.levels[0].name else f" (at goal-programming {level})"
        if status == "infeasible" and not objectives:
            solution.conflicts = diagnose(lp, options)
            groups = sorted({c["rule"] for c in solution.conflicts})
            solution.message = ("the rules cannot all hold; these groups conflict: "
                                + ", ".join(groups) if groups else "the rules cannot all hold")
        else:
            solution.message = {
                "infeasible": "the solver found no allocation that keeps every rule",
                "unbounded": "the objective is unbounded; a target or weight is ill-posed",
                "time_limit": "the solver stopped at the time limit before proving optimality",
                "error": "the solver failed",
            }[status] + where
        return solution
    values = model.values()
    if np.isnan(values).any():
        raise SolveError("the solver reported optimal but returned no values")
    allocation = allocation_frame(lp, values)
    solution = Solution(lp.plan, "optimal", solver, objectives=objectives, allocation=allocation,
                        constraints=_constraints(lp, values, model.duals()))
    violations = check(lp.plan, allocation)
    if violations:
        listed = "\n".join(f"  - {v}" for v in violations[:10])
        raise SolveError(f"the {solver} solution breaks {len(violations)} rule(s) when checked "
                         f"independently; it is not reported:\n{listed}")
    solution.max_violation = 0.0
    return solution


SOFT_RULES = ("target", "reference", "level")
DIAGNOSIS_EPS = 1e-6


def diagnose(lp: LinearProgram, options: SolveOptions) -> list[dict]:
    """A small set of rules that cannot hold together, and how far each would have to move.

    An elastic filter finds rules that must give way (each solve of the elastic copy enforces the
    rules that took slack, until the enforced set alone is infeasible), then a deletion filter
    drops every rule the conflict does not need: what is left is irreducible. For each rule left,
    the amount is what it would have to move if it alone gave way (None if that is not enough).
    """
    hard = [i for i, row in enumerate(lp.rows) if row.rule not in SOFT_RULES]
    enforced: list[int] = []
    while True:
        status, slack = _elastic_solve(lp, hard, [i for i in hard if i not in enforced], options)
        if status != "optimal":
            break
        taking = [i for i in hard if abs(slack.get(i, 0.0)) > DIAGNOSIS_EPS and i not in enforced]
        if not taking:
            return []
        enforced.extend(taking)
    conflict = sorted(enforced)
    for i in list(conflict):
        trial = [j for j in conflict if j != i]
        if _elastic_solve(lp, trial, [], options)[0] != "optimal":
            conflict = trial
    out = []
    for i in conflict:
        row = lp.rows[i]
        status, slack = _elastic_solve(lp, hard, [i], options)
        amount = round(abs(slack.get(i, 0.0)), 3) if status == "optimal" else None
        change = {"<=": "raise", ">=": "lower"}.get(row.sense)
        if change is None:
            change = "raise" if status == "optimal" and slack.get(i, 0.0) > 0 else "lower"
        out.append({"rule": row.rule, "name": row.name, "source": row.source, "text": row.text,
                    "change": change, "amount": amount})
    return out


def _elastic_solve(lp: LinearProgram, rows: list[int], elastic: list[int],
                   options: SolveOptions) -> tuple[Status, dict[int, float]]:
    """Solve the allocation LP restricted to `rows`, with slack on the `elastic` ones.

    Returns the status and, per elastic row, its slack: positive where the row's bound would have
    to be raised (a cap or an equality from above), negative where lowered.
    """
    copy = LinearProgram(lp.plan, lp.cell, lp.year, lp.fund, list(lp.col_names))
    slack_cols: dict[int, tuple[int, int]] = {}
    elastic_set = set(elastic)
    for i in rows:
        row = lp.rows[i]
        cols, coefs = row.cols, row.coefs
        over = under = -1
        if i in elastic_set:
            if row.sense in (">=", "=="):
                (under,) = copy.add_cols([f"slack_under[{row.name}]"])
                cols, coefs = np.append(cols, under), np.append(coefs, 1.0)
            if row.sense in ("<=", "=="):
                (over,) = copy.add_cols([f"slack_over[{row.name}]"])
                cols, coefs = np.append(cols, over), np.append(coefs, -1.0)
            slack_cols[i] = (int(over), int(under))
        copy.add_row(row.name, row.rule, row.sense, row.rhs, cols, coefs, row.source, row.text)
    objective = [c for pair in slack_cols.values() for c in pair if c >= 0]
    copy.levels = [Level("slack", np.array(objective, dtype=np.int64), np.ones(len(objective)),
                         "total amount by which rules must give way")]
    status, _, model, _, _ = _run_levels(copy, options)
    if status != "optimal":
        return status, {}
    values = model.values()
    return status, {i: (values[o] if o >= 0 else 0.0) - (values[u] if u >= 0 else 0.0)
                    for i, (o, u) in slack_cols.items()}
