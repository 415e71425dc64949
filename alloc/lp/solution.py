"""The result of a solve: a tidy allocation, the rules with their activity and duals, metadata.

Tables, writers and diagnoses read a `Solution`; none of them needs the LP or the solver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from alloc.lp.verify import ABS_TOLERANCE
from alloc.model.domain import CeilingAdjustment, Plan

CHECK_TOLERANCE = ABS_TOLERANCE
"""How far (in the plan's unit) an amount may break a rule before the independent check refuses
the answer; reported with every solution."""

Status = Literal["optimal", "infeasible", "unbounded", "time_limit", "too_large", "error"]
ALLOCATION_COLUMNS = ["entity", "priority", "output", "year", "fund", "amount"]
FUNDING_COLUMNS = ["entity", "priority", "output", "year", "tranche", "requirement", "funded",
                   "value"]
CONSTRAINT_COLUMNS = ["rule", "name", "source", "text", "sense", "bound", "activity", "slack",
                      "shadow_price"]
AMOUNT_DECIMALS = 6
"""Amounts are kept to a thousandth of a franc (CHF thousands with 6 decimals)."""


@dataclass(frozen=True, eq=False)
class Priced:
    """The level shadow prices are taken at (`alloc.lp.program.priced_level`) as the run's own
    solver solved it: right after solving it when it was the first level solved, else solved
    alone once more on the run's instance, warm, the earlier levels bounded as the run held them
    (`alloc.lp.solve`). The prices read from it need no solve from scratch
    (`alloc.explain.prices.shadow_prices`)."""

    level: int
    duals: np.ndarray
    """Duals of the program's rows, per unit of the level's own (unscaled) costs."""
    values: np.ndarray
    """Column values at that level's optimum."""


REVENUE_WORDS = "revenue lines"
SUPPORT_WORDS = "programme support costs earned on extrabudgetary funds"


def adjustment_words(adjustment: CeilingAdjustment) -> str:
    """A growth rule or cut as a finance officer names it, from the plan's own name: "zero
    nominal growth", "cut of 5.0%" (the name's head, before its colon or "of revenue")."""
    head = adjustment.name.split(":")[0].removesuffix(" of revenue").strip()
    return (head[:1].lower() + head[1:]) if head else adjustment.code


@dataclass(frozen=True)
class CeilingParts:
    """The regular budget's ceiling of a year (or period) and its named parts: the one definition
    every output shows.

    ceiling = revenue lines + growth rules and cuts + programme support costs earned on the
    extrabudgetary funds' spending. The LP's ceiling row holds the first two as its bound and the
    support costs earned as variables (they depend on the allocation), so its bound is `fixed`;
    a shadow price of the row is per unit of ceiling either way.
    """

    label: str
    revenue: float
    adjustments: tuple[tuple[str, str, float], ...]
    """(code, name in words, amount) of each growth rule or cut, in the plan's order."""
    support_costs_earned: float
    earns_support_costs: bool
    """Whether any fund earns programme support costs (else that part is not shown)."""

    @property
    def fixed(self) -> float:
        """Revenue lines plus growth rules and cuts: the bound of the LP's ceiling row."""
        return self.revenue + sum(a for _, _, a in self.adjustments)

    @property
    def total(self) -> float:
        return self.fixed + self.support_costs_earned

    def named(self) -> list[tuple[str, float]]:
        """The parts in words with their amounts, in the order they add up."""
        out = [(REVENUE_WORDS, self.revenue), *((w, a) for _, w, a in self.adjustments)]
        if self.earns_support_costs:
            out.append((SUPPORT_WORDS, self.support_costs_earned))
        return out


@dataclass
class Solution:
    plan: Plan
    status: Status
    solver: str
    message: str = ""
    objectives: dict[str, float] = field(default_factory=dict)
    """Optimum of each goal-programming level, in order."""
    allocation: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=ALLOCATION_COLUMNS))
    """One row per non-zero (entity, priority, output, year, fund), sorted, in the plan's unit."""
    constraints: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=CONSTRAINT_COLUMNS))
    """Every rule: activity, bound and slack; `shadow_price` is the solver's dual at the last level
    solved (the tie-break toward the reference distribution, in that level's scaled costs), not a
    price of the targets: `alloc.explain.prices` prices the last level of targets for the reports."""
    funding: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FUNDING_COLUMNS))
    """Per costed requirement (the plan's order): its amount, the part funded and the value of a
    unit funded; empty without requirements."""
    not_unique: str = ""
    """Why the optimum is not proven unique (the linear stand-in of the tie-breaks was solved);
    empty when the strictly convex tie-breaks were."""
    conflicts: list[dict] = field(default_factory=list)
    """For an infeasible plan: the rules that had to give way, and by how much."""
    values: np.ndarray | None = field(default=None, compare=False, repr=False)
    """The program's column values at the last level, as solved (explanations start from
    them instead of solving the plan again)."""
    priced: Priced | None = field(default=None, compare=False, repr=False)
    """The solver's duals at the priced level, when the run could keep them (else the prices
    are taken by a solve of that level alone)."""

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    def fund_spending(self) -> dict[tuple[str, int], float]:
        """Direct spending per (fund, year).

        Kept for the allocation it was computed from: reports ask for it once per year and
        table, and a pandas groupby each time was a tenth of `alloc run`.
        """
        a = self.allocation
        cached = self.__dict__.get("_fund_spending")
        if cached is not None and cached[0] is a:
            return dict(cached[1])
        sums = a.groupby(["fund", "year"])["amount"].sum()
        spending = {(str(f), int(y)): float(v)
                    for (f, y), v in zip(sums.index.tolist(), sums.tolist(), strict=True)}
        self.__dict__["_fund_spending"] = (a, spending)
        return dict(spending)

    def support_cost_income(self, year: int) -> float:
        """Programme support costs earned in a year on the extrabudgetary funds' spending."""
        return self.plan.support_cost_income(self.fund_spending(), year)

    def ceiling_parts(self, years: int | Sequence[int], label: str | None = None) -> CeilingParts:
        """The ceiling of a year (or the sum over a period's years) and its named parts."""
        ys = (years,) if isinstance(years, int) else tuple(years)
        plan = self.plan
        return CeilingParts(
            label=label or (str(ys[0]) if len(ys) == 1 else f"{ys[0]}-{ys[-1]}"),
            revenue=sum(plan.revenue_total(y) for y in ys),
            adjustments=tuple((a.code, adjustment_words(a), sum(a.amounts.get(y, 0.0) for y in ys))
                              for a in plan.adjustments),
            support_costs_earned=sum(self.support_cost_income(y) for y in ys),
            earns_support_costs=any(f.support_cost_rate > 0 for f in plan.funds))

    def ceiling(self, year: int) -> float:
        """The ceiling in a year (`ceiling_parts`): revenue lines, growth rules and cuts, and
        programme support costs earned."""
        return self.ceiling_parts(year).total

    def allocated(self, year: int, fund: str | None = None) -> float:
        a = self.allocation
        mask = a["year"] == year
        if fund is not None:
            mask &= a["fund"] == fund
        return float(a.loc[mask, "amount"].sum())
