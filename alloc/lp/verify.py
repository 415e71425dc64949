"""An independent check of an allocation against every rule of the plan.

It reads the plan's rules and the allocation's amounts, recomputes every sum with numpy and
pandas, and shares no code with the LP builder: a mistake in building the LP cannot hide here.
Sums that come in families (per entity and year, per fund and year, per cell and year, ...) are
taken once with a grouped sum, not with a mask per rule, so a check costs about as much as
reading the allocation, whatever the number of rules.

Tolerance: a rule holds if it is violated by at most one franc (0.001 CHF thousands), plus 1e-9
of the bound, plus half a thousandth of a franc per amount summed (the rounding of reported
amounts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


class _Codes:
    """One axis of the allocation as integer codes into its distinct values."""

    def __init__(self, values: np.ndarray):
        codes, uniques = pd.factorize(values, sort=False)
        self.codes = codes.astype(np.int64)
        self.uniques = list(uniques)
        self.pos = {v: i for i, v in enumerate(self.uniques)}

    def lookup(self, chosen: Iterable[object]) -> np.ndarray:
        """Per row: is its value among `chosen`?"""
        table = np.zeros(len(self.uniques) + 1, dtype=bool)
        for v in chosen:
            if v in self.pos:
                table[self.pos[v]] = True
        return table[self.codes]


class _Checker:
    def __init__(self, plan: Plan, allocation: pd.DataFrame):
        self.plan = plan
        a = allocation
        self.amount = a["amount"].to_numpy(dtype=float)
        self.n = len(self.amount)
        self.entity = _Codes(a["entity"].to_numpy(dtype=object))
        self.priority = _Codes(a["priority"].to_numpy(dtype=object))
        self.output = _Codes(a["output"].to_numpy(dtype=object))
        self.fund = _Codes(a["fund"].to_numpy(dtype=object))
        self.year = _Codes(a["year"].to_numpy(dtype=np.int64))
        self.violations: list[Violation] = []

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

    def holds(self, rule: str, what: str, value: float, sense: str, limit: float, terms: int) -> None:
        tol = ABS_TOLERANCE + REL_TOLERANCE * abs(limit) + PER_TERM_TOLERANCE * terms
        excess = {"<=": value - limit, ">=": limit - value, "==": abs(value - limit)}[sense]
        if not np.isfinite(value) or excess > tol:
            self.violations.append(Violation(rule, what, value, limit, excess))

    def total(self, m: np.ndarray) -> tuple[float, int]:
        return float(self.amount[m].sum()), int(m.sum())

    def grouped(self, axes: Sequence[_Codes], where: np.ndarray | None = None
                ) -> dict[tuple, tuple[float, int]]:
        """Sum and count of amounts per combination of values on the axes (rows in `where`)."""
        rows = np.arange(self.n) if where is None else np.flatnonzero(where)
        key = np.zeros(len(rows), dtype=np.int64)
        for axis in axes:
            key = key * (len(axis.uniques) + 1) + axis.codes[rows]
        uniq, inverse = np.unique(key, return_inverse=True)
        sums = np.bincount(inverse, weights=self.amount[rows], minlength=len(uniq))
        counts = np.bincount(inverse, minlength=len(uniq))
        out: dict[tuple, tuple[float, int]] = {}
        for g, k in enumerate(uniq.tolist()):
            parts = []
            for axis in reversed(axes):
                k, c = divmod(k, len(axis.uniques) + 1)
                parts.append(axis.uniques[c])
            out[tuple(reversed(parts))] = (float(sums[g]), int(counts[g]))
        return out

    def run(self) -> list[Violation]:
        plan = self.plan
        if (~np.isfinite(self.amount)).any() or (self.amount < 0).any():
            self.violations.append(Violation("amounts", "negative or non-finite amounts",
                                             float(np.nanmin(self.amount)), 0.0, float("inf")))
        self._membership()

        by_fund_year = self.grouped([self.fund, self.year])
        spending = {(f.code, y): by_fund_year.get((f.code, y), (0.0, 0))[0]
                    for f in plan.funds for y in plan.years}
        for label, ys, ceiling in plan.ceiling_periods():
            value, _ = self.total(self.mask(years=ys, funds=[REGULAR]))
            earned = sum(plan.support_cost_income(spending, y) for y in ys)
            self.holds("ceiling", f"regular budget {label}", value,
                       "==" if plan.balance_budget else "<=", ceiling + earned, self.n)

        regular = self.mask(funds=[REGULAR])
        by_entity = self.grouped([self.entity, self.year], regular)
        for env in plan.envelopes:
            for y in plan.years:
                value, n = by_entity.get((env.entity, y), (0.0, 0))
                if y in env.min:
                    self.holds("envelope", f"{env.entity} {y} minimum", value, ">=", env.min[y], n)
                if y in env.max:
                    self.holds("envelope", f"{env.entity} {y} maximum", value, "<=", env.max[y], n)

        sense = {"minimum": ">=", "exact": "==", "cap": "<="}
        for c in plan.commitments:
            for y, amount in c.amounts.items():
                value, n = self.total(self.mask(c.selection, [y], c.funds))
                self.holds("committed", f"{c.code} {y}", value, sense[c.kind], amount, n)

        for b in plan.bounds:
            sel = self.mask(b.selection, funds=b.funds)
            base_all = self.mask(funds=b.funds)
            for label, ys in plan.periods(b.period):
                in_period = self.year.lookup(ys)
                value, n = self.total(sel & in_period)
                base, nb = self.total(base_all & in_period)
                if b.min is not None:
                    self.holds("bound", f"{b.code} {label} min", value, ">=", b.min, n)
                if b.max is not None:
                    self.holds("bound", f"{b.code} {label} max", value, "<=", b.max, n)
                if b.min_share is not None:
                    self.holds("bound", f"{b.code} {label} min share", value, ">=",
                               b.min_share * base, nb)
                if b.max_share is not None:
                    self.holds("bound", f"{b.code} {label} max share", value, "<=",
                               b.max_share * base, nb)

        if plan.stability is not None:
            m = plan.stability.max_change
            by_pair = self.grouped([self.entity, self.priority, self.year], regular)
            for (e, p), prev in plan.stability.previous.items():
                for y in plan.years:
                    value, n = by_pair.get((e, p, y), (0.0, 0))
                    self.holds("stability", f"{e}/{p} {y} low", value, ">=", prev * (1 - m), n)
                    self.holds("stability", f"{e}/{p} {y} high", value, "<=", prev * (1 + m), n)

        for fund in plan.funds:
            for y in plan.years:
                value, n = by_fund_year.get((fund.code, y), (0.0, 0))
                self.holds("fund", f"{fund.code} {y} (direct plus support costs)",
                           value * (1.0 + fund.support_cost_rate),
                           "==" if fund.must_spend else "<=", fund.available(y), n)

        bounded = [mc for mc in plan.mandate if mc.min or mc.max]
        if bounded:
            by_cell = self.grouped([self.entity, self.priority, self.output, self.year])
            for mc in bounded:
                for y in plan.years:
                    if y in mc.min or y in mc.max:
                        value, n = by_cell.get((*mc.cell, y), (0.0, 0))
                        if y in mc.min:
                            self.holds("cell", f"{'/'.join(mc.cell)} {y} min", value, ">=",
                                       mc.min[y], n)
                        if y in mc.max:
                            self.holds("cell", f"{'/'.join(mc.cell)} {y} max", value, "<=",
                                       mc.max[y], n)
        return self.violations

    def _membership(self) -> None:
        """Every amount on a mandate cell, a fund whose earmark admits the cell, a plan year."""
        plan = self.plan
        npr, no = (len(a.uniques) + 1 for a in (self.priority, self.output))
        key = (self.entity.codes * npr + self.priority.codes) * no + self.output.codes
        combos, inverse = np.unique(key, return_inverse=True)
        mandate = {m.cell: i for i, m in enumerate(plan.mandate)}
        cells = []
        for k in combos.tolist():
            rest, o = divmod(k, no)
            e, p = divmod(rest, npr)
            cells.append((self.entity.uniques[e], self.priority.uniques[p], self.output.uniques[o]))
        cell_pos = np.array([mandate.get(c, -1) for c in cells], dtype=np.int64)
        known = list(plan.fund_codes)
        fund_pos = np.array([known.index(f) if f in known else -1 for f in self.fund.uniques],
                            dtype=np.int64)
        admitted = np.ones((len(combos), len(known)), dtype=bool)
        for k, code in enumerate(known):
            if code != REGULAR:
                earmark = plan.fund(code).earmark
                admitted[:, k] = [earmark.admits(plan.mandate[i].cell) if i >= 0 else False
                                  for i in cell_pos.tolist()]
        where = cell_pos[inverse]
        fund_of = fund_pos[self.fund.codes]
        for i in np.flatnonzero(where < 0):
            e, p, o = cells[inverse[i]]
            self.violations.append(Violation("mandate", f"{e}/{p}/{o} is not in the mandate",
                                             1, 0, 1))
        ok = (where >= 0) & (fund_of >= 0)
        admits = np.zeros(self.n, dtype=bool)
        admits[ok] = admitted[inverse[ok], fund_of[ok]]
        for i in np.flatnonzero((where >= 0) & ~admits):
            e, p, o = cells[inverse[i]]
            self.violations.append(Violation(
                "fund", f"{self.fund.uniques[self.fund.codes[i]]} pays for {e}/{p}/{o} outside "
                "its earmark", 1, 0, 1))
        years = self.year.lookup(plan.years)
        for i in np.flatnonzero(~years):
            self.violations.append(Violation(
                "year", f"{self.year.uniques[self.year.codes[i]]} is not a year of the plan", 1, 0, 1))


def check(plan: Plan, allocation: pd.DataFrame) -> list[Violation]:
    """Every rule of the plan the allocation breaks beyond the tolerance; empty when all hold."""
    return _Checker(plan, allocation).run()
