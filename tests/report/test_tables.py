"""Appendix A tables: they add up, they agree with each other and with the allocation.

On the fractions model (tests/appendix_models), on the reference model, and on plans and allocations
drawn by hypothesis.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alloc.errors import InputError
from alloc.lp.build import build
from alloc.lp.solution import Solution
from alloc.lp.solve import solve
from alloc.model.domain import (
    REGULAR,
    SUPPORT_OUTPUT,
    Entity,
    Fund,
    Goal,
    Output,
    Plan,
    Priority,
    RevenueLine,
    Selection,
    SupportServices,
)
from alloc.model.load import load_plan
from alloc.report.tables import (
    ALLOCATED,
    CEILING,
    SHARE,
    TABLE_IDS,
    TOTAL,
    Table,
    appendix_a,
    appendix_views,
    priority_entity,
    reconciliation,
    share_of,
)

MODELS = Path(__file__).parents[1] / "appendix_models"
PROJECT = Path(__file__).parents[2]
METHODS = ("rows", "direct", "step-down", "reciprocal")
ALLOCATION_TABLES = TABLE_IDS[:-1]


def solved(scenario: str, root: Path = MODELS) -> Solution:
    solution = solve(build(load_plan(scenario, root)))
    assert solution.optimal
    return solution


@pytest.fixture(scope="module")
def fractions() -> Solution:
    return solved("fractions")


@pytest.fixture(scope="module")
def baseline() -> Solution:
    return solved("baseline", PROJECT)


# -- properties every table set must have --------------------------------------------------------

def pieces(table: Table) -> int:
    """How many rounded figures each cell of a table is the sum of: one per year and per kind
    of money (regular budget, extrabudgetary) for the allocation tables, one for the others."""
    if table.id not in ALLOCATION_TABLES:
        return 1
    first, _, last = table.period.partition("-")
    years = 1 if table.id == "a4-entity-year" else int(last or first) - int(first) + 1
    return years * (2 if table.funds == "all" else 1)


def assert_adds_up(table: Table) -> None:
    """Rounded and unrounded frames: rows and columns add up; each share is its own amount over
    the total, rounded on its own; each cell within a unit of every rounded figure it sums."""
    for frame, exact in ((table.rounded, True), (table.values, False)):
        body = frame.loc[table.rows, table.value_columns].to_numpy(dtype=float)
        totals = frame.loc[table.rows, TOTAL].to_numpy(dtype=float)
        last = frame.loc[TOTAL, table.value_columns].to_numpy(dtype=float)
        if exact:
            assert (body.sum(1) == totals).all(), f"{table.id}: a row does not add up"
            assert (body.sum(0) == last).all(), f"{table.id}: a column does not add up"
            assert totals.sum() == frame.loc[TOTAL, TOTAL] == last.sum()
        else:
            assert np.allclose(body.sum(1), totals) and np.allclose(body.sum(0), last)
    if table.has_share:
        grand = float(table.rounded.loc[TOTAL, TOTAL])
        for row in [*table.rows, TOTAL]:
            assert table.rounded.loc[row, SHARE] == share_of(float(table.rounded.loc[row, TOTAL]), grand)
    rounded = table.rounded.drop(columns=[SHARE], errors="ignore").to_numpy(dtype=float)
    values = table.values.drop(columns=[SHARE], errors="ignore").to_numpy(dtype=float)
    n = pieces(table)
    assert (np.abs(rounded - values)[:-1, :-1] < n + 1e-9).all(), f"{table.id}: a figure moved too far"
    assert all(np.issubdtype(table.rounded[c].dtype, np.integer) for c in table.value_columns)
    if table.has_share:
        shares = table.rounded[SHARE].to_numpy()
        assert np.allclose(shares * 10, np.round(shares * 10)), "shares are in tenths of a percent"


def assert_table_set(solution: Solution, tables: Sequence[Table], support: str) -> None:
    plan = solution.plan
    by_id = {t.id: t for t in tables}
    gross = ["support-gross"] if support == "reciprocal" and any(
        p.support for p in plan.priorities) else []
    assert [t.id for t in tables] == [*TABLE_IDS, *gross]
    alloc = solution.allocation
    grand = float(alloc["amount"].sum())
    for table in tables:
        assert table.title and table.unit == plan.unit and table.source.startswith("Source:")
        assert_adds_up(table)
    for tid in ALLOCATION_TABLES:
        table = by_id[tid]
        assert table.values.loc[TOTAL, TOTAL] == pytest.approx(grand, abs=1e-6)
        assert abs(table.rounded.loc[TOTAL, TOTAL] - grand) < 2 * len(plan.years)
        assert table.rounded.loc[TOTAL, TOTAL] == tables[0].rounded.loc[TOTAL, TOTAL]

    a1, a2, a3, a4, a5, rec = tables[:6]
    # unrounded figures are the allocation's sums
    by_entity = alloc.groupby("entity")["amount"].sum()
    for e in plan.entities:
        for t in (a1, a2):
            assert t.values.loc[TOTAL, e.code] == pytest.approx(by_entity.get(e.code, 0.0), abs=1e-6)
        assert a4.values.loc[e.code, TOTAL] == pytest.approx(by_entity.get(e.code, 0.0), abs=1e-6)
    by_year = alloc.groupby("year")["amount"].sum()
    for y in plan.years:
        assert a4.values.loc[TOTAL, str(y)] == pytest.approx(by_year.get(y, 0.0), abs=1e-6)
    by_fund = alloc.groupby("fund")["amount"].sum()
    for f in plan.fund_codes:
        assert a5.values.loc[TOTAL, f] == pytest.approx(by_fund.get(f, 0.0), abs=1e-6)
    by_output = alloc.groupby("output")["amount"].sum()
    for o in a3.value_columns:
        assert a3.values.loc[TOTAL, o] == pytest.approx(by_output.get(o, 0.0), abs=1e-6)
    support_lines = [p.code for p in plan.priorities if p.support]
    thematic = [p.code for p in plan.priorities if not p.support]
    if support == "rows":
        by_priority = alloc.groupby("priority")["amount"].sum()
        for p in plan.priorities:
            for t in (a1, a3, a5):
                assert t.values.loc[p.code, TOTAL] == pytest.approx(by_priority.get(p.code, 0.0), abs=1e-6)
        # goals: each priority's resources through its goal shares
        for g in plan.goals:
            expected = sum(p.goal_shares.get(g.code, 0.0) / sum(p.goal_shares.values())
                           * by_priority.get(p.code, 0.0)
                           for p in plan.priorities if not p.support and p.goal_shares)
            assert a2.values.loc[g.code, TOTAL] == pytest.approx(expected, abs=1e-6)
    else:
        for t in (a1, a3, a5):
            assert t.rows == thematic, "distributed tables have no support rows"
            assert not set(support_lines) & set(t.values.index)
        assert support in a1.method or not support_lines

    # the tables agree on the totals they share (unless a table says it could not)
    if not any("for this table alone" in n for t in tables for n in t.notes):
        for e in plan.entities:
            assert a1.rounded.loc[TOTAL, e.code] == a2.rounded.loc[TOTAL, e.code] \
                == a4.rounded.loc[e.code, TOTAL]
        for p in a1.rows:
            assert a1.rounded.loc[p, TOTAL] == a3.rounded.loc[p, TOTAL] == a5.rounded.loc[p, TOTAL]
        allocated = list(dict(rec.row_groups)[ALLOCATED])
        assert a5.rounded.loc[TOTAL, REGULAR] == -rec.rounded.loc[allocated, TOTAL].sum()

    # reconciliation: the ceiling lines add up to the ceiling, the balance is ceiling - regular
    ceiling = list(dict(rec.row_groups)[CEILING])
    for y in plan.years:
        col = str(y)
        assert rec.values.loc[ceiling, col].sum() == pytest.approx(solution.ceiling(y), abs=1e-6)
        balance = solution.ceiling(y) - solution.allocated(y, REGULAR)
        assert rec.values.loc[TOTAL, col] == pytest.approx(balance, abs=1e-6)
        if plan.balance_budget:
            assert rec.rounded.loc[TOTAL, col] == 0


# -- the fractions model and the reference model ------------------------------------------------------

@pytest.mark.parametrize("support", METHODS)
def test_tiny_model_tables(fractions: Solution, support: str) -> None:
    assert_table_set(fractions, appendix_a(fractions, support), support)


@pytest.mark.parametrize("support", METHODS)
def test_reference_model_tables(baseline: Solution, support: str) -> None:
    assert_table_set(baseline, appendix_a(baseline, support), support)


def test_reconciliation_is_zero_when_the_budget_balances(fractions: Solution, baseline: Solution) -> None:
    for solution in (fractions, baseline):
        rec = reconciliation(solution)
        assert (rec.rounded.loc[TOTAL] == 0).all()
        assert "balances the budget" in " ".join(rec.notes)


def test_reconciliation_shows_what_is_left_when_the_budget_need_not_balance() -> None:
    solution = solved("unbalanced")
    rec = reconciliation(solution)
    for y in solution.plan.years:
        left = solution.ceiling(y) - solution.allocated(y, REGULAR)
        assert left > 100
        assert abs(rec.rounded.loc[TOTAL, str(y)] - left) < 1
    assert_table_set(solution, appendix_a(solution), "rows")


def test_programme_support_costs_are_a_line_of_the_ceiling(fractions: Solution) -> None:
    rec = reconciliation(fractions)
    assert "support_costs:trust" in rec.rows
    trust = fractions.allocation.query("fund == 'trust'").groupby("year")["amount"].sum()
    for y in fractions.plan.years:
        assert rec.values.loc["support_costs:trust", str(y)] == pytest.approx(0.07 * trust[y])


def test_tiny_model_figures_by_hand(fractions: Solution) -> None:
    a1 = priority_entity(fractions)
    assert a1.rows == ["P1", "P2", "S1", "S2"]
    assert a1.value_columns == ["E1", "E2"]
    assert [name for name, _ in a1.row_groups] == ["Thematic priorities", "Support lines (enablers)"]
    assert list(a1.values.columns) == ["E1", "E2", TOTAL, SHARE]
    # P1 is only delivered by E1 (mandate.csv), so its E2 cell is zero, exactly
    assert a1.values.loc["P1", "E2"] == 0 and a1.rounded.loc["P1", "E2"] == 0
    # the trust fund is earmarked to E1/P1
    a5 = appendix_a(fractions)[4]
    assert a5.values.loc[["P2", "S1", "S2"], "trust"].sum() == 0


@pytest.mark.parametrize("support", ["direct", "step-down", "reciprocal"])
def test_distribution_keeps_the_grand_total_and_every_column(fractions: Solution, support: str) -> None:
    rows = appendix_a(fractions, "rows")
    spread = appendix_a(fractions, support)
    for before, after in zip(rows, spread[:len(rows)], strict=True):
        assert after.values.loc[TOTAL, TOTAL] == pytest.approx(before.values.loc[TOTAL, TOTAL])
        assert after.rounded.loc[TOTAL, TOTAL] == before.rounded.loc[TOTAL, TOTAL]
        for col in before.value_columns:
            assert after.values.loc[TOTAL, col] == pytest.approx(before.values.loc[TOTAL, col])
    # the thematic priorities carry at least their direct costs
    a1_rows, a1_spread = rows[0], spread[0]
    for p in a1_spread.rows:
        assert a1_spread.values.loc[p, TOTAL] >= a1_rows.values.loc[p, TOTAL] - 1e-9


def test_methods_differ_when_support_lines_serve_priorities_differently(fractions: Solution) -> None:
    # S1 declares half of its cost for P2; S2 keeps all of its own for the priorities by direct
    # costs. Support costs stay within each entity's mandate: E2 serves only P2, so the methods
    # differ through E1, which bears S1 only: closing S1 first sends 30% of it through S2
    services = SupportServices(("S1", "S2"), {"S1": {"S2": 0.3, "P2": 0.5}, "S2": {"S1": 0.2}})
    plan = dataclasses.replace(fractions.plan, support_services=services)
    solution = dataclasses.replace(fractions, plan=plan)
    results = {m: priority_entity(solution, m) for m in ("direct", "step-down", "reciprocal")}
    p2 = {m: t.values.loc["P2", TOTAL] for m, t in results.items()}
    assert len({round(v, 6) for v in p2.values()}) == 3, p2
    totals = {t.values.loc[TOTAL, TOTAL] for t in results.values()}
    assert max(totals) - min(totals) < 1e-6


def test_support_lines_that_only_serve_each_other_are_an_input_error(fractions: Solution) -> None:
    services = SupportServices(("S1", "S2"), {"S1": {"S2": 1.0}, "S2": {"S1": 1.0}})
    solution = dataclasses.replace(
        fractions, plan=dataclasses.replace(fractions.plan, support_services=services))
    with pytest.raises(InputError, match="support_distribution"):
        priority_entity(solution, "reciprocal")
    with pytest.raises(ValueError):
        priority_entity(solution, "pro-rata")


def test_allocation_on_an_unknown_code_is_refused(fractions: Solution) -> None:
    extra = pd.DataFrame([{"entity": "XX", "priority": "P1", "output": "O1", "year": 2024,
                           "fund": REGULAR, "amount": 5.0}])
    bad = dataclasses.replace(
        fractions, allocation=pd.concat([fractions.allocation, extra], ignore_index=True))
    with pytest.raises(ValueError, match="does not know"):
        priority_entity(bad)


# -- hypothesis: plans and allocations of any shape ---------------------------------------------

@st.composite
def plans_and_allocations(draw: st.DrawFn, base: Plan) -> Solution:
    """A plan of random shape with a random allocation; the ceiling balances it or exceeds it."""
    n_e, n_t, n_s = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(0, 3))
    n_o, n_g, n_f = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(0, 2))
    years = tuple(range(2024, 2024 + draw(st.integers(1, 4))))
    entities = tuple(Entity(f"E{i}", f"Entity {i}") for i in range(n_e))
    goals = tuple(Goal(f"G{i}", f"Goal {i}") for i in range(n_g))
    thematic = []
    for i in range(n_t):
        weights = draw(st.lists(st.integers(0, 4), min_size=n_g, max_size=n_g))
        if sum(weights) == 0:
            weights[0] = 1
        thematic.append(Priority(f"T{i}", f"Priority {i}", False, (),
                                 {f"G{g}": w / sum(weights) for g, w in enumerate(weights) if w}))
    support = [Priority(f"S{i}", f"Support {i}", True) for i in range(n_s)]
    outputs = tuple(Output(f"O{i}", f"Output {i}") for i in range(n_o))
    funds = tuple(Fund(f"F{i}", f"Fund {i}", dict.fromkeys(years, 100.0), 0.9, Selection(),
                       support_cost_rate=draw(st.sampled_from([0.0, 0.07, 0.13])))
                  for i in range(n_f))
    services: dict[str, dict[str, float]] = {}
    for s in support:
        others = [t.code for t in support if t is not s]
        if others and draw(st.booleans()):
            shares = draw(st.lists(st.integers(0, 30), min_size=len(others), max_size=len(others)))
            services[s.code] = {t: v / 100 for t, v in zip(others, shares, strict=True) if v}
    fund_codes = (REGULAR, *(f.code for f in funds))
    amount = st.one_of(st.integers(0, 10**6).map(lambda k: k / 1000), st.integers(0, 5000).map(float))
    rows = []
    for _ in range(draw(st.integers(0, 40))):
        p = draw(st.sampled_from(thematic + support))
        rows.append({
            "entity": draw(st.sampled_from(entities)).code, "priority": p.code,
            "output": SUPPORT_OUTPUT if p.support else draw(st.sampled_from(outputs)).code,
            "year": draw(st.sampled_from(years)), "fund": draw(st.sampled_from(fund_codes)),
            "amount": draw(amount)})
    alloc = pd.DataFrame(rows, columns=["entity", "priority", "output", "year", "fund", "amount"])
    alloc = alloc.groupby(["entity", "priority", "output", "year", "fund"], as_index=False)["amount"].sum()
    balanced = draw(st.booleans())
    # revenue: a few lines that add up to the regular spending (balanced) or more, less the
    # programme support costs earned, which the ceiling adds
    by_fund_year = alloc.groupby(["fund", "year"])["amount"].sum()
    spent = {y: float(by_fund_year.get((REGULAR, y), 0.0)) for y in years}
    psc = {y: sum(f.support_cost_rate * float(by_fund_year.get((f.code, y), 0.0)) for f in funds)
           for y in years}
    slack = {y: 0.0 if balanced else draw(st.integers(0, 500)) + 0.25 for y in years}
    n_lines = draw(st.integers(1, 3))
    split = [draw(st.integers(1, 5)) for _ in range(n_lines)]
    revenue = tuple(RevenueLine(f"R{k}", f"Revenue {k}", "other",
                                {y: (spent[y] + slack[y] - psc[y]) * split[k] / sum(split) for y in years})
                    for k in range(n_lines))
    half = max(1, len(years) // 2)
    biennia = {f"B{i}": years[i: i + half] for i in range(0, len(years), half)}
    plan = dataclasses.replace(
        base, entities=entities, goals=goals, priorities=(*thematic, *support), outputs=outputs,
        years=years, biennia=biennia, revenue=revenue, adjustments=(), funds=funds,
        balance_budget=balanced,
        support_services=SupportServices(tuple(draw(st.permutations([s.code for s in support]))),
                                         services))
    return Solution(plan=plan, status="optimal", solver="test", allocation=alloc)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from(METHODS))
def test_any_plan_and_allocation(fractions: Solution, data: st.DataObject, support: str) -> None:
    solution = data.draw(plans_and_allocations(fractions.plan))
    assert_table_set(solution, appendix_a(solution, support), support)


def test_a_code_named_like_a_total_is_refused(fractions: Solution) -> None:
    plan = dataclasses.replace(fractions.plan, entities=(Entity("Total", "Everyone"),))
    alloc = fractions.allocation.assign(entity="Total")
    with pytest.raises(InputError, match="'Total'"):
        priority_entity(dataclasses.replace(fractions, plan=plan, allocation=alloc))


# -- views: years, biennia, the period; all funds and the regular budget -------------------------

@pytest.mark.parametrize("support", METHODS)
def test_every_view_agrees_with_every_other(baseline: Solution, support: str) -> None:
    """A biennium's and the period's figures are the sums of their years', all funds the sum of
    the regular budget and the extrabudgetary funds; shared totals are equal across tables; the
    same amount has the same share everywhere."""
    book = appendix_views(baseline, support)
    main, views = book.tables, book.views
    plan = baseline.plan
    years = [str(y) for y in plan.years]
    period = f"{years[0]}-{years[-1]}"
    by = {(t.id, t.funds, t.period): t for t in views}
    for t in views:
        assert_adds_up(t)
    for t in main[:5]:
        assert by[t.id, "all", period].rounded.equals(t.rounded)
    for (tid, funds, label), t in by.items():
        if tid == "a4-entity-year" or label not in (period, *plan.biennia):
            continue
        members = years if label == period else [str(y) for y in plan.biennia[label]]
        summed = sum(by[tid, funds, y].rounded.drop(columns=SHARE) for y in members)
        assert summed.equals(t.rounded.drop(columns=SHARE)), (tid, funds, label)
    rec = main[5]
    allocated = [f"allocated:{e.code}" for e in plan.entities]
    regular_a4 = by["a4-entity-year", "regular", period].rounded
    assert (regular_a4.loc[[e.code for e in plan.entities], years].to_numpy()
            == -rec.rounded.loc[allocated, years].to_numpy()).all()
    for label in (period, *plan.biennia, *years):
        a1, a1_rb = by["a1-priority-entity", "all", label], by["a1-priority-entity", "regular", label]
        a2, a3, a5 = (by[t, "all", label] for t in ("a2-goal-entity", "a3-priority-output",
                                                    "a5-priority-fund"))
        assert (a5.rounded.loc[a1.rows, REGULAR] == a1_rb.rounded.loc[a1.rows, TOTAL]).all()
        for t in (a3, a5):
            assert (t.rounded.loc[a1.rows, TOTAL] == a1.rounded.loc[a1.rows, TOTAL]).all()
            assert (t.rounded.loc[a1.rows, SHARE] == a1.rounded.loc[a1.rows, SHARE]).all()
        assert (a2.rounded.loc[TOTAL, a1.value_columns] == a1.rounded.loc[TOTAL, a1.value_columns]).all()
        if support == "rows":
            thematic = [p.code for p in plan.priorities if not p.support]
            goals = [g for g in a2.rows if g not in a1.rows]
            assert a2.rounded.loc[goals, TOTAL].sum() == a1.rounded.loc[thematic, TOTAL].sum()


def test_a_span_shows_once_when_the_plan_is_one_biennium(fractions: Solution) -> None:
    """A two-year plan of one biennium: the period and the biennium are the same span, shown once."""
    plan = fractions.plan
    one = dataclasses.replace(plan, years=plan.years[:2],
                              biennia={f"{plan.years[0]}-{plan.years[1]}": plan.years[:2]})
    alloc = fractions.allocation[fractions.allocation["year"].isin(plan.years[:2])]
    solution = dataclasses.replace(fractions, plan=one, allocation=alloc.reset_index(drop=True))
    views = appendix_views(solution).views
    keys = [(t.id, t.funds, t.period) for t in views]
    assert len(keys) == len(set(keys))
    assert len([k for k in keys if k[:2] == ("a1-priority-entity", "all")]) == 3   # period, 2 years
