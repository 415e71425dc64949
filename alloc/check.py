"""An independent check of an allocation against every rule of the plan.

It reads the plan's rules and the allocation's amounts, recomputes every sum with numpy and
pandas, and shares no code with the LP builder: a mistake in building the LP cannot hide here.

Tolerance: a rule holds if it is violated by at most one franc (0.001 CHF thousands), plus 1e-9
of the bound, plus half a thousandth of a franc per amount summed (the rounding of reported
amounts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alloc.domain import REGULAR, Cell, Plan, Selection

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


class _Checker:
    def __init__(self, plan: Plan, allocation: pd.DataFrame):
        self.plan = plan
        a = allocation
        self.entity = a["entity"].to_numpy(dtype=object)
        self.priority = a["priority"].to_numpy(dtype=object)
        self.output = a["output"].to_numpy(dtype=object)
        self.year = a["year"].to_numpy(dtype=np.int64)
        self.fund = a["fund"].to_numpy(dtype=object)
        self.amount = a["amount"].to_numpy(dtype=float)
        self.violations: list[Violation] = []

    def mask(self, sel: Selection | None = None, years=None, funds=None) -> np.ndarray:
        m = np.ones(len(self.amount), dtype=bool)
        if sel is not None:
            for codes, axis in ((sel.entities, self.entity), (sel.priorities, self.priority),
                                (sel.outputs, self.output)):
                if codes is not None:
                    m &= np.isin(axis, list(codes))
        if years is not None:
            m &= np.isin(self.year, list(years))
        if funds is not None:
            m &= np.isin(self.fund, list(funds))
        return m

    def holds(self, rule: str, what: str, value: float, sense: str, limit: float, terms: int) -> None:
        tol = ABS_TOLERANCE + REL_TOLERANCE * abs(limit) + PER_TERM_TOLERANCE * terms
        excess = {"<=": value - limit, ">=": limit - value, "==": abs(value - limit)}[sense]
        if not np.isfinite(value) or excess > tol:
            self.violations.append(Violation(rule, what, value, limit, excess))

    def total(self, m: np.ndarray) -> tuple[float, int]:
        return float(self.amount[m].sum()), int(m.sum())

    def run(self) -> list[Violation]:
        plan = self.plan
        if (~np.isfinite(self.amount)).any() or (self.amount < 0).any():
            self.violations.append(Violation("amounts", "negative or non-finite amounts",
                                             float(np.nanmin(self.amount)), 0.0, float("inf")))
        mandate = {m.cell for m in plan.mandate}
        for e, p, o, y, f in zip(self.entity, self.priority, self.output, self.year, self.fund,
                                 strict=True):
            cell = Cell(e, p, o)
            if cell not in mandate:
                self.violations.append(Violation("mandate", f"{e}/{p}/{o} is not in the mandate",
                                                 1, 0, 1))
            elif f not in plan.fund_codes or not plan.admits(f, cell):
                self.violations.append(Violation("fund", f"{f} pays for {e}/{p}/{o} outside its "
                                                 "earmark", 1, 0, 1))
            if y not in plan.years:
                self.violations.append(Violation("year", f"{y} is not a year of the plan", 1, 0, 1))

        spending = {(f.code, y): self.total(self.mask(years=[y], funds=[f.code]))[0]
                    for f in plan.funds for y in plan.years}
        for label, ys, ceiling in plan.ceiling_periods():
            value, n = self.total(self.mask(years=ys, funds=[REGULAR]))
            earned = sum(plan.support_cost_income(spending, y) for y in ys)
            self.holds("ceiling", f"regular budget {label}", value,
                       "==" if plan.balance_budget else "<=", ceiling + earned, len(self.amount))

        for env in plan.envelopes:
            for y in plan.years:
                value, n = self.total(self.mask(Selection(frozenset([env.entity])), [y], [REGULAR]))
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
            for label, ys in plan.periods(b.period):
                value, n = self.total(self.mask(b.selection, ys, b.funds))
                base, nb = self.total(self.mask(None, ys, b.funds))
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
            for (e, p), prev in plan.stability.previous.items():
                sel = Selection(frozenset([e]), frozenset([p]))
                for y in plan.years:
                    value, n = self.total(self.mask(sel, [y], [REGULAR]))
                    self.holds("stability", f"{e}/{p} {y} low", value, ">=", prev * (1 - m), n)
                    self.holds("stability", f"{e}/{p} {y} high", value, "<=", prev * (1 + m), n)

        for fund in plan.funds:
            for y in plan.years:
                value, n = self.total(self.mask(None, [y], [fund.code]))
                self.holds("fund", f"{fund.code} {y} (direct plus support costs)",
                           value * (1.0 + fund.support_cost_rate),
                           "==" if fund.must_spend else "<=", fund.available(y), n)

        for mc in plan.mandate:
            sel = Selection(*(frozenset([code]) for code in mc.cell))
            for y in plan.years:
                if y in mc.min or y in mc.max:
                    value, n = self.total(self.mask(sel, [y]))
                    if y in mc.min:
                        self.holds("cell", f"{'/'.join(mc.cell)} {y} min", value, ">=",
                                   mc.min[y], n)
                    if y in mc.max:
                        self.holds("cell", f"{'/'.join(mc.cell)} {y} max", value, "<=",
                                   mc.max[y], n)
        return self.violations


def check(plan: Plan, allocation: pd.DataFrame) -> list[Violation]:
    """Every rule of the plan the allocation breaks beyond the tolerance; empty when all hold."""
    return _Checker(plan, allocation).run()
