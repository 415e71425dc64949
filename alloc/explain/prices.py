"""Shadow prices at the final goal-programming level, whether a rule binds, whether the optimum
is degenerate, and the constraint table with a sentence per rule (constraints.csv, the
Constraints sheet).

The final goal-programming level is the last level of targets; the tie-break toward the
reference distribution is not a goal and is not priced. Its prices are read from the run's own
solver when that level was the first solved (`Solution.priced`), else they come from one extra
solve of that level alone, the earlier levels bounded by their optima as the solver held them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
from alloc.lp.program import dot, priced_level
from alloc.lp.solution import Priced
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
    return priced_level(lp)


def _rows_for(b: _Rows, lp: LinearProgram, k: int) -> np.ndarray:
    return b.not_tie_break if is_goal(lp.levels[k]) else np.arange(b.n_rows)


def shadow_prices(lp: LinearProgram, objectives: Mapping[str, float],
                  options: SolveOptions | None = None, priced: Priced | None = None) -> Prices:
    """Prices at the final goal-programming level: one solve of that level alone, with the
    earlier levels bounded by their optima (as the solver held them).

    With `priced` (`Solution.priced`: the run's own solver right after that level when it was
    the first solved, else that level solved alone once more on the run's instance, warm, with
    the same bounds on the earlier levels), they are read from it instead: the same program,
    already solved. Its rows of the tie-break's stand-in have no cost and free distance columns
    (or are taken out), so their duals are 0 and leave the others' as in a solve without them.
    """
    options = options or SolveOptions()
    b = _Rows(lp)
    k = final_goal_level(lp)
    level = lp.levels[k]
    rows = _rows_for(b, lp, k)
    copy = _Copy(b, rows, b.rhs)
    _held(copy, lp, objectives, k, lp.plan.level_tolerance, lp.plan.level_tolerance)
    if (priced is not None and priced.level == k and is_goal(level)
            and len(priced.duals) == b.n_rows and len(priced.values) >= b.n_cols):
        prices = np.full(b.n_rows, np.nan)
        prices[rows] = priced.duals[rows]
        prices[np.abs(prices) < 1e-12] = 0.0
        values = priced.values[: b.n_cols]
        return Prices(level.name, level.text, level.value(values), prices,
                      _degenerate(b, copy, values))
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
        act = dot(coefs, values[cols])
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


def money(unit: str, amount: float) -> str:
    """'CHF 1,000 thousand' in CHF thousands, else '1,000 units'."""
    if unit.startswith("CHF ") and unit.endswith("thousands"):
        return f"CHF {amount_text(amount)} thousand"
    return f"{amount_text(amount)} {unit}"


def _what(plan: Plan, lp: LinearProgram, i: int) -> str:
    """'of ceiling for 2024', 'on the floor on TP3 in 2026': what one more unit is added to."""
    row = lp.row_head(i)
    if row.rule == "target":
        match = _NAME.match(row.name)
        code, label = [*match.group(2).split(","), ""][:2] if match else [row.name, ""]
        return f"on the target {code} for {label}"
    w = _words(plan, lp, i, row)
    if w.noun == "ceiling":
        return f"of ceiling for {w.when}"
    if w.noun.startswith("expected receipts"):
        return f"of expected receipts {w.subject} in {w.when}"
    return f"on the {w.full()}"


VALUE_LEVEL = "value"
"""The goal level of costed requirements (alloc.lp.build.goal_levels)."""
STEP = 1000.0
"""How much more money a sentence about the value level speaks of: a round sum a working group
weighs (the price holds for it only while the requirements it names still lack that much)."""
_PARTLY = 1e-6
"""Funded parts within this (relative, at least absolute) of 0 or of the requirement are whole."""


@dataclass(frozen=True)
class Need:
    """A costed requirement at the optimum, as the sentences name it."""

    cell: int
    """Position in the plan's mandate."""
    year: int
    amount: float
    funded: float
    value: float
    key: str
    """'BDT/TP3/PS6'."""
    priority: str
    """'TP3 (Inclusive and secure infrastructure)'."""
    tranche: str
    """'current service level'."""

    @property
    def kind(self) -> str:
        """'TP3 (Inclusive and secure infrastructure), current service level'."""
        return f"{self.priority}, {self.tranche}"

    @property
    def label(self) -> str:
        """'BDT/TP3/PS6 (Inclusive and secure infrastructure, current service level)'."""
        name = self.priority.partition(" (")[2].removesuffix(")")
        return f"{self.key} ({name + ', ' if name else ''}{self.tranche})"

    @property
    def unfunded(self) -> float:
        return max(self.amount - self.funded, 0.0)

    @property
    def partly(self) -> bool:
        """Funded strictly between nothing and all of it: where the next franc goes."""
        tol = _PARTLY * max(1.0, self.amount)
        return tol < self.funded < self.amount - tol


def needs(plan: Plan, funded: Mapping[str, float]) -> list[Need]:
    """The plan's requirements with the part funded, from the activity of their rows
    (`requirement[E/P/O,year,tranche]`: the part funded, at most the requirement)."""
    where = {m.cell: c for c, m in enumerate(plan.mandate)}
    names = {p.code: p.name for p in plan.priorities}
    tranches = {t.code: t.name for t in plan.valuation.tranches}
    out = []
    for r in plan.requirements:
        key = "/".join(r.cell)
        f = float(funded.get(f"requirement[{key},{r.year},{r.tranche}]", 0.0))
        tranche = tranches.get(r.tranche, r.tranche)
        name = names.get(r.cell.priority, "")
        priority = f"{r.cell.priority} ({name})" if name else r.cell.priority
        out.append(Need(where[r.cell], r.year, r.amount, min(max(f, 0.0), r.amount), r.value,
                        key, priority, tranche[:1].lower() + tranche[1:]))
    return out


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _scope(lp: LinearProgram, i: int) -> set[tuple[int, int]]:
    """The (cell, year) pairs whose money row i counts."""
    cols = lp.row(i).cols
    cols = cols[cols < lp.n_alloc]
    return set(zip(lp.cell[cols].tolist(), lp.year[cols].tolist(), strict=True))


def _named(found: Sequence[Need]) -> str:
    """'X (P, tranche)', or per priority and tranche: 'TP3 (name), enhanced, in BR/TP3/PS3,
    BR/TP3/PS4 and 11 more cells', with the year where they differ."""
    years = len({n.year for n in found}) > 1
    if len(found) == 1:
        n = found[0]
        return n.label + (f" in {n.year}" if years else "")
    groups: dict[str, list[Need]] = {}
    for n in found:
        groups.setdefault(n.kind, []).append(n)
    parts = []
    for kind, members in list(groups.items())[:2]:
        keys = list(dict.fromkeys(n.key + (f" in {n.year}" if years else "") for n in members))
        shown = _join_keys(keys)
        parts.append(f"{kind}, in {shown}" if len(keys) == 1
                     else f"{kind}, in {len(keys)} cells ({shown})")
    more = len(groups) - 2
    text = " and ".join(parts) if len(parts) == 2 else parts[0]
    return text + (f"; and {more} other kinds of requirement of the same value" if more > 0
                   else "")


def _join_keys(keys: Sequence[str]) -> str:
    if len(keys) <= 3:
        return keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + " and " + keys[-1]
    return f"{keys[0]}, {keys[1]} and {len(keys) - 2} more"


def per_unit(unit: str) -> str:
    """'CHF thousand' (in CHF thousands), else the unit in the singular."""
    return "CHF thousand" if unit.startswith("CHF ") and unit.endswith("thousands") else \
        _unit_one(unit)[4:]


def _fund_more(plan: Plan, found: Sequence[Need], lead: Callable[[float], str]) -> str:
    """'<lead(1,000)> would fund 1,000 more of X, worth v per CHF thousand (w of value)', or of
    the smaller sum the named requirements still lack."""
    unit = plan.unit
    room = sum(n.unfunded for n in found)
    value = found[0].value
    per = per_unit(unit)
    if room >= STEP:
        shared = ", shared among them" if len(found) > 1 else ""
        return (f"{lead(STEP)} would fund {amount_text(STEP)} more of {_named(found)}"
                f"{shared}, worth {value:.4g} per {per} ({amount_text(round(STEP * value, 3))} "
                "of value)")
    room = float(np.floor(room)) if room >= 1 else round(room, 3)
    lack = "lacks" if len(found) == 1 else "lack"
    return (f"{lead(room)} would fund the {amount_text(room)} that {_named(found)} still "
            f"{lack}, worth {value:.4g} per {per}")


def _value_sentence(plan: Plan, lp: LinearProgram, i: int, price: float,
                    reqs: Sequence[Need], what: str) -> str:
    """A binding rule priced at the value level, saying what the marginal money would fund.

    A price p < 0: one more unit of the rule's bound funds requirements worth -p: the
    requirements partly funded (in the cells and years the rule counts) whose value is -p. A
    price p > 0: the rule holds money where it is worth p less than elsewhere in its years: a
    unit less would fund a requirement partly funded outside it worth p more than what that unit
    funds inside it (nothing, or a requirement partly funded there).
    """
    unit = plan.unit
    per = per_unit(unit)
    scope = _scope(lp, i)
    partly = [n for n in reqs if n.partly]
    years = {y for _, y in scope}
    if price < 0:
        outside = [0.0, *sorted({n.value for n in partly
                                 if (n.cell, n.year) not in scope and n.year in years})]
        for v_out in outside:
            found = [n for n in partly if (n.cell, n.year) in scope
                     and _same(n.value, -price + v_out)]
            if not found:
                continue

            def more(x: float) -> str:
                return (f"each further {money(unit, x)} {what}" if x == STEP
                        else f"the first {money(unit, x)} more {what}")

            taken = ("" if v_out == 0 else
                     f", taken from requirements worth {v_out:.4g} per {per} elsewhere in "
                     f"{_join_keys([str(y) for y in sorted(years)])}: {-price:.4g} more value "
                     f"per {per}")
            return "Binding: " + _fund_more(plan, found, more) + taken + "."
        return (f"Binding: each further {per} {what} would add {-price:.4g} to the value of the "
                "requirements funded.")
    years = {y for _, y in scope}
    inside = [0.0, *sorted({n.value for n in partly if (n.cell, n.year) in scope})]
    head = f"Binding: this {_words(plan, lp, i).noun} costs {price:.4g} of value per {per}"
    for v_in in inside:
        found = [n for n in partly if (n.cell, n.year) not in scope and n.year in years
                 and _same(n.value, price + v_in)]
        if not found:
            continue
        there = ("funds no further requirement there" if v_in == 0
                 else f"funds requirements worth {v_in:.4g} per {per} there")
        return (f"{head}: each further {per} of it is taken from {_named(found)}, worth "
                f"{found[0].value:.4g} per {per}, and {there}.")
    return (f"{head}: each further {per} of it takes money from requirements worth that much "
            "more than what it funds.")


def rule_sentence(plan: Plan, lp: LinearProgram, i: int, rule: str, price: float,
                  is_binding: bool, slack: float, objective: str,
                  reqs: Sequence[Need] | None = None, activity: float = 0.0,
                  bound: float = 0.0, phrase: str | None = None) -> str:
    """A plain sentence for one rule at the optimum: binding or not, and what it costs.

    With `reqs` (prices at the value level), a binding rule's price is said as what the next
    money would fund, and the requirement rows say how far they are funded. `phrase`: what one
    more unit is added to (`rule_phrases`), when made already.
    """
    unit = plan.unit
    if reqs is not None and rule == "requirement":
        return _requirement_sentence(plan, lp, i, price, activity, bound, slack)
    if rule not in SOFT_RULES and not is_binding:
        return f"Not binding: {amount_text(abs(slack))} {unit} to spare."
    head = "Target" if rule == "target" else "Binding"
    if not np.isfinite(price):
        return f"{head}; its shadow price could not be computed."
    phrase = _what(plan, lp, i) if phrase is None else phrase
    what = f"each extra {_unit_one(unit)[4:]} {phrase}"
    if abs(price) < 1e-9:
        return f"{head}, but {what} would not change {objective}."
    if reqs is not None and rule != "target":
        return _value_sentence(plan, lp, i, price, reqs, phrase)
    verb = "reduce" if price < 0 else "increase"
    return f"{head}: {what} would {verb} {objective} by {abs(price):.4g}."


def _requirement_sentence(plan: Plan, lp: LinearProgram, i: int, price: float, activity: float,
                          bound: float, slack: float) -> str:
    """A requirement row: how far it is funded and, when whole, its worth against the margin.

    `requirement[...]` (funded part <= requirement): its price is minus what a unit of it is
    worth above the money at the margin. `funded[cell,year]` (funded parts <= the cell's
    spending): slack is money beyond the cell's requirements.
    """
    unit = plan.unit
    name = lp.row_names[i]
    if name.startswith("funded["):
        if slack > 1e-6 * max(1.0, abs(bound)):
            return (f"Money beyond requirements: {amount_text(round(slack, 3))} {unit} of this "
                    "cell's spending in the year fund no requirement of it (a balanced budget "
                    "spends it on the reference distribution).")
        return "All of this cell's spending in the year funds its requirements."
    funded, amount = max(activity, 0.0), bound
    if funded >= amount - _PARTLY * max(1.0, amount):
        text = f"Fully funded: {amount_text(round(amount, 3))} {unit}."
        if np.isfinite(price) and price < -1e-9:
            text += (f" A unit of it is worth {-price:.4g} more than what the money at the margin"
                     " funds.")
        return text
    if funded <= _PARTLY * max(1.0, amount):
        return f"Not funded: {amount_text(round(amount, 3))} {unit} unfunded."
    return (f"Partly funded: {amount_text(round(funded, 3))} of {amount_text(round(amount, 3))} "
            f"{unit} ({amount_text(round(amount - funded, 3))} unfunded); the money at the "
            "margin goes here.")


CONSTRAINT_CSV = ["rule", "name", "source", "activity", "bound", "slack", "shadow_price", "text"]


def _table_rows(lp: LinearProgram, constraints: pd.DataFrame) -> np.ndarray:
    """The program's row of each rule of `Solution.constraints`, in its order."""
    rows = np.flatnonzero(lp.rules != RULE_GROUPS.index(TIE_BREAK))
    names = constraints["name"].tolist()
    if len(rows) != len(names) or (len(rows) and (lp.row_names[int(rows[0])] != names[0]
                                                  or lp.row_names[int(rows[-1])] != names[-1])):
        where = {name: i for i, name in enumerate(lp.row_names)}
        rows = np.array([where[n] for n in names], dtype=np.int64)
    return rows


def _binding(constraints: pd.DataFrame) -> list[bool]:
    return [binding(s, r, b, sl) for s, r, b, sl in zip(
        *(constraints[c].tolist() for c in ("sense", "rule", "bound", "slack")), strict=True)]


def rule_phrases(lp: LinearProgram, constraints: pd.DataFrame) -> dict[int, str]:
    """What one more unit of each rule a sentence may price is added to ('of ceiling for
    2026'), by program row: the part of `constraint_table`'s sentences that needs the values
    only, made ahead where a run waits for its prices (`alloc.lp.solve.solve`'s `meanwhile`)."""
    rows = _table_rows(lp, constraints).tolist()
    plan = lp.plan
    return {i: _what(plan, lp, i) for i, rule, tight in zip(
        rows, constraints["rule"].tolist(), _binding(constraints), strict=True)
        if tight or rule in SOFT_RULES}


def constraint_table(lp: LinearProgram, constraints: pd.DataFrame, prices: Prices,
                     phrases: Mapping[int, str] | None = None) -> pd.DataFrame:
    """Every rule of the solution (`Solution.constraints`) with its price at the final
    goal-programming level, whether it binds, and a sentence; in the model's order.
    `phrases`: `rule_phrases` of the same rules, when made already."""
    import pandas as pd

    rows = _table_rows(lp, constraints)
    frame = constraints.reset_index(drop=True).copy()
    frame["shadow_price"] = prices.prices[rows]
    frame["binding"] = _binding(frame)
    phrases = phrases or {}
    objective = prices.level_text
    objective = objective if objective.startswith("the ") else "the " + objective
    reqs = None
    if prices.level == VALUE_LEVEL and lp.plan.requirements:
        mine = frame["rule"] == "requirement"
        reqs = needs(lp.plan, dict(zip(frame.loc[mine, "name"], frame.loc[mine, "activity"],
                                       strict=True)))
        objective = "the value of the requirements left unfunded"
    frame["sentence"] = [
        rule_sentence(lp.plan, lp, int(i), r, float(p), bool(bd), float(sl), objective, reqs,
                      float(a), float(b), phrases.get(i))
        for i, r, p, bd, sl, a, b in zip(rows.tolist(), *(frame[c].tolist() for c in (
            "rule", "shadow_price", "binding", "slack", "activity", "bound")), strict=True)]
    for column in ("activity", "bound", "slack"):
        frame[column] = frame[column].astype(float).round(6) + 0.0
    frame["shadow_price"] = frame["shadow_price"].astype(float).round(9) + 0.0
    return pd.DataFrame(frame)
