"""The Appendix A linkage tables: pure functions of a solution, unrounded and rounded.

Appendix A to the strategic plan ("Allocation of resources: linkage with the financial plan")
shows the financial plan spread over the strategic framework. Each table here has a stable id, a
title, a unit, a source note and, when support costs are distributed, the method used. Writers
(CSV, workbook, Markdown) only lay these out: they never compute a figure.

Frames have the CSV's shape: the row labels (codes) as index, then the value columns, `Total`
and optionally `Share` (percent of the grand total); the last row is `Total`. The rounded frame is
in whole units and adds up along rows and columns (`alloc.report.rounding`); shares are in tenths of a
percent and add up to 100.0. The tables that share totals (an entity's total in A1, A2 and A4, a
priority's in A1, A3 and A5, the regular budget's in A5 and the reconciliation) are rounded to the
same totals whenever such a rounding exists, and say so when one does not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd

from alloc.errors import InputError, Problem
from alloc.lp.solution import Solution
from alloc.model.domain import REGULAR, SUPPORT_OUTPUT, Plan
from alloc.report.rounding import RoundingError, controlled_round, largest_remainder, round_half_up
from alloc.report.support import (
    SUPPORT_METHODS,
    SupportDistributionError,
    describe,
    distribute_allocation,
    gross_costs,
    unserved_entities,
)

TOTAL = "Total"
SHARE = "Share"
UNASSIGNED_GOAL = "unassigned"
CEILING = "Ceiling"
ALLOCATED = "Allocated: regular budget"
"""Row groups of the reconciliation."""
TABLE_IDS = ("a1-priority-entity", "a2-goal-entity", "a3-priority-output", "a4-entity-year",
             "a5-priority-fund", "reconciliation")
_CHECK_TOLERANCE = 1e-6
ROW_TITLES = {"priority": "Thematic priority or support line", "goal": "Strategic goal",
              "entity": "Entity", "line": "Line of the financial plan"}

Totals = Sequence[int | None] | None
"""Rounded totals a table must have (None: free), to agree with another table."""
Column = tuple[str, str, tuple[str, ...]]
"""A displayed column: (kind, label, members); kind is value, group, total or share."""


@dataclass(frozen=True)
class Table:
    """One linkage table, unrounded and rounded, with what a reader needs to trust it."""

    id: str
    title: str
    unit: str
    source: str
    row_header: str
    """Header of the label column: what a row is (priority, goal, entity, line)."""
    values: pd.DataFrame
    """Unrounded, in the plan's unit (Share in percent)."""
    rounded: pd.DataFrame
    """Whole units (Share in percent with one decimal); adds up along rows and columns."""
    method: str = ""
    """How support costs are shown (tables with support lines only)."""
    notes: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)
    """Display name of each row and column label (codes stay in the CSV)."""
    row_groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Named groups of rows, subtotalled in the workbook and the Markdown."""
    column_groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Named groups of value columns (biennia), subtotalled in the workbook and the Markdown."""
    total_label: str = TOTAL
    """What the Total row means, for display (the reconciliation's is the unallocated balance)."""

    @property
    def rows(self) -> list[str]:
        """Row labels without the Total row."""
        return [r for r in self.values.index if r != TOTAL]

    @property
    def value_columns(self) -> list[str]:
        return [c for c in self.values.columns if c not in (TOTAL, SHARE)]

    @property
    def has_share(self) -> bool:
        return SHARE in self.values.columns

    def name(self, label: str) -> str:
        return self.names.get(label, label)

    @property
    def row_title(self) -> str:
        return ROW_TITLES.get(self.row_header, self.row_header)

    @property
    def total_name(self) -> str:
        return self.name(TOTAL) if self.total_label == TOTAL else self.total_label

    def display_columns(self) -> list[Column]:
        """The columns a reader sees: values, each column group's subtotal after its last
        member (biennia), the total, the share."""
        values = self.value_columns
        after: dict[int, tuple[str, tuple[str, ...]]] = {}
        for name, labels in self.column_groups:
            present = tuple(v for v in values if v in labels)
            if present:
                after[max(values.index(v) for v in present)] = (name, present)
        cols: list[Column] = []
        for i, v in enumerate(values):
            cols.append(("value", v, ()))
            if i in after:
                cols.append(("group", *after[i]))
        cols.append(("total", TOTAL, ()))
        if self.has_share:
            cols.append(("share", SHARE, ()))
        return cols


@dataclass(frozen=True)
class SummaryYear:
    """One year of the summary, in whole units consistent with the tables."""

    label: str
    ceiling: int
    regular: int
    balance: int
    extrabudgetary: int
    total: int
    parts: tuple[tuple[str, int], ...] = ()
    """The ceiling's named parts (revenue lines, growth rules and cuts, programme support costs
    earned), rounded to add up to `ceiling` (alloc.report.ceiling)."""


@dataclass(frozen=True)
class Summary:
    scenario: str
    title: str
    chain: tuple[str, ...]
    model: str
    status: str
    unit: str
    inputs_date: str
    balance_budget: bool
    support_method: str
    years: tuple[SummaryYear, ...]
    biennia: tuple[tuple[str, tuple[str, ...]], ...]
    overrides: tuple[tuple[str, str, str, str], ...] = ()
    """Provenance: (scenario, key, old value, new value) for every key the chain changed."""


# -- building blocks ----------------------------------------------------------------------------

def figure(frame: pd.DataFrame, row: str, column: str) -> float:
    """One figure of a table (an int or a float of numpy; pandas types a cell as any scalar)."""
    return cast(float, frame.at[row, column])


def _period(plan: Plan) -> str:
    return f"{plan.years[0]}-{plan.years[-1]}"


def _source(plan: Plan, extra: str = "") -> str:
    chain = " <- ".join(plan.scenario_chain)
    return (f"Source: alloc allocation of scenario '{plan.name}' (chain {chain}; model {plan.model}; "
            f"inputs of {plan.inputs_date})." + (f" {extra}" if extra else ""))


def _pivot(alloc: pd.DataFrame, rows: str, cols: str, row_codes: Sequence[str],
           col_codes: Sequence[str]) -> pd.DataFrame:
    """Sum of amounts by two columns, over exactly the given codes (zeros where none)."""
    frame = alloc.assign(**{rows: alloc[rows].astype(str), cols: alloc[cols].astype(str)})
    table = frame.groupby([rows, cols])["amount"].sum().unstack(fill_value=0)
    table = table.reindex(index=list(row_codes), columns=list(col_codes), fill_value=0.0)
    table = table.astype(float)
    missing = float(alloc["amount"].sum()) - float(table.to_numpy().sum())
    if abs(missing) > _CHECK_TOLERANCE * max(1.0, abs(float(alloc["amount"].sum()))):
        raise ValueError(f"the allocation holds {missing:.6g} on codes the plan does not know "
                         f"({rows} x {cols})")
    table.index.name, table.columns.name = None, None
    return table


def _shares(row_totals: np.ndarray, grand: float) -> tuple[np.ndarray, np.ndarray]:
    """Unrounded and rounded (tenths of a percent, adding to 100.0) shares of the grand total."""
    if grand <= 0 or len(row_totals) == 0:
        zero = np.zeros(len(row_totals))
        return zero, zero
    exact = 100.0 * row_totals / grand
    tenths = largest_remainder(list(np.clip(exact, 0.0, None) * 10.0), 1000)
    return exact, np.array(tenths, dtype=float) / 10.0


def _rounded_body(body: pd.DataFrame, total: int | None, row_totals: Totals, col_totals: Totals,
                  row_groups: Sequence[Sequence[int]] | None,
                  col_groups: Sequence[Sequence[int]] | None, col_group_totals: Totals,
                  row_group_totals: Totals = None) -> tuple[np.ndarray, str]:
    """Controlled rounding, with the totals shared with other tables when a rounding has them.

    Prescribed row totals are tried with the column totals, then alone, then the column totals
    alone; the table says so when some agreement could not be kept.
    """
    values = body.to_numpy(dtype=float)
    attempts = [(row_totals, col_totals, col_group_totals)]
    if row_totals is not None and (col_totals is not None or col_group_totals is not None):
        attempts += [(row_totals, None, None), (None, col_totals, col_group_totals)]
    if row_totals is not None or col_totals is not None or col_group_totals is not None:
        attempts.append((None, None, None))
    for k, (rows, cols, groups) in enumerate(attempts):
        try:
            cells = controlled_round(values, total, rows, cols, row_groups, col_groups, groups,
                                     row_group_totals)
        except RoundingError:
            continue
        if k == 0:
            return cells, ""
        lost = "row" if rows is None and row_totals is not None else "column"
        if rows is None and row_totals is not None and (cols is None) != (col_totals is None):
            lost = "row and column"
        return cells, (f"Some {lost} totals rounded for this table alone: no rounding of it has "
                       "the totals of the other tables, from which they may differ by 1.")
    raise AssertionError("controlled rounding without prescribed totals always exists")


def _finish(table_id: str, title: str, plan: Plan, source: str, row_header: str,
            body: pd.DataFrame, *, share: bool, total: int | None = None,
            row_totals: Totals = None, col_totals: Totals = None, col_group_totals: Totals = None,
            row_group_totals: Totals = None,
            row_groups: Sequence[tuple[str, Sequence[str]]] = (), method: str = "",
            names: Mapping[str, str] | None = None, column_groups: Sequence[tuple[str, Sequence[str]]] = (),
            total_label: str = TOTAL, notes: Sequence[str] = ()) -> Table:
    """Add totals (and shares) to a body, round it, and wrap it as a Table."""
    rows, cols = [str(r) for r in body.index], [str(c) for c in body.columns]
    clash = sorted({TOTAL, SHARE} & {*rows, *cols})
    if clash:
        raise InputError([Problem(f"models/{plan.model}", "", f"the code '{clash[0]}' is the name of "
                                  "a total in the Appendix A tables; rename it")])
    body = body.set_axis(rows, axis=0).set_axis(cols, axis=1)
    groups = [[rows.index(r) for r in labels] for _, labels in row_groups] if row_groups else None
    col_groups = None
    if column_groups:
        grouped = [[cols.index(c) for c in labels if c in cols] for _, labels in column_groups]
        alone = [[j] for j in range(len(cols)) if not any(j in g for g in grouped)]
        col_groups = [g for g in grouped if g] + alone
        if col_group_totals is not None:   # given per named group; columns alone stay free
            col_group_totals = [*(t for t, g in zip(col_group_totals, grouped, strict=True) if g),
                                *[None] * len(alone)]
    cells, fallback = _rounded_body(body, total, row_totals, col_totals, groups, col_groups,
                                    col_group_totals, row_group_totals)

    exact = body.to_numpy(dtype=float)
    index = [*rows, TOTAL]
    values = pd.DataFrame(np.vstack([exact, exact.sum(0, keepdims=True)]) if rows
                          else np.zeros((1, len(cols))), index=index, columns=cols)
    values[TOTAL] = values[cols].sum(axis=1)
    rounded = pd.DataFrame(np.vstack([cells, cells.sum(0, keepdims=True)]).astype(np.int64) if rows
                           else np.zeros((1, len(cols)), dtype=np.int64), index=index, columns=cols)
    rounded[TOTAL] = rounded[cols].sum(axis=1).astype(np.int64)
    if share:
        exact_share, rounded_share = _shares(values[TOTAL].to_numpy()[:-1], figure(values, TOTAL, TOTAL))
        values[SHARE] = [*exact_share, float(exact_share.sum())]
        rounded[SHARE] = [*rounded_share, round(float(rounded_share.sum()), 1)]
    for frame in (values, rounded):
        frame.index.name = row_header
    unit_notes = [f"Rounded to whole {plan.unit} so that every row and column adds up"
                  + ("; shares rounded to 0.1% adding up to 100.0%." if share else "."),
                  *notes, *([fallback] if fallback else [])]
    return Table(
        id=table_id, title=title, unit=plan.unit, source=source, row_header=row_header,
        values=values, rounded=rounded, method=method, notes=tuple(unit_notes),
        names=dict(names or {}),
        row_groups=tuple((name, tuple(labels)) for name, labels in row_groups),
        column_groups=tuple((name, tuple(labels)) for name, labels in column_groups),
        total_label=total_label,
    )


def _names(plan: Plan) -> dict[str, str]:
    """Display names of every code a table may show."""
    names: dict[str, str] = {TOTAL: "Total", SHARE: "% of total", REGULAR: "Regular budget",
                             SUPPORT_OUTPUT: "Support services (enablers)",
                             UNASSIGNED_GOAL: "Not assigned to a strategic goal"}
    for items in (plan.entities, plan.goals, plan.priorities, plan.outputs, plan.funds):
        for item in items:
            names[item.code] = item.name
    return names


class _Priorities:
    """A priority x something body, with support rows kept or distributed."""

    def __init__(self, solution: Solution, support: str):
        if support not in SUPPORT_METHODS:
            raise ValueError(f"support costs: expected one of {', '.join(SUPPORT_METHODS)}, "
                             f"not {support!r}")
        self.plan = solution.plan
        self.alloc = solution.allocation
        self.support = support
        self.thematic = [p.code for p in self.plan.priorities if not p.support]
        self.lines = [p.code for p in self.plan.priorities if p.support]
        self.distributed = support != "rows" and bool(self.lines)
        unserved = unserved_entities(self.plan, self.alloc) if self.distributed else []
        self.method = describe(support, self.plan, unserved) if self.lines else ""
        if self.distributed:
            try:
                self.alloc = distribute_allocation(self.plan, self.alloc, support)  # type: ignore[arg-type]
            except SupportDistributionError as exc:
                raise InputError([Problem(f"models/{self.plan.model}/rules.toml",
                                          "support_distribution.services", str(exc))]) from exc

    @property
    def rows(self) -> list[str]:
        return self.thematic + ([] if self.distributed else self.lines)

    def body(self, cols: str, col_codes: Sequence[str]) -> pd.DataFrame:
        return _pivot(self.alloc, "priority", cols, self.rows, col_codes)

    def groups(self) -> list[tuple[str, list[str]]]:
        if self.distributed or not self.lines:
            return []
        return [("Thematic priorities", self.thematic), ("Support lines (enablers)", self.lines)]


def regular_total(solution: Solution) -> int:
    """The regular budget allocated over the plan, rounded half up: A5's and the reconciliation's."""
    a = solution.allocation
    return round_half_up(float(a.loc[a["fund"] == REGULAR, "amount"].sum()))


def grand_total(solution: Solution) -> int:
    """The allocation's total rounded half up: every allocation table's rounded grand total."""
    return round_half_up(float(solution.allocation["amount"].sum()))


# -- the tables --------------------------------------------------------------------------------

def priority_entity(solution: Solution, support: str = "rows") -> Table:
    """A1: thematic priorities (and support lines) x entities, over the whole plan period."""
    plan = solution.plan
    pr = _Priorities(solution, support)
    entities = [e.code for e in plan.entities]
    return _finish(
        "a1-priority-entity",
        f"Table A1. Resources by thematic priority and entity, {_period(plan)}", plan,
        _source(plan, "All funds: regular budget and extrabudgetary."), "priority",
        pr.body("entity", entities), share=True, total=grand_total(solution),
        row_groups=pr.groups(), method=pr.method, names=_names(plan))


def goal_entity(solution: Solution, support: str = "rows",
                entity_totals: Sequence[int] | None = None) -> Table:
    """A2: strategic goals x entities, through each priority's contribution shares to the goals."""
    plan = solution.plan
    pr = _Priorities(solution, support)
    entities = [e.code for e in plan.entities]
    body = pr.body("entity", entities)
    goals = [g.code for g in plan.goals]
    shares = np.zeros((len(pr.thematic), len(goals) + 1))
    for i, code in enumerate(pr.thematic):
        p = next(p for p in plan.priorities if p.code == code)
        total = sum(p.goal_shares.values())
        if total > 0:   # validated to add up to 1; normalised so that the table keeps its total
            for g, s in p.goal_shares.items():
                shares[i, goals.index(g)] = s / total
        else:
            shares[i, -1] = 1.0
    goal_rows = shares.T @ body.loc[pr.thematic].to_numpy()
    labels = [*goals, UNASSIGNED_GOAL]
    keep = [k for k in range(len(labels)) if k < len(goals) or shares[:, k].any()]
    frame = pd.DataFrame(goal_rows[keep], index=[labels[k] for k in keep], columns=entities)
    groups: list[tuple[str, list[str]]] = []
    if not pr.distributed and pr.lines:
        frame = pd.concat([frame, body.loc[pr.lines]])
        groups = [("Strategic goals (thematic priorities)", list(frame.index[: len(keep)])),
                  ("Support lines (enablers)", pr.lines)]
    return _finish(
        "a2-goal-entity",
        f"Table A2. Resources by strategic goal and entity, {_period(plan)}", plan,
        _source(plan, "All funds. A thematic priority's resources count for each goal in "
                "proportion to its contribution shares (goal_shares in framework.toml)."),
        "goal", frame, share=True, total=grand_total(solution), col_totals=entity_totals,
        row_groups=groups, method=pr.method, names=_names(plan))


def priority_output(solution: Solution, support: str = "rows",
                    priority_totals: Sequence[int] | None = None) -> Table:
    """A3: thematic priorities x product and service offerings (and support services)."""
    plan = solution.plan
    pr = _Priorities(solution, support)
    outputs = [o.code for o in plan.outputs] + ([SUPPORT_OUTPUT] if pr.lines else [])
    return _finish(
        "a3-priority-output",
        f"Table A3. Resources by thematic priority and product and service offering, {_period(plan)}",
        plan, _source(plan, "All funds. Support lines are not delivered through an offering: "
                      "their resources show as support services."),
        "priority", pr.body("output", outputs), share=True, total=grand_total(solution),
        row_totals=priority_totals, row_groups=pr.groups(), method=pr.method, names=_names(plan))


def entity_year(solution: Solution, entity_totals: Sequence[int] | None = None) -> Table:
    """A4: entities x years; the workbook and Markdown add the biennia."""
    plan = solution.plan
    entities = [e.code for e in plan.entities]
    years = [str(y) for y in plan.years]
    body = _pivot(solution.allocation, "entity", "year", entities, years)
    return _finish(
        "a4-entity-year", f"Table A4. Resources by entity and year, {_period(plan)}", plan,
        _source(plan, "All funds: regular budget and extrabudgetary."), "entity", body,
        share=True, total=grand_total(solution), row_totals=entity_totals, names=_names(plan),
        column_groups=[(label, tuple(str(y) for y in ys)) for label, ys in plan.biennia.items()])


def priority_fund(solution: Solution, support: str = "rows",
                  priority_totals: Sequence[int] | None = None,
                  regular_total: int | None = None) -> Table:
    """A5: thematic priorities x funds: the regular budget, then each extrabudgetary fund.

    `regular_total` makes the regular budget's total agree with the reconciliation's.
    """
    plan = solution.plan
    pr = _Priorities(solution, support)
    fund_totals = None if regular_total is None else [regular_total] + [None] * len(plan.funds)
    return _finish(
        "a5-priority-fund", f"Table A5. Resources by thematic priority and fund, {_period(plan)}",
        plan, _source(plan, "Extrabudgetary funds are outside the regular budget's ceiling."),
        "priority", pr.body("fund", list(plan.fund_codes)), share=True,
        total=grand_total(solution), row_totals=priority_totals, col_totals=fund_totals,
        row_groups=pr.groups(),
        method=pr.method, names=_names(plan))


def reconciliation(solution: Solution) -> Table:
    """The financial plan's ceiling, line by line, against the regular budget allocated, per year.

    The ceiling is the revenue lines, the growth rules and cuts, and the programme support costs
    earned on the extrabudgetary funds' spending. They are positive, allocations negative, so the
    Total row is the unallocated balance: zero, to the unit, where the scenario balances the budget.
    """
    plan = solution.plan
    years = [str(y) for y in plan.years]
    names = _names(plan)
    lines: list[tuple[str, str, list[float]]] = []
    for line in plan.revenue:
        lines.append((f"revenue:{line.code}", line.name,
                      [line.amounts.get(y, 0.0) for y in plan.years]))
    for adj in plan.adjustments:
        lines.append((f"adjustment:{adj.code}", adj.name,
                      [adj.amounts.get(y, 0.0) for y in plan.years]))
    spending = solution.fund_spending()
    for fund in plan.funds:
        if fund.support_cost_rate > 0:
            lines.append((f"support_costs:{fund.code}",
                          f"Programme support costs earned: {fund.name}",
                          [fund.support_cost_rate * spending.get((fund.code, y), 0.0)
                           for y in plan.years]))
    ceiling = pd.DataFrame([amounts for _, _, amounts in lines],
                           index=[label for label, _, _ in lines], columns=years, dtype=float)
    names.update({label: name for label, name, _ in lines})
    regular = solution.allocation[solution.allocation["fund"] == REGULAR]
    entities = [e.code for e in plan.entities]
    spent = -_pivot(regular, "entity", "year", entities, years)
    spent.index = [f"allocated:{e}" for e in entities]
    names.update({f"allocated:{e.code}": f"Allocated: {e.name}" for e in plan.entities})
    body = pd.concat([ceiling, spent]).astype(float)
    balances = body.sum(axis=0).to_numpy()
    # a balance that rounds to zero must show zero, per year and per biennium: prescribe it
    zero = [0 if abs(b) < 0.5 else None for b in balances]
    biennia = [(label, tuple(str(y) for y in ys)) for label, ys in plan.biennia.items()]
    zero_biennia = [0 if abs(sum(b for c, b in zip(years, balances, strict=True) if c in ys)) < 0.5
                    else None for _, ys in biennia]
    # the ceiling and the allocation are each rounded once and the balance is their difference,
    # so the three agree (rounding the balance on its own can contradict them at an exact half);
    # a balanced budget keeps a zero balance to the unit
    allocated = regular_total(solution)
    ceiling_total = float(ceiling.to_numpy().sum())
    balanced = abs(float(balances.sum())) <= 1e-6 * max(1.0, abs(ceiling_total))
    balance = 0 if balanced else round_half_up(ceiling_total) - allocated
    rule = ("The scenario balances the budget: the balance must be zero."
            if plan.balance_budget else "The scenario allows spending below the ceiling.")
    return _finish(
        "reconciliation",
        f"Reconciliation with the financial plan: regular budget, {_period(plan)}", plan,
        _source(plan, "Revenue lines from financial-plan.toml, with growth rules, cuts and "
                "programme support costs earned: their sum is the ceiling of the regular budget. "
                "Allocations (negative) are the regular budget only: extrabudgetary funds are "
                "outside the ceiling (Table A5)."),
        "line", body, share=False, total=balance,
        col_totals=zero, col_group_totals=zero_biennia,
        row_group_totals=[allocated + balance, -allocated],
        row_groups=[(CEILING, list(ceiling.index)), (ALLOCATED, list(spent.index))],
        names=names, total_label="Unallocated balance", column_groups=biennia,
        notes=(rule,))


def support_gross(solution: Solution) -> Table:
    """The reciprocal method's gross cost of each support line, per year.

    A line's gross cost is its direct cost plus the services it receives from the other lines;
    the services are counted at both ends, so the gross costs add up to more than the support
    costs distributed (their direct costs), by what the lines pass to each other.
    """
    plan = solution.plan
    try:
        body = gross_costs(plan, solution.allocation)
    except SupportDistributionError as exc:
        raise InputError([Problem(f"models/{plan.model}/rules.toml",
                                  "support_distribution.services", str(exc))]) from exc
    lines = [p.code for p in plan.priorities if p.support]
    a = solution.allocation
    direct = float(a.loc[a["priority"].astype(str).isin(lines), "amount"].sum())
    between = float(body.to_numpy().sum()) - direct
    return _finish(
        "support-gross",
        f"Gross cost of the support lines, reciprocal method, {_period(plan)}", plan,
        _source(plan, "All funds. A support line's gross cost is its direct cost plus the "
                "services it receives from the other support lines (rules.toml "
                "[support_distribution]), solved as simultaneous equations."),
        "Support line", body, share=False, names=_names(plan),
        column_groups=[(label, tuple(str(y) for y in ys)) for label, ys in plan.biennia.items()],
        notes=(f"The gross costs add up to {between:,.1f} {plan.unit} more than the support "
               f"costs distributed ({direct:,.1f} {plan.unit}, the lines' direct costs): the "
               "services between support lines, counted at the line that gives them and at the "
               "line that receives them.",))


def appendix_a(solution: Solution, support: str = "rows") -> list[Table]:
    """All the tables, in order, rounded to agree on the totals they share."""
    a1 = priority_entity(solution, support)
    entity_totals = [int(figure(a1.rounded, TOTAL, c)) for c in a1.value_columns]
    priority_totals = [int(v) for v in a1.rounded.loc[a1.rows, TOTAL]]
    rec = reconciliation(solution)
    return [
        a1,
        goal_entity(solution, support, entity_totals),
        priority_output(solution, support, priority_totals),
        entity_year(solution, entity_totals),
        priority_fund(solution, support, priority_totals, regular_total(solution)),
        rec,
        *([support_gross(solution)] if support == "reciprocal"
          and any(p.support for p in solution.plan.priorities) else []),
    ]


def summarize(solution: Solution, tables: Sequence[Table], support: str = "rows") -> Summary:
    """The workbook's summary, in whole units taken from the tables so that they agree."""
    from alloc.report.ceiling import published, whole_parts

    plan = solution.plan
    by_id = {t.id: t for t in tables}
    rec, a4 = by_id["reconciliation"].rounded, by_id["a4-entity-year"].rounded
    groups = dict(by_id["reconciliation"].row_groups)
    spent = list(groups[ALLOCATED])
    ceilings = published(solution, by_id["reconciliation"])
    years = []
    for y in (str(y) for y in plan.years):
        ceiling = ceilings[y]
        regular = -int(rec.loc[spent, y].to_numpy().sum())
        total = int(figure(a4, TOTAL, y))
        parts = tuple(whole_parts(solution.ceiling_parts(int(y)), ceiling))
        years.append(SummaryYear(y, ceiling, regular, int(figure(rec, TOTAL, y)), total - regular,
                                 total, parts))
    return Summary(
        scenario=plan.name, title=plan.title, chain=tuple(plan.scenario_chain), model=plan.model,
        status=solution.status, unit=plan.unit,
        inputs_date=plan.inputs_date, balance_budget=plan.balance_budget,
        support_method=describe(support, plan, unserved_entities(plan, solution.allocation)
                                if support != "rows" else ()),
        years=tuple(years),
        biennia=tuple((label, tuple(str(y) for y in ys)) for label, ys in plan.biennia.items()),
        overrides=tuple((o.scenario, o.key, _value(o.old), _value(o.new)) for o in plan.overrides))


def _value(value: object) -> str:
    """An input value as the user would write it, compactly; '(none)' where it did not exist."""
    if value is None:
        return "(none)"
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
