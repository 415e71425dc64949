"""The Appendix A linkage tables: pure functions of a solution, unrounded and rounded.

Appendix A to the strategic plan ("Allocation of resources: linkage with the financial plan")
shows the financial plan spread over the strategic framework. Each table here has a stable id, a
title, a unit, a source note and, when support costs are distributed, the method used. Writers
(CSV, workbook, Markdown) only lay these out: they never compute a figure.

Frames have the CSV's shape: the row labels (codes) as index, then the value columns, `Total`
and optionally `Share` (percent of the grand total); the last row is `Total`. The rounded frame is
in whole units and adds up along rows and columns (`alloc.report.rounding`). Every allocation
table is rounded once per year and per kind of money, sharing its totals with the others, and
all funds, biennia and the period are sums of those figures (`_Views`): every view of every table
agrees with every other. A share is its rounded amount over the table's rounded total, rounded to
0.1% on its own (`share_of`): the same amount has the same share everywhere, and shares may not
add up to 100.0.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from alloc.errors import InputError, Problem
from alloc.lp.solution import Solution
from alloc.model.domain import REGULAR, SUPPORT_OUTPUT, Plan
from alloc.report.rounding import RoundingError, controlled_round, round_half_up
from alloc.report.support import (
    SUPPORT_METHODS,
    SupportDistributionError,
    describe,
    distribute_allocation,
    gross_costs,
    transposed_product,
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
    funds: str = "all"
    """Which money the table shows: "all" funds or the "regular" budget only."""
    period: str = ""
    """The years the table covers: the plan period, a biennium or a year, as a label."""

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
    illustrative: bool = False
    reference: str = ""
    """The document reference: the scenario's own, else model/scenario."""
    description: str = ""


# -- building blocks ----------------------------------------------------------------------------

def figure(frame: pd.DataFrame, row: str, column: str) -> float:
    """One figure of a table (an int or a float of numpy; pandas types a cell as any scalar)."""
    return cast(float, frame.at[row, column])


Grid = dict[Any, dict[Any, Any]]
"""A table's figures by row label, then column label: for reading many figures one at a time
(`frame.at` costs some 20 microseconds a call, a dict lookup a hundredth of that)."""


def grid(frame: pd.DataFrame) -> Grid:
    """The frame's figures by row and column label, each a Python int or float."""
    columns = list(frame.columns)
    return {row: dict(zip(columns, values, strict=True))
            for row, values in zip(frame.index, frame.to_numpy(dtype=object).tolist(), strict=True)}


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
    rows, cols = _labels(plan, body)
    body = body.set_axis(rows, axis=0).set_axis(cols, axis=1)
    cells, fallback = _round(body, total, row_totals, col_totals, row_groups, column_groups,
                             col_group_totals, row_group_totals)
    return assemble(table_id, title, plan, source, row_header, body, cells, share=share,
                    row_groups=row_groups, method=method, names=names,
                    column_groups=column_groups, total_label=total_label,
                    notes=[*notes, *([fallback] if fallback else [])])


def _labels(plan: Plan, body: pd.DataFrame) -> tuple[list[str], list[str]]:
    rows, cols = [str(r) for r in body.index], [str(c) for c in body.columns]
    clash = sorted({TOTAL, SHARE} & {*rows, *cols})
    if clash:
        raise InputError([Problem(f"models/{plan.model}", "", f"the code '{clash[0]}' is the name of "
                                  "a total in the Appendix A tables; rename it")])
    return rows, cols


def _round(body: pd.DataFrame, total: int | None, row_totals: Totals, col_totals: Totals,
           row_groups: Sequence[tuple[str, Sequence[str]]] = (),
           column_groups: Sequence[tuple[str, Sequence[str]]] = (),
           col_group_totals: Totals = None, row_group_totals: Totals = None
           ) -> tuple[np.ndarray, str]:
    """A body's controlled rounding (labelled groups as index groups), with its fallback note."""
    rows, cols = list(body.index), list(body.columns)
    groups = [[rows.index(r) for r in labels] for _, labels in row_groups] if row_groups else None
    col_groups = None
    if column_groups:
        grouped = [[cols.index(c) for c in labels if c in cols] for _, labels in column_groups]
        alone = [[j] for j in range(len(cols)) if not any(j in g for g in grouped)]
        col_groups = [g for g in grouped if g] + alone
        if col_group_totals is not None:   # given per named group; columns alone stay free
            col_group_totals = [*(t for t, g in zip(col_group_totals, grouped, strict=True) if g),
                                *[None] * len(alone)]
    return _rounded_body(body, total, row_totals, col_totals, groups, col_groups,
                         col_group_totals, row_group_totals)


SHARE_NOTE = ("Shares are each amount over the table's total, rounded to 0.1% on their own, so that "
              "the same amount has the same share in every table; they may not add up to 100.0% "
              "owing to rounding.")


def share_of(amount: float, total: float) -> float:
    """The published share of a rounded amount: percent to one decimal, rounded half up on its own
    (the rule every table, subtotal and writer uses)."""
    return round_half_up(1000.0 * amount / total) / 10.0 if total > 0 else 0.0


def assemble(table_id: str, title: str, plan: Plan, source: str, row_header: str,
             body: pd.DataFrame, cells: np.ndarray, *, share: bool,
             row_groups: Sequence[tuple[str, Sequence[str]]] = (), method: str = "",
             names: Mapping[str, str] | None = None,
             column_groups: Sequence[tuple[str, Sequence[str]]] = (),
             total_label: str = TOTAL, notes: Sequence[str] = (), funds: str = "all",
             period: str = "", rounding: str = "") -> Table:
    """A Table from an unrounded body and its rounded cells (which add up by construction)."""
    rows, cols = _labels(plan, body)
    exact = body.to_numpy(dtype=float)
    index = [*rows, TOTAL]
    values = pd.DataFrame(np.vstack([exact, exact.sum(0, keepdims=True)]) if rows
                          else np.zeros((1, len(cols))), index=index, columns=cols)
    values[TOTAL] = values[cols].sum(axis=1)
    cells = np.asarray(cells).reshape(len(rows), len(cols))
    rounded = pd.DataFrame(np.vstack([cells, cells.sum(0, keepdims=True)]).astype(np.int64) if rows
                           else np.zeros((1, len(cols)), dtype=np.int64), index=index, columns=cols)
    rounded[TOTAL] = rounded[cols].sum(axis=1).astype(np.int64)
    if share:
        grand = figure(values, TOTAL, TOTAL)
        values[SHARE] = 100.0 * values[TOTAL] / grand if grand > 0 else 0.0
        rounded_grand = float(figure(rounded, TOTAL, TOTAL))
        rounded[SHARE] = [share_of(float(v), rounded_grand) for v in rounded[TOTAL]]
    for frame in (values, rounded):
        frame.index.name = row_header
    unit_notes = [rounding or f"Rounded to whole {plan.unit} so that every row and column adds up.",
                  *([SHARE_NOTE] if share else []), *notes]
    return Table(
        id=table_id, title=title, unit=plan.unit, source=source, row_header=row_header,
        values=values, rounded=rounded, method=method, notes=tuple(unit_notes),
        names=dict(names or {}),
        row_groups=tuple((name, tuple(labels)) for name, labels in row_groups),
        column_groups=tuple((name, tuple(labels)) for name, labels in column_groups),
        total_label=total_label, funds=funds, period=period or _period(plan),
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


# -- the tables --------------------------------------------------------------------------------
#
# Every allocation table is rounded once, per year and per kind of money (regular budget,
# extrabudgetary), in an order that makes the tables share their totals: the entities' figures per
# year (the regular budget's from the reconciliation), then A1 with those as column totals, then
# A2, A3 and A5 with A1's priority totals. The all-funds figures are the sum of the two kinds, and a
# biennium's or the period's figures the sum of its years: every view of every table adds up with
# every other, to the unit.

FUNDS = ("all", "regular")
FUND_NAMES = {"all": "all funds", "regular": "regular budget"}
KINDS = ("regular", "extrabudgetary")
YEAR_ROUNDING = ("Each year's figures are rounded to whole {unit}, the regular budget and the "
                 "extrabudgetary funds separately, so that every row and column adds up and every "
                 "table agrees with the others; all funds, biennia and the period are the sums of "
                 "those figures.")
_TITLES = {
    "a1-priority-entity": "Table A1. Resources by thematic priority and entity",
    "a2-goal-entity": "Table A2. Resources by strategic goal and entity",
    "a3-priority-output": "Table A3. Resources by thematic priority and product and service offering",
    "a4-entity-year": "Table A4. Resources by entity and year",
    "a5-priority-fund": "Table A5. Resources by thematic priority and fund",
}
_SOURCES = {
    "a1-priority-entity": "",
    "a2-goal-entity": ("A thematic priority's resources count for each goal in proportion to its "
                       "contribution shares (goal_shares in framework.toml)."),
    "a3-priority-output": ("Support lines are not delivered through an offering: their resources "
                           "show as support services."),
    "a4-entity-year": "",
    "a5-priority-fund": "Extrabudgetary funds are outside the regular budget's ceiling.",
}


@dataclass
class _Piece:
    """One table's body for one year and one kind of money: unrounded and rounded."""

    body: pd.DataFrame
    cells: np.ndarray
    note: str = ""


class _Views:
    """The year pieces of every allocation table, rounded to agree, and their sums."""

    def __init__(self, solution: Solution, support: str):
        self.solution = solution
        self.plan = plan = solution.plan
        self.pr = _Priorities(solution, support)
        self.names = _names(plan)
        self.entities = [e.code for e in plan.entities]
        self.years = [str(y) for y in plan.years]
        self.eb_funds = [f.code for f in plan.funds]
        self.rec = reconciliation(solution)
        raw = solution.allocation
        is_rb = raw["fund"] == REGULAR
        rec = self.rec.rounded
        rb_years = -rec.loc[[f"allocated:{e}" for e in self.entities], self.years].to_numpy()
        eb_body = _pivot(raw[~is_rb], "entity", "year", self.entities, self.years)
        eb_years, self.a4_note = _round(eb_body, None, None, None)
        self.entity_years = {"regular": (_pivot(raw[is_rb], "entity", "year", self.entities,
                                                 self.years), rb_years.astype(np.int64)),
                             "extrabudgetary": (eb_body, eb_years.astype(np.int64))}
        fund_body = _pivot(raw[~is_rb], "fund", "year", self.eb_funds, self.years)
        fund_cells, _ = _round(fund_body, int(eb_years.sum()), None,
                               [int(v) for v in eb_years.sum(0)])
        self.fund_years = (fund_body, fund_cells.astype(np.int64))
        self._pieces: dict[tuple[str, str, str], _Piece] = {}
        self._parts: dict[tuple[str, str], pd.DataFrame] = {}

    def _part(self, kind: str, year: str) -> pd.DataFrame:
        """The allocation (support costs distributed as asked) of one kind of money in one year."""
        if (kind, year) not in self._parts:
            dist = self.pr.alloc
            regular = dist["fund"] == REGULAR
            self._parts[kind, year] = dist[(regular if kind == "regular" else ~regular)
                                           & (dist["year"].astype(str) == year)]
        return self._parts[kind, year]

    def piece(self, table_id: str, kind: str, year: str) -> _Piece:
        """One table's year piece, rounded when first asked for (A1 before the tables that take
        its priority totals), so a caller that needs A1 alone rounds A1 alone."""
        key = (table_id, kind, year)
        if key not in self._pieces:
            self._pieces[key] = self._make(table_id, kind, year)
        return self._pieces[key]

    def _make(self, table_id: str, kind: str, year: str) -> _Piece:
        pr, groups = self.pr, self.pr.groups()
        j = self.years.index(year)
        part = self._part(kind, year)
        entity_cells = [int(v) for v in self.entity_years[kind][1][:, j]]
        total = sum(entity_cells)
        if table_id == "a1-priority-entity":
            body = _pivot(part, "priority", "entity", pr.rows, self.entities)
            cells, note = _round(body, total, None, entity_cells, groups)
            return _Piece(body, cells, note)
        a1 = self.piece("a1-priority-entity", kind, year)
        priority_totals = [int(v) for v in a1.cells.sum(1)]
        if table_id == "a2-goal-entity":
            goals, goal_groups = self._goal_body(a1.body)
            lines = self.pr.lines if goal_groups else []
            row_totals = [None] * (len(goals) - len(lines)) + priority_totals[len(pr.thematic):]
            group_totals = ([sum(priority_totals[: len(pr.thematic)]),
                             sum(priority_totals[len(pr.thematic):])] if goal_groups else None)
            cells, note = _round(goals, total, row_totals if lines else None, entity_cells,
                                 goal_groups, row_group_totals=group_totals)
            return _Piece(goals, cells, note)
        if table_id == "a3-priority-output":
            outputs = [o.code for o in self.plan.outputs] + ([SUPPORT_OUTPUT] if pr.lines else [])
            body = _pivot(part, "priority", "output", pr.rows, outputs)
            cells, note = _round(body, total, priority_totals, None, groups)
            return _Piece(body, cells, note)
        if kind == "regular":
            body = _pivot(part, "priority", "fund", pr.rows, [REGULAR])
            return _Piece(body, np.array(priority_totals, dtype=np.int64).reshape(-1, 1))
        body = _pivot(part, "priority", "fund", pr.rows, self.eb_funds)
        fund_cells = [int(v) for v in self.fund_years[1][:, j]]
        cells, note = _round(body, total, priority_totals, fund_cells, groups)
        return _Piece(body, cells, note)

    def _goal_body(self, body: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, list[str]]]]:
        """A1's body through each priority's contribution shares to the goals (support lines kept
        as rows when they are rows)."""
        plan, pr = self.plan, self.pr
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
        goal_rows = transposed_product(shares, body.loc[pr.thematic].to_numpy())
        labels = [*goals, UNASSIGNED_GOAL]
        keep = [k for k in range(len(labels)) if k < len(goals) or shares[:, k].any()]
        frame = pd.DataFrame(goal_rows[keep], index=[labels[k] for k in keep],
                             columns=body.columns)
        groups: list[tuple[str, list[str]]] = []
        if not pr.distributed and pr.lines:
            frame = pd.concat([frame, body.loc[pr.lines]])
            groups = [("Strategic goals (thematic priorities)", list(frame.index[: len(keep)])),
                      ("Support lines (enablers)", pr.lines)]
        return frame, groups

    def periods(self) -> list[tuple[str, list[str]]]:
        """The plan period, then each biennium, then each year: label and years, each span once."""
        plan = self.plan
        out = [(_period(plan), self.years)]
        out += [(label, [str(y) for y in ys]) for label, ys in plan.biennia.items()]
        out += [(y, [y]) for y in self.years]
        seen: set[tuple[str, ...]] = set()
        unique = []     # a plan of one biennium (or one year) shows each span once
        for label, ys in out:
            if tuple(ys) not in seen:
                seen.add(tuple(ys))
                unique.append((label, ys))
        return unique

    def table(self, table_id: str, funds: str, period: str, years: Sequence[str]) -> Table:
        """One view: the sum of its years' pieces, of both kinds of money or the regular budget."""
        plan, pr = self.plan, self.pr
        kinds = KINDS if funds == "all" else ("regular",)
        if table_id == "a4-entity-year":
            return self._entity_year(funds, kinds)
        body = _add([self.piece(table_id, k, y).body for k in kinds for y in years])
        if table_id == "a5-priority-fund":
            bodies = {k: _add([self.piece(table_id, k, y).body for y in years]) for k in kinds}
            cells_of = {k: np.sum([self.piece(table_id, k, y).cells for y in years], axis=0)
                        for k in kinds}
            body = pd.concat([bodies[k] for k in kinds], axis=1)
            cells = np.hstack([cells_of[k] for k in kinds])
        else:
            cells = np.sum([self.piece(table_id, k, y).cells for k in kinds for y in years], axis=0)
        notes = sorted({self.piece(table_id, k, y).note for k in kinds for y in years} - {""})
        groups: Sequence[tuple[str, Sequence[str]]] = pr.groups()
        if table_id == "a2-goal-entity":
            groups = self._goal_body(self.piece("a1-priority-entity", "regular", years[0]).body)[1]
        extra = _SOURCES[table_id]
        money = ("All funds: regular budget and extrabudgetary." if funds == "all"
                 else "Regular budget only: extrabudgetary funds are in the all-funds tables.")
        return assemble(
            table_id, f"{_TITLES[table_id]}, {period}, {FUND_NAMES[funds]}", plan,
            _source(plan, f"{money} {extra}".strip()), _ROW_HEADERS[table_id], body,
            np.asarray(cells), share=True, row_groups=groups, method=pr.method, names=self.names,
            notes=notes[:1], funds=funds, period=period,
            rounding=YEAR_ROUNDING.format(unit=plan.unit))

    def _entity_year(self, funds: str, kinds: Sequence[str]) -> Table:
        plan = self.plan
        body = _add([self.entity_years[k][0] for k in kinds])
        cells = sum(self.entity_years[k][1] for k in kinds)
        money = ("All funds: regular budget and extrabudgetary." if funds == "all"
                 else "Regular budget only, as allocated in the reconciliation with the financial plan.")
        return assemble(
            "a4-entity-year", f"{_TITLES['a4-entity-year']}, {_period(plan)}, {FUND_NAMES[funds]}",
            plan, _source(plan, money), "entity", body, np.asarray(cells), share=True,
            names=self.names, funds=funds, period=_period(plan),
            column_groups=[(label, tuple(str(y) for y in ys)) for label, ys in plan.biennia.items()],
            notes=[self.a4_note] if self.a4_note and funds == "all" else (),
            rounding=YEAR_ROUNDING.format(unit=plan.unit))

    def all_views(self) -> list[Table]:
        """Every view of every allocation table: A1-A3 and A5 for the period, each biennium and
        each year, all funds and regular budget (A5's regular budget is its first column, so A5 is
        all funds only); A4 (years as columns) for all funds and the regular budget."""
        out: list[Table] = []
        for table_id in _TITLES:
            if table_id == "a4-entity-year":
                out += [self.table(table_id, funds, "", ()) for funds in FUNDS]
                continue
            for funds in FUNDS:
                if table_id == "a5-priority-fund" and funds == "regular":
                    continue
                out += [self.table(table_id, funds, label, ys) for label, ys in self.periods()]
        return out


def _add(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The sum of frames of the same shape and labels."""
    out = frames[0].copy()
    for frame in frames[1:]:
        out = out + frame
    return out


GROUP_NAMES = {"assessed": "Assessed contributions", "cost_recovery": "Cost recovery",
               "interest": "Interest", "reserve": "Reserve account", "other": "Other revenue"}
"""Names of the revenue groups of financial-plan.toml, as Decision 5 heads its blocks."""


@dataclass(frozen=True)
class StatementRow:
    """A row of the financial plan: kind is heading, line, subtotal, total or balance."""

    kind: str
    code: str
    name: str
    values: tuple[int, ...] = ()
    """Per year, in whole units (empty for a heading)."""
    members: tuple[int, ...] = ()
    """The rows a subtotal or total adds up (indices into the statement's rows)."""
    minus: tuple[int, ...] = ()
    """Rows a balance subtracts."""


@dataclass(frozen=True)
class Statement:
    """The financial plan in Decision 5's layout: revenue by group with subtotals, the ceiling,
    expenses by entity as positive figures, the balance; then the extrabudgetary funds, outside the
    ceiling, and all funds. Every figure is the reconciliation's or the allocation tables'."""

    title: str
    unit: str
    source: str
    years: tuple[str, ...]
    biennia: tuple[tuple[str, tuple[str, ...]], ...]
    rows: tuple[StatementRow, ...]
    notes: tuple[str, ...] = ()


def _strip_group(name: str, group: str) -> str:
    """"Assessed contributions: Member States" under its group's heading reads "Member States"."""
    for prefix in (GROUP_NAMES.get(group, ""), group.replace("_", " ")):
        if prefix and name.lower().startswith(prefix.lower() + ":"):
            rest = name[len(prefix) + 1:].strip()
            return rest[:1].upper() + rest[1:] if rest else name
    return name


def statement(views: _Views) -> Statement:
    """The financial plan (Decision 5's layout) from the same rounded figures as the tables."""
    plan, rec = views.plan, views.rec.rounded
    years = views.years
    rows: list[StatementRow] = []

    def add(kind: str, code: str, name: str, values: Sequence[int] = (),
            members: Sequence[int] = (), minus: Sequence[int] = ()) -> int:
        rows.append(StatementRow(kind, code, name, tuple(int(v) for v in values), tuple(members),
                                 tuple(minus)))
        return len(rows) - 1

    def line(label: str) -> list[int]:
        return [int(figure(rec, label, y)) for y in years]

    add("heading", "", "Revenue: regular budget")
    blocks: list[int] = []
    for group in dict.fromkeys(r.group for r in plan.revenue):
        lines = [r for r in plan.revenue if r.group == group]
        name = GROUP_NAMES.get(group, group)
        if len(lines) == 1:
            blocks.append(add("line", lines[0].code, name if lines[0].name == name else
                              lines[0].name, line(f"revenue:{lines[0].code}")))
            continue
        add("heading", "", name)
        members = [add("line", r.code, _strip_group(r.name, group), line(f"revenue:{r.code}"))
                   for r in lines]
        blocks.append(add("subtotal", "", f"Total {name[0].lower() + name[1:]}",
                          _sums(rows, members), members))
    if plan.adjustments:
        add("heading", "", "Growth rules and cuts")
        members = [add("line", a.code, a.name, line(f"adjustment:{a.code}")) for a in plan.adjustments]
        blocks += members
    support = [label for label in views.rec.rows if label.startswith("support_costs:")]
    if support:
        add("heading", "", "Programme support costs earned on extrabudgetary funds")
        members = [add("line", label.split(":", 1)[1],
                       views.rec.name(label).replace("Programme support costs earned: ", ""),
                       line(label)) for label in support]
        blocks.append(add("subtotal", "", "Total programme support costs earned",
                          _sums(rows, members), members))
    revenue = add("total", "", "Total revenue: the ceiling of the regular budget",
                  _sums(rows, blocks), blocks)
    add("heading", "", "Expenses: regular budget, by entity")
    members = [add("line", e.code, e.name, [-v for v in line(f"allocated:{e.code}")])
               for e in plan.entities]
    expenses = add("total", "", "Total expenses: regular budget", _sums(rows, members), members)
    add("balance", "", "Balance: revenue less expenses",
        [a - b for a, b in zip(rows[revenue].values, rows[expenses].values, strict=True)],
        (revenue,), (expenses,))
    if plan.funds:
        add("heading", "", "Extrabudgetary funds, outside the ceiling: expenses by fund")
        fund_cells = views.fund_years[1]
        members = [add("line", f.code, f.name, [int(v) for v in fund_cells[i]])
                   for i, f in enumerate(plan.funds)]
        extra = add("total", "", "Total expenses: extrabudgetary funds", _sums(rows, members), members)
        add("total", "", "Total expenses: all funds",
            _sums(rows, [expenses, extra]), (expenses, extra))
    rule = ("The scenario balances the budget: the balance is zero." if plan.balance_budget
            else "The scenario allows spending below the ceiling: the balance is what is left.")
    return Statement(
        title=f"Financial plan, {_period(plan)}", unit=plan.unit,
        source=_source(plan, "Revenue lines, growth rules and cuts from financial-plan.toml; "
                       "programme support costs earned on the extrabudgetary funds' spending; "
                       "expenses as allocated (Tables A1-A5)."),
        years=tuple(years),
        biennia=tuple((label, tuple(str(y) for y in ys)) for label, ys in plan.biennia.items()),
        rows=tuple(rows),
        notes=(f"In {plan.unit}, rounded to whole units as in the tables: every subtotal and total "
               "is the sum of the figures shown.", rule))


def _sums(rows: Sequence[StatementRow], members: Sequence[int]) -> list[int]:
    return [sum(col) for col in zip(*(rows[m].values for m in members), strict=True)]


@dataclass(frozen=True)
class PreviousPeriod:
    """The regular budget of this period against the previous one's, by thematic priority and
    by entity: amount, variance and percentage, in whole units."""

    title: str
    unit: str
    previous_label: str
    period_label: str
    by_priority: pd.DataFrame | None
    """Columns previous, current, variance, percent (None when support costs are distributed:
    the previous period's support lines are not)."""
    by_entity: pd.DataFrame
    priority_groups: tuple[tuple[str, tuple[str, ...]], ...]
    names: Mapping[str, str]
    notes: tuple[str, ...]


def previous_period(views: _Views) -> PreviousPeriod | None:
    """The comparison with the previous period, or None when the model gives no previous
    allocation (previous-allocation.csv)."""
    plan = views.plan
    if not plan.previous:
        return None
    n = len(plan.years)
    priorities = [p.code for p in plan.priorities]
    amounts = np.zeros((len(views.entities), len(priorities)))
    for (entity, priority), amount in plan.previous.items():
        amounts[views.entities.index(entity), priorities.index(priority)] += amount * n
    body = pd.DataFrame(amounts, index=views.entities, columns=priorities)
    cells, _ = _round(body, None, None, None)
    previous = pd.DataFrame(cells, index=views.entities, columns=priorities).astype(np.int64)
    period = _period(plan)
    current_entity = views.table("a4-entity-year", "regular", period, views.years).rounded
    by_entity = _variance(previous.sum(axis=1), current_entity.loc[views.entities, TOTAL])
    by_priority = None
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    if not views.pr.distributed:
        a1 = views.table("a1-priority-entity", "regular", period, views.years)
        by_priority = _variance(previous.sum(axis=0).reindex(a1.rows),
                                a1.rounded.loc[a1.rows, TOTAL])
        groups = a1.row_groups
    label = f"{plan.years[0] - n}-{plan.years[0] - 1}"
    return PreviousPeriod(
        title=f"Comparison with the previous period: regular budget, {label} and {period}",
        unit=plan.unit, previous_label=label, period_label=period, by_priority=by_priority,
        by_entity=by_entity, priority_groups=groups, names=views.names,
        notes=(f"Previous period: previous-allocation.csv's yearly regular-budget allocation per "
               f"entity and priority, times {n} years, rounded to whole {plan.unit} so that it adds "
               "up. This period: Tables A1 and A4, regular budget. Variance: this period less the "
               "previous; percentage: the variance over the previous period's amount (n/a where "
               "that is zero).",
               *(("Support costs are distributed over the thematic priorities in this report, "
                  "not in the previous allocation: the comparison is by entity only.",)
                 if views.pr.distributed else ())))


def _variance(previous: pd.Series, current: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame({"previous": previous.astype(np.int64).to_numpy(),
                          "current": current.astype(np.int64).to_numpy()},
                         index=list(current.index))
    frame.loc[TOTAL] = frame.sum()
    frame["variance"] = frame["current"] - frame["previous"]
    frame["percent"] = [round_half_up(1000.0 * v / p) / 10.0 if p else float("nan")
                        for v, p in zip(frame["variance"], frame["previous"], strict=True)]
    return frame


_ROW_HEADERS = {"a1-priority-entity": "priority", "a2-goal-entity": "goal",
                "a3-priority-output": "priority", "a4-entity-year": "entity",
                "a5-priority-fund": "priority"}


def priority_entity(solution: Solution, support: str = "rows") -> Table:
    """A1: thematic priorities (and support lines) x entities, over the whole plan period."""
    views = _Views(solution, support)
    return views.table("a1-priority-entity", "all", _period(solution.plan), views.years)


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
    """The tables for the plan period and all funds, in order, with the reconciliation."""
    views = _Views(solution, support)
    period = _period(solution.plan)
    return [
        *(views.table(t, "all", period, views.years) for t in _TITLES),
        views.rec,
        *([support_gross(solution)] if support == "reciprocal"
          and any(p.support for p in solution.plan.priorities) else []),
    ]


@dataclass(frozen=True)
class Appendix:
    """Everything the Council workbook shows, from one rounding."""

    tables: list[Table]
    """As `appendix_a`: the period's all-funds tables, the reconciliation (and gross costs)."""
    views: list[Table]
    """Every view of the allocation tables (`_Views.all_views`)."""
    statement: Statement
    previous: PreviousPeriod | None


def appendix_views(solution: Solution, support: str = "rows") -> Appendix:
    """The tables, every view of them, the financial plan and the previous period's comparison."""
    views = _Views(solution, support)
    period = _period(solution.plan)
    main = [*(views.table(t, "all", period, views.years) for t in _TITLES), views.rec,
            *([support_gross(solution)] if support == "reciprocal"
              and any(p.support for p in solution.plan.priorities) else [])]
    return Appendix(main, views.all_views(), statement(views), previous_period(views))


def summarize(solution: Solution, tables: Sequence[Table], support: str = "rows") -> Summary:
    """The workbook's summary, in whole units taken from the tables so that they agree."""
    from alloc.report.ceiling import published, published_parts, whole_parts

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
        parts = tuple(published_parts(solution, [int(y)], by_id["reconciliation"]))
        if sum(a for _, a in parts) != ceiling:   # the reconciliation says it could not agree
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
        overrides=tuple((o.scenario, o.key, _value(o.old), _value(o.new)) for o in plan.overrides),
        illustrative=plan.illustrative, reference=plan.reference or f"{plan.model}/{plan.name}",
        description=plan.description)


def _value(value: object) -> str:
    """An input value as the user would write it, compactly; '(none)' where it did not exist."""
    if value is None:
        return "(none)"
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
