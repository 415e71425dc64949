"""The validated plan: what the rest of alloc works from.

Everything here is immutable and already checked; amounts are floats in the plan's unit (CHF
thousands in the reference model). Builders, checkers and tables read a `Plan` and never files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

REGULAR = "regular"
"""Code of the regular budget fund; every other fund is extrabudgetary."""

SUPPORT_OUTPUT = "support"
"""Pseudo-output of support lines (enablers): they are not delivered through an offering."""

PeriodKind = Literal["year", "biennium", "plan"]
CommitmentKind = Literal["minimum", "exact", "cap"]


class Cell(NamedTuple):
    """An admissible (entity, priority, output) combination of the mandate."""

    entity: str
    priority: str
    output: str


@dataclass(frozen=True)
class Entity:
    code: str
    name: str


@dataclass(frozen=True)
class StrategicTarget:
    code: str
    name: str


@dataclass(frozen=True)
class Goal:
    code: str
    name: str
    targets: tuple[StrategicTarget, ...] = ()


@dataclass(frozen=True)
class Outcome:
    code: str
    name: str


@dataclass(frozen=True)
class Priority:
    """A thematic priority, or a support line (an enabler) when `support` is true."""

    code: str
    name: str
    support: bool = False
    outcomes: tuple[Outcome, ...] = ()
    goal_shares: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Output:
    code: str
    name: str


@dataclass(frozen=True)
class Selection:
    """A set of cells: None on an axis means every code on that axis."""

    entities: frozenset[str] | None = None
    priorities: frozenset[str] | None = None
    outputs: frozenset[str] | None = None

    def admits(self, cell: Cell) -> bool:
        return (
            (self.entities is None or cell.entity in self.entities)
            and (self.priorities is None or cell.priority in self.priorities)
            and (self.outputs is None or cell.output in self.outputs)
        )

    def describe(self) -> str:
        parts = []
        for label, codes in (
            ("entities", self.entities),
            ("priorities", self.priorities),
            ("outputs", self.outputs),
        ):
            if codes is not None:
                parts.append(f"{label} {', '.join(sorted(codes))}")
        return "; ".join(parts) if parts else "all cells"


@dataclass(frozen=True)
class MandateCell:
    """An admissible cell with optional yearly bounds on its spending (all funds)."""

    cell: Cell
    min: Mapping[int, float] = field(default_factory=dict)
    max: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RevenueLine:
    """One line of the financial plan's revenue; `amounts` per year in the plan's unit."""

    code: str
    name: str
    group: str
    amounts: Mapping[int, float]
    units: Mapping[int, float] | None = None
    unit_value: float | None = None
    """Value of one contributory unit in the currency of the plan's unit (not thousands), when
    the line is units x value."""
    source: str = ""


@dataclass(frozen=True)
class CeilingAdjustment:
    """A change of the ceiling that is not revenue: a growth rule or a cut, stated per year."""

    code: str
    name: str
    amounts: Mapping[int, float]


@dataclass(frozen=True)
class Fund:
    """An extrabudgetary fund: expected receipts = pledge x receipt rate, spent on its earmark."""

    code: str
    name: str
    pledges: Mapping[int, float]
    receipt_rate: float
    earmark: Selection
    must_spend: bool = False
    support_cost_rate: float = 0.0
    source: str = ""
    receipt_spread: float | None = None
    """Standard deviation of the receipt rate, for Monte Carlo sweeps (None: the sweep's default)."""

    def available(self, year: int) -> float:
        """Expected receipts: pledge x receipt rate (direct costs plus support costs)."""
        return self.pledges.get(year, 0.0) * self.receipt_rate

    def direct(self, year: int) -> float:
        """What the fund can spend on programmes once its support costs are charged."""
        return self.available(year) / (1.0 + self.support_cost_rate)


@dataclass(frozen=True)
class Envelope:
    """Yearly bounds on an entity's regular-budget spending, already in amounts."""

    entity: str
    min: Mapping[int, float]
    max: Mapping[int, float]


@dataclass(frozen=True)
class Commitment:
    """A committed cost: an amount that must (minimum, exact) or may at most (cap) be spent."""

    code: str
    name: str
    selection: Selection
    amounts: Mapping[int, float]
    kind: CommitmentKind
    funds: tuple[str, ...]


@dataclass(frozen=True)
class Bound:
    """A floor or cap on a set of cells, absolute or as a share of all spending, per period."""

    code: str
    name: str
    selection: Selection
    period: PeriodKind
    funds: tuple[str, ...]
    min: float | None = None
    max: float | None = None
    min_share: float | None = None
    max_share: float | None = None


@dataclass(frozen=True)
class Stability:
    """No (entity, priority) regular allocation moves more than `max_change` from the previous."""

    max_change: float
    previous: Mapping[tuple[str, str], float]
    """Previous period's yearly regular-budget allocation per (entity, priority)."""


@dataclass(frozen=True)
class AllocationTarget:
    """A goal-programming target on a set of cells: an amount or a share of all spending."""

    code: str
    name: str
    selection: Selection
    period: PeriodKind
    funds: tuple[str, ...]
    level: int
    shortfall_weight: float
    excess_weight: float
    amount: float | None = None
    share: float | None = None


@dataclass(frozen=True)
class Tranche:
    """A level of a costed requirement (a "decision package"): a franc of it is worth `factor`
    times its priority's weight; tranches are ordered by falling factor."""

    code: str
    name: str
    factor: float


@dataclass(frozen=True)
class Requirement:
    """What an entity needs on a cell in a year, in one tranche; `value` is per unit funded."""

    cell: Cell
    year: int
    tranche: str
    amount: float
    value: float
    note: str = ""


@dataclass(frozen=True)
class Valuation:
    """How requirements are valued: tranches, a weight per priority, and where the value level
    sits among the target levels (before targets of the same level number)."""

    tranches: tuple[Tranche, ...] = ()
    weights: Mapping[str, float] = field(default_factory=dict)
    """Per thematic priority or support line: the weight a franc of it carries."""
    weight_sources: Mapping[str, str] = field(default_factory=dict)
    """Per priority: where its weight comes from ("weights", "goal weights", "default")."""
    level: int = 1


@dataclass(frozen=True)
class SupportServices:
    """How support lines serve each other, for distributing support costs over priorities.

    `services[s][t]` is the share of support line s's cost consumed by t, another support line or
    a thematic priority; the rest of s's cost serves the thematic priorities in proportion to
    their direct costs. `order` is the step-down order: support lines closed first to last.
    """

    order: tuple[str, ...] = ()
    services: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Override:
    """One key a scenario changed, for provenance: where, from what, to what."""

    scenario: str
    key: str
    old: object
    new: object


@dataclass(frozen=True)
class Plan:
    """A resolved and validated scenario: model plus every override of its chain."""

    name: str
    model: str
    title: str
    unit: str
    inputs_date: str
    scenario_chain: tuple[str, ...]
    entities: tuple[Entity, ...]
    goals: tuple[Goal, ...]
    priorities: tuple[Priority, ...]
    outputs: tuple[Output, ...]
    years: tuple[int, ...]
    biennia: Mapping[str, tuple[int, ...]]
    revenue: tuple[RevenueLine, ...]
    adjustments: tuple[CeilingAdjustment, ...]
    funds: tuple[Fund, ...]
    mandate: tuple[MandateCell, ...]
    envelopes: tuple[Envelope, ...]
    commitments: tuple[Commitment, ...]
    bounds: tuple[Bound, ...]
    stability: Stability | None
    targets: tuple[AllocationTarget, ...]
    balance_budget: bool
    ceiling_period: Literal["year", "biennium"]
    level_tolerance: float = 1e-6
    support_services: SupportServices = field(default_factory=SupportServices)
    requirements: tuple[Requirement, ...] = ()
    """Costed requirements by cell (mandate order), year and tranche (falling value)."""
    valuation: Valuation = field(default_factory=Valuation)
    overrides: tuple[Override, ...] = ()
    description: str = ""
    """What the scenario is for (its [scenario] description), for the documents' cover."""
    reference: str = ""
    """The document reference the scenario gives its papers ([scenario] reference), if any."""
    illustrative: bool = False
    """The model says its figures are illustrative: every document says so on every page."""
    previous: Mapping[tuple[str, str], float] = field(default_factory=dict)
    """The previous period's yearly regular-budget allocation per (entity, priority), if given."""
    input_files: Mapping[str, str] = field(default_factory=dict)
    """Path (as shown to the user) -> sha256 of every input file read."""
    sources: Mapping[str, str] = field(default_factory=dict)
    """Dotted key of a rule, fund or mandate cell -> "file: field" where the user wrote it."""

    @property
    def fund_codes(self) -> tuple[str, ...]:
        return (REGULAR, *(f.code for f in self.funds))

    def fund(self, code: str) -> Fund:
        return next(f for f in self.funds if f.code == code)

    def revenue_total(self, year: int) -> float:
        return sum(line.amounts.get(year, 0.0) for line in self.revenue)

    def ceiling(self, year: int) -> float:
        """The regular budget's fixed ceiling in a year: revenue lines plus growth rules and cuts.

        Programme support costs from extrabudgetary funds come on top; they depend on the
        allocation (see `support_cost_income`).
        """
        return self.revenue_total(year) + sum(a.amounts.get(year, 0.0) for a in self.adjustments)

    def support_cost_income(self, fund_spending: Mapping[tuple[str, int], float], year: int) -> float:
        """Programme support costs earned in a year on the funds' direct spending."""
        return sum(f.support_cost_rate * fund_spending.get((f.code, year), 0.0) for f in self.funds)

    def periods(self, kind: PeriodKind) -> list[tuple[str, tuple[int, ...]]]:
        """Label and years of each period of a kind, in order."""
        if kind == "year":
            return [(str(y), (y,)) for y in self.years]
        if kind == "biennium":
            return [(label, tuple(ys)) for label, ys in self.biennia.items()]
        return [(f"{self.years[0]}-{self.years[-1]}", tuple(self.years))]

    def ceiling_periods(self) -> list[tuple[str, tuple[int, ...], float]]:
        """Each period the ceiling applies to, with its amount."""
        return [
            (label, ys, sum(self.ceiling(y) for y in ys))
            for label, ys in self.periods(self.ceiling_period)
        ]

    def available(self, fund: str, year: int) -> float:
        """Money a fund can spend on programmes in a year: the fixed ceiling, or direct receipts."""
        return self.ceiling(year) if fund == REGULAR else self.fund(fund).direct(year)

    def tranche(self, code: str) -> Tranche:
        return next(t for t in self.valuation.tranches if t.code == code)

    def requirement_total(self, year: int) -> float:
        return sum(r.amount for r in self.requirements if r.year == year)

    def admits(self, fund: str, cell: Cell) -> bool:
        return fund == REGULAR or self.fund(fund).earmark.admits(cell)
