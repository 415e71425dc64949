"""An independent check of an allocation against every rule of the plan, one function per rule group.

It reads the plan's rules and the allocation's amounts, recomputes every sum with numpy and
pandas, and shares no code with the LP builder (it imports nothing of `alloc.lp` but the plan's
domain): a mistake in building the LP cannot hide here. The functions have the names of the
builder's (`alloc.lp.build`): `ceiling`, `envelopes`, `committed`, `bounds`, `stability`, `funds`,
`mandate_cells` (and `requirements`, which also reads the funded parts), and before them
`amounts` (non-negative, finite) and `membership` (a mandate
cell, a plan year, a fund whose earmark admits the cell, which the builder keeps by leaving
columns out). Targets and the tie-break are goals, not rules: they are not checked.

Sums that come in families (per entity and year, per fund and year, per cell and year, ...) are
taken once with a grouped sum, not with a mask per rule, so a check costs about as much as
reading the allocation, whatever the number of rules.

Tolerance: a rule holds if it is violated by at most a thousandth of the unit (one franc in CHF
thousands), plus 1e-9 of the bound, plus half a thousandth of a franc per amount summed (the
rounding of reported amounts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alloc.model.domain import REGULAR, Plan, Selection

ABS_TOLERANCE = 1e-3
REL_TOLERANCE = 1e-9
PER_TERM_TOLERANCE = 5e-7


@dataclass(frozen=True)
class Violation:
    rule: str
    what: str
    amount: float
    limit: float
    excess: float

    def __str__(self) -> str:
        return f"{self.rule}: {self.what}: {self.amount:,.3f} against {self.limit:,.3f}"


def check(plan: Plan, allocation: pd.DataFrame,
          funding: pd.DataFrame | None = None) -> list[Violation]:
    """Every rule of the plan the allocation breaks beyond the tolerance; empty when all hold.
    With `funding` (the funded part of each requirement), `requirements` is checked too."""
    a = Amounts(allocation)
    out = [v for rule in RULES for v in rule(plan, a)]
    if funding is not None:
        out.extend(requirements(plan, a, funding))
    return out


def _holds(out: list[Violation], rule: str, what: str, value: float, sense: str, limit: float,
           terms: int) -> None:
    """Record a violation unless `value sense limit` holds within the tolerance for `terms`
    amounts summed."""
    tol = ABS_TOLERANCE + REL_TOLERANCE * abs(limit) + PER_TERM_TOLERANCE * terms
    excess = {"<=": value - limit, ">=": limit - value, "==": abs(value - limit)}[sense]
    if not np.isfinite(value) or excess > tol:
        out.append(Violation(rule, what, value, limit, excess))


class _Codes:
    """One axis of the allocation as integer codes into its distinct values."""

    def __init__(self, values: np.ndarray):
        codes, uniques = pd.factorize(values, sort=False)
        self.codes = codes.astype(np.int64)
        self.uniques: list = list(uniques)
        self.pos = {v: i for i, v in enumerate(self.uniques)}

    def lookup(self, chosen: Iterable[object]) -> np.ndarray:
        """Per row: is its value among `chosen`?"""
        table = np.zeros(len(self.uniques) + 1, dtype=bool)
        for v in chosen:
            if v in self.pos:
                table[self.pos[v]] = True
        return table[self.codes]


Sums = dict[tuple, tuple[float, int]]
"""Per combination of values: the sum of the amounts and how many were summed."""


class Amounts:
    """The allocation's rows as codes per axis, with masks, totals and grouped sums over them."""

    def __init__(self, allocation: pd.DataFrame):
        a = allocation
        self.amount = a["amount"].to_numpy(dtype=float)
        self.n = len(self.amount)
        self.entity = _Codes(a["entity"].to_numpy(dtype=object))
        self.priority = _Codes(a["priority"].to_numpy(dtype=object))
        self.output = _Codes(a["output"].to_numpy(dtype=object))
        self.fund = _Codes(a["fund"].to_numpy(dtype=object))
        self.year = _Codes(a["year"].to_numpy(dtype=np.int64))
        self._grouped: dict[tuple[str, ...], Sums] = {}

    def mask(self, sel: Selection | None = None, years: Iterable[int] | None = None,
             funds: Iterable[str] | None = None) -> np.ndarray:
        m = np.ones(self.n, dtype=bool)
        if sel is not None:
            for codes, axis in ((sel.entities, self.entity), (sel.priorities, self.priority),
                                (sel.outputs, self.output)):
                if codes is not None:
                    m &= axis.lookup(codes)
        if years is not None:
            m &= self.year.lookup(years)
        if funds is not None:
            m &= self.fund.lookup(funds)
        return m

    def total(self, m: np.ndarray) -> tuple[float, int]:
        return float(self.amount[m].sum()), int(m.sum())

    def grouped(self, axes: Sequence[str], regular_only: bool = False) -> Sums:
        """Sum and count of amounts per combination of values on the axes (attribute names),
        of all funds or of the regular budget only; computed once per question."""
        key_of = (*axes, "regular" if regular_only else "all")
        if key_of not in self._grouped:
            where = self.mask(funds=[REGULAR]) if regular_only else None
            self._grouped[key_of] = self._sums([getattr(self, axis) for axis in axes], where)
        return self._grouped[key_of]

    def _sums(self, axes: Sequence[_Codes], where: np.ndarray | None) -> Sums:
        rows = np.arange(self.n) if where is None else np.flatnonzero(where)
        key = np.zeros(len(rows), dtype=np.int64)
        for axis in axes:
            key = key * (len(axis.uniques) + 1) + axis.codes[rows]
        uniq, inverse = np.unique(key, return_inverse=True)
        sums = np.bincount(inverse, weights=self.amount[rows], minlength=len(uniq))
        counts = np.bincount(inverse, minlength=len(uniq))
        out: Sums = {}
        for g, k in enumerate(uniq.tolist()):
            parts = []
            for axis in reversed(axes):
                k, c = divmod(k, len(axis.uniques) + 1)
                parts.append(axis.uniques[c])
            out[tuple(reversed(parts))] = (float(sums[g]), int(counts[g]))
        return out

    def spending(self, plan: Plan) -> dict[tuple[str, int], float]:
        """Direct spending per extrabudgetary fund and year."""
        by_fund_year = self.grouped(("fund", "year"))
        return {(f.code, y): by_fund_year.get((f.code, y), (0.0, 0))[0]
                for f in plan.funds for y in plan.years}


# --- the rule groups ------------------------------------------------------------------------------

def amounts(plan: Plan, a: Amounts) -> list[Violation]:
    """Every amount finite and non-negative."""
    if (~np.isfinite(a.amount)).any() or (a.amount < 0).any():
        return [Violation("amounts", "negative or non-finite amounts",
                          float(np.nanmin(a.amount)), 0.0, float("inf"))]
    return []


def membership(plan: Plan, a: Amounts) -> list[Violation]:
    """Every amount on a mandate cell, paid by a fund whose earmark admits the cell, in a plan year."""
    out: list[Violation] = []
    npr, no = (len(axis.uniques) + 1 for axis in (a.priority, a.output))
    key = (a.entity.codes * npr + a.priority.codes) * no + a.output.codes
    combos, inverse = np.unique(key, return_inverse=True)
    mandate = {tuple(m.cell): i for i, m in enumerate(plan.mandate)}
    cells: list[tuple[str, str, str]] = []
    for k in combos.tolist():
        rest, o = divmod(k, no)
        e, p = divmod(rest, npr)
        cells.append((a.entity.uniques[e], a.priority.uniques[p], a.output.uniques[o]))
    cell_pos = np.array([mandate.get(c, -1) for c in cells], dtype=np.int64)
    known = list(plan.fund_codes)
    fund_pos = np.array([known.index(f) if f in known else -1 for f in a.fund.uniques],
                        dtype=np.int64)
    admitted = np.ones((len(combos), len(known)), dtype=bool)
    for k, code in enumerate(known):
        if code != REGULAR:
            earmark = plan.fund(code).earmark
            admitted[:, k] = [earmark.admits(plan.mandate[i].cell) if i >= 0 else False
                              for i in cell_pos.tolist()]
    where = cell_pos[inverse]
    fund_of = fund_pos[a.fund.codes]
    for i in np.flatnonzero(where < 0):
        e, p, o = cells[inverse[i]]
        out.append(Violation("mandate", f"{e}/{p}/{o} is not in the mandate", 1, 0, 1))
    ok = (where >= 0) & (fund_of >= 0)
    admits = np.zeros(a.n, dtype=bool)
    admits[ok] = admitted[inverse[ok], fund_of[ok]]
    for i in np.flatnonzero((where >= 0) & ~admits):
        e, p, o = cells[inverse[i]]
        out.append(Violation(
            "fund", f"{a.fund.uniques[a.fund.codes[i]]} pays for {e}/{p}/{o} outside "
            "its earmark", 1, 0, 1))
    years = a.year.lookup(plan.years)
    for i in np.flatnonzero(~years):
        out.append(Violation(
            "year", f"{a.year.uniques[a.year.codes[i]]} is not a year of the plan", 1, 0, 1))
    return out


def ceiling(plan: Plan, a: Amounts) -> list[Violation]:
    """Per ceiling period: regular spending equals (or stays within) the fixed ceiling plus the
    support costs earned on the funds' spending."""
    out: list[Violation] = []
    spending = a.spending(plan)
    for label, ys, limit in plan.ceiling_periods():
        value, _ = a.total(a.mask(years=ys, funds=[REGULAR]))
        earned = sum(plan.support_cost_income(spending, y) for y in ys)
        _holds(out, "ceiling", f"regular budget {label}", value,
               "==" if plan.balance_budget else "<=", limit + earned, a.n)
    return out


def envelopes(plan: Plan, a: Amounts) -> list[Violation]:
    """Per envelope and year: the entity's regular spending within its floor and cap."""
    out: list[Violation] = []
    by_entity = a.grouped(("entity", "year"), regular_only=True)
    for env in plan.envelopes:
        for y in plan.years:
            value, n = by_entity.get((env.entity, y), (0.0, 0))
            if y in env.min:
                _holds(out, "envelope", f"{env.entity} {y} minimum", value, ">=", env.min[y], n)
            if y in env.max:
                _holds(out, "envelope", f"{env.entity} {y} maximum", value, "<=", env.max[y], n)
    return out


COMMITTED_SENSES = {"minimum": ">=", "exact": "==", "cap": "<="}


def committed(plan: Plan, a: Amounts) -> list[Violation]:
    """Per committed cost and year it names: its cells' spending of its funds against the amount."""
    out: list[Violation] = []
    for c in plan.commitments:
        for y, amount in c.amounts.items():
            value, n = a.total(a.mask(c.selection, [y], c.funds))
            _holds(out, "committed", f"{c.code} {y}", value, COMMITTED_SENSES[c.kind], amount, n)
    return out


def bounds(plan: Plan, a: Amounts) -> list[Violation]:
    """Per bound and period: its cells' spending of its funds against the amounts, and against the
    shares of those funds' spending in the period."""
    out: list[Violation] = []
    for b in plan.bounds:
        sel = a.mask(b.selection, funds=b.funds)
        base_all = a.mask(funds=b.funds)
        for label, ys in plan.periods(b.period):
            in_period = a.year.lookup(ys)
            value, n = a.total(sel & in_period)
            base, nb = a.total(base_all & in_period)
            if b.min is not None:
                _holds(out, "bound", f"{b.code} {label} min", value, ">=", b.min, n)
            if b.max is not None:
                _holds(out, "bound", f"{b.code} {label} max", value, "<=", b.max, n)
            if b.min_share is not None:
                _holds(out, "bound", f"{b.code} {label} min share", value, ">=",
                       b.min_share * base, nb)
            if b.max_share is not None:
                _holds(out, "bound", f"{b.code} {label} max share", value, "<=",
                       b.max_share * base, nb)
    return out


def stability(plan: Plan, a: Amounts) -> list[Violation]:
    """Per previous (entity, priority) and year, when [stability] is given: the pair's regular
    spending within the maximum change of the previous allocation."""
    out: list[Violation] = []
    if plan.stability is None:
        return out
    m = plan.stability.max_change
    by_pair = a.grouped(("entity", "priority", "year"), regular_only=True)
    for (e, p), prev in plan.stability.previous.items():
        for y in plan.years:
            value, n = by_pair.get((e, p, y), (0.0, 0))
            _holds(out, "stability", f"{e}/{p} {y} low", value, ">=", prev * (1 - m), n)
            _holds(out, "stability", f"{e}/{p} {y} high", value, "<=", prev * (1 + m), n)
    return out


def funds(plan: Plan, a: Amounts) -> list[Violation]:
    """Per extrabudgetary fund and year: direct spending plus support costs against the expected
    receipts (at most, or exactly when the fund must be spent)."""
    out: list[Violation] = []
    by_fund_year = a.grouped(("fund", "year"))
    for fund in plan.funds:
        for y in plan.years:
            value, n = by_fund_year.get((fund.code, y), (0.0, 0))
            _holds(out, "fund", f"{fund.code} {y} (direct plus support costs)",
                   value * (1.0 + fund.support_cost_rate),
                   "==" if fund.must_spend else "<=", fund.available(y), n)
    return out


def mandate_cells(plan: Plan, a: Amounts) -> list[Violation]:
    """Per mandate cell with yearly bounds and year: its spending of all funds within them."""
    out: list[Violation] = []
    bounded = [mc for mc in plan.mandate if mc.min or mc.max]
    if not bounded:
        return out
    by_cell = a.grouped(("entity", "priority", "output", "year"))
    for mc in bounded:
        for y in plan.years:
            if y in mc.min or y in mc.max:
                value, n = by_cell.get((*mc.cell, y), (0.0, 0))
                if y in mc.min:
                    _holds(out, "cell", f"{'/'.join(mc.cell)} {y} min", value, ">=", mc.min[y], n)
                if y in mc.max:
                    _holds(out, "cell", f"{'/'.join(mc.cell)} {y} max", value, "<=", mc.max[y], n)
    return out


def requirements(plan: Plan, a: Amounts, funding: pd.DataFrame) -> list[Violation]:
    """Per requirement: funded between 0 and its amount; per cell and year: what is counted as
    funded is at most the cell's spending of all funds."""
    out: list[Violation] = []
    if len(funding) != len(plan.requirements):
        out.append(Violation("requirement", "rows of the funding table", float(len(funding)),
                             float(len(plan.requirements)), 1.0))
        return out
    funded = funding["funded"].to_numpy(dtype=float)
    by_cell_year: dict[tuple[str, str, str, int], float] = {}
    for r, f in zip(plan.requirements, funded.tolist(), strict=True):
        key = "/".join(r.cell)
        _holds(out, "requirement", f"{key} {r.year} {r.tranche} funded", f, ">=", 0.0, 1)
        _holds(out, "requirement", f"{key} {r.year} {r.tranche} funded", f, "<=", r.amount, 1)
        cy = (*r.cell, r.year)
        by_cell_year[cy] = by_cell_year.get(cy, 0.0) + f
    spent = a.grouped(("entity", "priority", "output", "year"))
    for (e, p, o, y), f in by_cell_year.items():
        value, n = spent.get((e, p, o, y), (0.0, 0))
        _holds(out, "requirement", f"{e}/{p}/{o} {y} funded within spending", f, "<=", value,
               n + 1)
    return out


RULES: tuple[Callable[[Plan, Amounts], list[Violation]], ...] = (
    amounts, membership, ceiling, envelopes, committed, bounds, stability, funds, mandate_cells)
"""The checks in the order their violations are reported."""
