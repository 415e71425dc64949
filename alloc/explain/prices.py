"""Shadow prices at the final goal-programming level, whether a rule binds, whether the optimum
is degenerate, and the constraint table with a sentence per rule (constraints.csv, the
Constraints sheet).

The final goal-programming level is the last level of targets; the tie-break toward the
reference distribution is not a goal and is not priced. Its prices come from one extra solve of
that level alone, the earlier levels bounded by their optima as the solver held them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from alloc.errors import SolveError
from alloc.explain.program import (
    SOFT_RULES,
    TIE_BREAK,
    _Copy,
    _held,
    _normalised,
    _Rows,
    _solve,
    is_goal,
)
from alloc.explain.words import _NAME, _words, amount_text
from alloc.lp.build import EQ, RULE_GROUPS, LinearProgram
from alloc.lp.solve import SolveOptions
from alloc.model.domain import Plan

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Prices:
    """Duals of every row at the final goal-programming level, earlier levels held at their optimum.

    `prices[i]` is the change of that level's objective per unit added to row i's bound (NaN for
    rows of the tie-break level, which is not priced).
    """

    level: str
    level_text: str
    objective: float
    prices: np.ndarray
    degenerate: bool
    """More rules and zero amounts are tight than the LP has columns: duals are not unique."""
    failed: str = ""
    """Why there are no prices (the pricing solve failed), else empty."""


def final_goal_level(lp: LinearProgram) -> int:
    """Index of the last level of targets (the tie-break level only when there is no other)."""
    goals = [k for k, level in enumerate(lp.levels) if is_goal(level)]
    return goals[-1] if goals else len(lp.levels) - 1


def _rows_for(b: _Rows, lp: LinearProgram, k: int) -> np.ndarray:
    return b.not_tie_break if is_goal(lp.levels[k]) else np.arange(b.n_rows)


def shadow_prices(lp: LinearProgram, objectives: Mapping[str, float],
                  options: SolveOptions | None = None) -> Prices:
    """Prices at the final goal-programming level: one solve of that level alone, with the
    earlier levels bounded by their optima (as the solver held them)."""
    options = options or SolveOptions()
    b = _Rows(lp)
    k = final_goal_level(lp)
    level = lp.levels[k]
    rows = _rows_for(b, lp, k)
    copy = _Copy(b, rows, b.rhs)
    _held(copy, lp, objectives, k, lp.plan.level_tolerance, lp.plan.level_tolerance)
    normal, scale = _normalised(level.name, level.cols, level.coefs)
    answer = _solve(copy, [normal], options)
    if not answer.feasible or answer.values is None or answer.duals is None:
        raise SolveError(f"the final goal-programming level could not be priced ({answer.status})")
    prices = np.full(b.n_rows, np.nan)
    prices[rows] = np.asarray(answer.duals[: len(rows)]) * scale
    prices[np.abs(prices) < 1e-12] = 0.0
    values = answer.values
    objective = level.value(values)
    return Prices(level.name, level.text, objective, prices,
                  _degenerate(b, copy, values))


def _degenerate(b: _Rows, copy: _Copy, values: np.ndarray) -> bool:
    """A vertex with more tight constraints than columns: its duals are one choice among many."""
    rows = copy.rows
    activity = b.activity(values)[rows]
    rhs = b.rhs[rows]
    tight_rows = int(np.sum((b.sense[rows] == EQ)
                            | (np.abs(activity - rhs) <= 1e-7 * np.maximum(1.0, np.abs(rhs)))))
    used = set(b.index[np.concatenate([np.arange(b.start[i], b.start[i + 1]) for i in rows])
                       ].tolist()) if len(rows) else set()
    for sense, r, cols, coefs in copy.extra:
        act = float(coefs @ values[cols])
        tight_rows += int(sense == EQ or abs(act - r) <= 1e-7 * max(1.0, abs(r)))
        used.update(cols.tolist())
    used_cols = np.array(sorted(used), np.int64)
    tight_cols = int(np.sum(np.abs(values[used_cols]) <= 1e-9))
    return tight_rows + tight_cols > len(used_cols)


def binding(sense: str, rule: str, bound: float, slack: float) -> bool:
    """A hard rule with no room left (equalities always); targets are goals, never binding."""
    if rule in SOFT_RULES:
        return False
    return sense == "==" or abs(slack) <= 1e-6 * max(1.0, abs(bound))


def _unit_one(unit: str) -> str:
    return "one " + (unit[:-1] if unit.endswith("s") else unit)


def _what(plan: Plan, lp: LinearProgram, i: int) -> str:
    """'of ceiling for 2024', 'on the floor on TP3 in 2026': what one more unit is added to."""
    row = lp.row(i)
    if row.rule == "target":
        match = _NAME.match(row.name)
        code, label = [*match.group(2).split(","), ""][:2] if match else [row.name, ""]
        return f"on the target {code} for {label}"
    w = _words(plan, lp, i)
    if w.noun == "ceiling":
        return f"of ceiling for {w.when}"
    if w.noun.startswith("expected receipts"):
        return f"of expected receipts {w.subject} in {w.when}"
    return f"on the {w.full()}"


def rule_sentence(plan: Plan, lp: LinearProgram, i: int, rule: str, price: float,
                  is_binding: bool, slack: float, objective: str) -> str:
    """A plain sentence for one rule at the optimum: binding or not, and what it costs."""
    unit = plan.unit
    if rule not in SOFT_RULES and not is_binding:
        return f"Not binding: {amount_text(abs(slack))} {unit} to spare."
    head = "Target" if rule == "target" else "Binding"
    if not np.isfinite(price):
        return f"{head}; its shadow price could not be computed."
    what = f"each extra {_unit_one(unit)[4:]} {_what(plan, lp, i)}"
    if abs(price) < 1e-9:
        return f"{head}, but {what} would not change {objective}."
    verb = "reduce" if price < 0 else "increase"
    return f"{head}: {what} would {verb} {objective} by {abs(price):.4g}."


CONSTRAINT_CSV = ["rule", "name", "source", "activity", "bound", "slack", "shadow_price"]


def constraint_table(lp: LinearProgram, constraints: pd.DataFrame, prices: Prices
                     ) -> pd.DataFrame:
    """Every rule of the solution (`Solution.constraints`) with its price at the final
    goal-programming level, whether it binds, and a sentence; in the model's order."""
    import pandas as pd

    rows = np.flatnonzero(lp.rules != RULE_GROUPS.index(TIE_BREAK))
    names = constraints["name"].tolist()
    if len(rows) != len(names) or (len(rows) and (lp.row_names[int(rows[0])] != names[0]
                                                  or lp.row_names[int(rows[-1])] != names[-1])):
        where = {name: i for i, name in enumerate(lp.row_names)}
        rows = np.array([where[n] for n in names], dtype=np.int64)
    frame = constraints.reset_index(drop=True).copy()
    frame["shadow_price"] = prices.prices[rows]
    frame["binding"] = [binding(s, r, b, sl) for s, r, b, sl in
                        zip(frame["sense"], frame["rule"], frame["bound"], frame["slack"],
                            strict=True)]
    objective = prices.level_text
    objective = objective if objective.startswith("the ") else "the " + objective
    frame["sentence"] = [rule_sentence(lp.plan, lp, int(i), r, float(p), bool(bd), float(sl),
                                       objective)
                         for i, r, p, bd, sl in zip(rows, frame["rule"], frame["shadow_price"],
                                                    frame["binding"], frame["slack"], strict=True)]
    for column in ("activity", "bound", "slack"):
        frame[column] = frame[column].astype(float).round(6) + 0.0
    frame["shadow_price"] = frame["shadow_price"].astype(float).round(9) + 0.0
    return pd.DataFrame(frame)
