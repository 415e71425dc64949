"""Room for manoeuvre: the smallest and largest amount a thematic priority, an entity or a cell
can receive while every goal-programming level stays within a tolerance of its optimum (the
tie-break toward the reference distribution is free: it is the choice this shows).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from alloc.errors import SolveError
from alloc.explain.program import (
    AMOUNT_STEP,
    DEFAULT_TOLERANCE,
    _bound_level,
    _Copy,
    _Rows,
    is_goal,
    on_instances,
    probe_threads,
)
from alloc.lp.backends.base import Backend
from alloc.lp.build import Level, LinearProgram, level_bound
from alloc.lp.solve import SolveOptions, backend, solver_name


@dataclass(frozen=True)
class Room:
    """The smallest and largest total (all funds, all years) within tolerance of the optimum."""

    kind: Literal["priority", "entity", "cell"]
    code: str
    name: str
    amount: float
    low: float
    high: float

    @property
    def forced(self) -> bool:
        return self.high - self.low <= max(AMOUNT_STEP, 1e-6 * abs(self.high))


def objective_allowance(objective: float, tolerance: float, held: float | None = None) -> float:
    """How far a goal level may rise: `tolerance` of its optimum (plus solver noise), and for a
    level before the last at least the bound the solve itself held it to (`held`), so that the
    solution found is always inside the room."""
    allowed = objective + tolerance * abs(objective) + 1e-9 * max(1.0, abs(objective))
    return allowed if held is None else max(allowed, held)


def _group_cols(lp: LinearProgram, kind: str, code: str) -> np.ndarray:
    mandate = lp.plan.mandate
    if kind == "cell":
        chosen = np.array(["/".join(m.cell) == code for m in mandate], dtype=bool)
    else:
        k = {"entity": 0, "priority": 1}[kind]
        chosen = np.array([m.cell[k] == code for m in mandate], dtype=bool)
    if not len(chosen):
        return np.zeros(0, np.int64)
    return np.flatnonzero(chosen[lp.cell])


def flexibility(lp: LinearProgram, objectives: Mapping[str, float], values: np.ndarray | None,
                tolerance: float = DEFAULT_TOLERANCE, options: SolveOptions | None = None,
                items: Sequence[tuple[str, str]] | None = None, threads: int | None = None
                ) -> list[Room]:
    """Per thematic priority and entity (or the `items` given as (kind, code)): the range of its
    total while every target level stays within `tolerance` of its optimum.

    `values` are the solution's column values (for the amount it got), or None. Each item's ends
    are solved from the same basis (the first end's), on `threads` threads (default
    `probe_threads`), with the same results whatever their number.
    """
    options = options or SolveOptions()
    plan = lp.plan
    b = _Rows(lp)
    if items is None:
        items = ([("priority", p.code) for p in plan.priorities if not p.support]
                 + [("entity", e.code) for e in plan.entities])
    names = {**{("priority", p.code): p.name for p in plan.priorities},
             **{("entity", e.code): e.name for e in plan.entities}}
    goals = [lv for lv in lp.levels if is_goal(lv)]
    copy = _Copy(b, b.not_tie_break, b.rhs)
    for k, level in enumerate(goals):
        z = float(objectives[level.name])
        held = (level_bound(z, plan.level_tolerance) if k < len(goals) - 1 else None)
        _bound_level(copy, level, objective_allowance(z, tolerance, held) - level.constant)
    # every item's two ends are objectives over the same rows: one program, one solver
    # instance, each objective solved warm from the last basis (a level of its own, none held)
    groups = [_group_cols(lp, kind, code) for kind, code in items]
    ends = [Level("room", cols, np.full(len(cols), sign), "", primal=True)
            for cols in groups for sign in (1.0, -1.0)]
    program = copy.program(ends)
    solver = solver_name(options.solver)
    model = backend(program, solver, options.verbose)
    basis = None
    if len(ends) and model.can_update:  # the basis every item starts from: the first end's
        _solve_end(model, 0, items[0][1], options)
        basis = model.basis()

    def one(model: Backend, j: int) -> Room:
        kind, code = items[j]
        cols = groups[j]
        if basis is not None:
            model.start_from(basis)
        amount = float(np.sum(values[cols])) if values is not None else math.nan
        low, high = (float(np.sum(_solve_end(model, k, code, options)[cols]))
                     for k in (2 * j, 2 * j + 1))
        return Room(kind, code, names.get((kind, code), code), amount,  # type: ignore[arg-type]
                    min(low, high), max(low, high))

    if threads is None:
        threads = probe_threads(lp, options, len(items)) if basis is not None else 1
    return on_instances(model, lambda: backend(program, solver, options.verbose),
                        range(len(items)), one, threads)


def _solve_end(model: Backend, k: int, code: str, options: SolveOptions) -> np.ndarray:
    status = model.solve_level(k, options.time_limit)
    if status != "optimal":
        raise SolveError(f"room for manoeuvre of {code}: the solver said {status}")
    return model.values()
