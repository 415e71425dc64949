"""The result of a solve: a tidy allocation, the rules with their activity and duals, metadata.

Tables, writers and diagnoses read a `Solution`; none of them needs the LP or the solver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from alloc.lp.verify import ABS_TOLERANCE
from alloc.model.domain import Plan

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

    def ceiling(self, year: int) -> float:
        """The ceiling in a year including programme support costs earned."""
        return self.plan.ceiling(year) + self.support_cost_income(year)

    def allocated(self, year: int, fund: str | None = None) -> float:
        a = self.allocation
        mask = a["year"] == year
        if fund is not None:
            mask &= a["fund"] == fund
        return float(a.loc[mask, "amount"].sum())
