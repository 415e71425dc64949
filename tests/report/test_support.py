"""Support cost distribution: textbook figures, and totals that never change."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alloc
from alloc.model.domain import Cell, Entity, MandateCell, Plan, Priority, SupportServices
from alloc.report.support import (
    Services,
    SupportDistributionError,
    describe,
    distribute,
    distribute_allocation,
    distribution_matrix,
    gross_costs,
    served_priorities,
    unserved_entities,
)

ROOT = Path(__file__).resolve().parents[2]

# Horngren, Datar and Rajan, Cost Accounting: A Managerial Emphasis (14th ed., ch. 15, Robinson
# Company): two support departments, plant maintenance (PM) and information systems (IS), serve
# each other and two operating departments, machining and assembly.
#   PM: budgeted cost 6,300,000; labour-hours used by IS 20%, machining 30%, assembly 50%
#   IS: budgeted cost 1,452,150; computer hours used by PM 10%, machining 80%, assembly 10%
#   machining 4,000,000 and assembly 2,000,000 of their own.
HORNGREN = Services(
    support=("PM", "IS"), priorities=("machining", "assembly"),
    among=np.array([[0.0, 0.2], [0.1, 0.0]]),
    to_priorities=np.array([[0.3, 0.5], [0.8, 0.1]]),
    fallback=np.array([0.5, 0.5]), order=("PM", "IS"))
SUPPORT_COSTS = np.array([6_300_000.0, 1_452_150.0])
OWN_COSTS = np.array([4_000_000.0, 2_000_000.0])


@pytest.mark.parametrize(("method", "machining", "assembly"), [
    ("direct", 7_653_300, 6_098_850),       # PM 3/8 and 5/8, IS 8/9 and 1/9
    ("step-down", 8_300_800, 5_451_350),    # PM first: 1,260,000 to IS, then IS 2,712,150
    ("reciprocal", 8_187_025, 5_565_125),   # PM = 6,576,750 and IS = 2,767,500 in full
])
def test_textbook_figures(method: str, machining: int, assembly: int) -> None:
    m = distribution_matrix(HORNGREN, method)  # type: ignore[arg-type]
    total = OWN_COSTS + m.T @ SUPPORT_COSTS
    assert total == pytest.approx([machining, assembly], abs=1e-6)
    assert total.sum() == pytest.approx(13_752_150, abs=1e-6)


def test_textbook_reciprocal_costs() -> None:
    full = np.linalg.solve(np.eye(2) - HORNGREN.among.T, SUPPORT_COSTS)
    assert full == pytest.approx([6_576_750, 2_767_500])


def test_step_down_order_matters() -> None:
    is_first = Services(HORNGREN.support, HORNGREN.priorities, HORNGREN.among,
                        HORNGREN.to_priorities, HORNGREN.fallback, order=("IS", "PM"))
    total = OWN_COSTS + distribution_matrix(is_first, "step-down").T @ SUPPORT_COSTS
    # IS first: 145,215 to PM, 1,161,720 and 145,215 to the operating departments; then PM's
    # 6,445,215 in 3/8 and 5/8
    assert total == pytest.approx([4_000_000 + 1_161_720 + 2_416_955.625,
                                   2_000_000 + 145_215 + 4_028_259.375])


def test_lines_that_only_serve_each_other_are_refused_by_the_reciprocal_method() -> None:
    closed = Services(("A", "B"), ("P",), np.array([[0.0, 1.0], [1.0, 0.0]]),
                      np.zeros((2, 1)), np.array([1.0]))
    with pytest.raises(SupportDistributionError):
        distribution_matrix(closed, "reciprocal")
    # direct and step-down still close every line: what cannot go on goes by the fallback
    for method in ("direct", "step-down"):
        assert distribution_matrix(closed, method).sum(1) == pytest.approx([1.0, 1.0])  # type: ignore[arg-type]


def test_shares_must_add_up() -> None:
    with pytest.raises(ValueError):
        Services(("A",), ("P", "Q"), np.zeros((1, 1)), np.array([[0.5, 0.4]]), np.array([0.5, 0.5]))


@st.composite
def services(draw: st.DrawFn) -> Services:
    k = draw(st.integers(1, 5))
    m = draw(st.integers(1, 5))
    raw = np.array(draw(st.lists(st.lists(st.floats(0, 1), min_size=k + m, max_size=k + m),
                                 min_size=k, max_size=k)))
    for s in range(k):
        raw[s, s] = 0.0
        raw[s, k:] += 1e-3 * draw(st.integers(0, 1))   # sometimes nothing goes to priorities
        if raw[s].sum() == 0:
            raw[s, k] = 1.0
    raw = raw / raw.sum(1, keepdims=True)
    fallback = np.full(m, 1 / m)
    order = tuple(draw(st.permutations([f"S{i}" for i in range(k)])))
    return Services(tuple(f"S{i}" for i in range(k)), tuple(f"P{j}" for j in range(m)),
                    raw[:, :k], raw[:, k:], fallback, order)


@settings(max_examples=200, deadline=None)
@given(services(), st.sampled_from(["direct", "step-down", "reciprocal"]), st.data())
def test_every_method_keeps_every_column_total(sv: Services, method: str, data: st.DataObject) -> None:
    try:
        m = distribution_matrix(sv, method)  # type: ignore[arg-type]
    except SupportDistributionError:
        assert method == "reciprocal"
        return
    assert (m >= -1e-12).all()
    assert m.sum(1) == pytest.approx(np.ones(len(sv.support)))
    k, p = len(sv.support), len(sv.priorities)
    cols = data.draw(st.integers(1, 4))
    amounts = np.array(data.draw(st.lists(st.lists(st.floats(0, 1e6), min_size=cols, max_size=cols),
                                          min_size=k + p, max_size=k + p)))
    spread = distribute(amounts, list(range(k, k + p)), list(range(k)), m)
    assert spread.sum(0) == pytest.approx(amounts.sum(0), rel=1e-9, abs=1e-6)


def test_methods_agree_when_every_line_serves_the_priorities_alike() -> None:
    # the plan's rule (what a line keeps goes to the priorities by their direct costs) makes the
    # three methods agree on the priorities; services only change what passes through each line
    w = np.array([0.2, 0.3, 0.5])
    among = np.array([[0.0, 0.3, 0.1], [0.2, 0.0, 0.0], [0.0, 0.5, 0.0]])
    sv = Services(("A", "B", "C"), ("P", "Q", "R"), among,
                  np.outer(1 - among.sum(1), w), w, ("A", "B", "C"))
    for method in ("direct", "step-down", "reciprocal"):
        assert distribution_matrix(sv, method) == pytest.approx(np.tile(w, (3, 1)))  # type: ignore[arg-type]


# -- support costs that respect mandates ------------------------------------------------------
# A small plan computed by hand: entity A serves P and Q and bears support lines S1 and S2;
# entity B serves Q and R and bears S1. S1 gives 25% to S2 and declares 20% for R; S2 gives 10%
# to S1 and declares 30% for P. A's weights are P 3/4, Q 1/4; B's are Q 1/4, R 3/4. For A, S1's
# share for R (not served) joins its rest; for B, S2's share for P does.

def _small_plan() -> SimpleNamespace:
    priorities = (Priority("P", "P"), Priority("Q", "Q"), Priority("R", "R"),
                  Priority("S1", "S1", True), Priority("S2", "S2", True))
    mandate = tuple(MandateCell(Cell(e, p, "support" if p.startswith("S") else "O"))
                    for e, p in [("A", "P"), ("A", "Q"), ("A", "S1"), ("A", "S2"),
                                 ("B", "Q"), ("B", "R"), ("B", "S1")])
    services = SupportServices(("S1", "S2"), {"S1": {"S2": 0.25, "R": 0.2},
                                              "S2": {"S1": 0.1, "P": 0.3}})
    return SimpleNamespace(priorities=priorities, entities=(Entity("A", "A"), Entity("B", "B")),
                           mandate=mandate, support_services=services, years=(2024,))


SMALL_ALLOCATION = pd.DataFrame(
    [("A", "P", "O", 2024, "regular", 300.0), ("A", "Q", "O", 2024, "regular", 100.0),
     ("A", "S1", "support", 2024, "regular", 80.0), ("A", "S2", "support", 2024, "regular", 40.0),
     ("B", "Q", "O", 2024, "regular", 100.0), ("B", "R", "O", 2024, "regular", 300.0),
     ("B", "S1", "support", 2024, "regular", 100.0)],
    columns=["entity", "priority", "output", "year", "fund", "amount"])


@pytest.mark.parametrize(("method", "expected"), [
    # direct: A's S1 (80) by 3/4 and 1/4; A's S2 (40) by 0.75 : 0.15, so 5/6 and 1/6; B's S1 (100)
    # by 0.1375 : 0.6125
    ("direct", {("A", "P"): 300 + 60 + 100 / 3, ("A", "Q"): 100 + 20 + 20 / 3,
                ("B", "Q"): 100 + 55 / 3, ("B", "R"): 300 + 245 / 3}),
    # step-down S1 then S2: A's S1 gives 20 to S2, 45 to P, 15 to Q; S2's 60 goes 50 to P, 10 to
    # Q. B's S1 gives 25 to S2, 13.75 to Q, 61.25 to R; S2's 25 goes 6.25 to Q, 18.75 to R
    ("step-down", {("A", "P"): 395, ("A", "Q"): 125, ("B", "Q"): 120, ("B", "R"): 380}),
    # reciprocal: A's S1 = 1120/13 and S2 = 800/13 in full; B's S1 = 4000/39 and S2 = 1000/39
    ("reciprocal", {("A", "P"): 300 + 1230 / 13, ("A", "Q"): 100 + 330 / 13,
                    ("B", "Q"): 100 + 775 / 39, ("B", "R"): 300 + 3125 / 39}),
])
def test_small_plan_by_hand(method: str, expected: dict[tuple[str, str], float]) -> None:
    out = distribute_allocation(_small_plan(), SMALL_ALLOCATION, method)  # type: ignore[arg-type]
    got = out.groupby(["entity", "priority"])["amount"].sum()
    assert {k: v for k, v in got.items() if abs(v) > 1e-12} == pytest.approx(expected, abs=1e-9)
    assert out["amount"].sum() == pytest.approx(SMALL_ALLOCATION["amount"].sum(), abs=1e-9)
    # every row keeps its entity, output, year and fund: the support output's column is unchanged
    support = out[out["output"] == "support"].groupby("entity")["amount"].sum()
    assert support.to_dict() == pytest.approx({"A": 120.0, "B": 100.0})


def test_small_plan_gross_costs_by_hand() -> None:
    # S1 = 180 + 0.1 S2, S2 = 40 + 0.25 S1: S1 = 7360/39, S2 = 3400/39
    gross = gross_costs(_small_plan(), SMALL_ALLOCATION)  # type: ignore[arg-type]
    assert gross["2024"].to_dict() == pytest.approx({"S1": 7360 / 39, "S2": 3400 / 39})


def test_small_plan_note_states_the_shares_used() -> None:
    plan = _small_plan()
    for method in ("direct", "step-down", "reciprocal"):
        note = describe(method, plan)  # type: ignore[arg-type]
        assert "mandate cells" in note and "S1 20% to R" in note and "S2 30% to P" in note
        assert "in proportion to the thematic priorities' direct costs over the plan" not in note
    assert "S1 25% to S2" in describe("step-down", plan)  # type: ignore[arg-type]
    assert "order S1, S2" in describe("step-down", plan)  # type: ignore[arg-type]
    assert "gross cost" in describe("reciprocal", plan)  # type: ignore[arg-type]


def test_an_entity_serving_no_priority_is_spread_over_the_plan_and_named() -> None:
    plan = _small_plan()
    plan.entities = (*plan.entities, Entity("C", "C"))
    plan.mandate = (*plan.mandate, MandateCell(Cell("C", "S2", "support")))
    allocation = pd.concat([SMALL_ALLOCATION, pd.DataFrame(
        [("C", "S2", "support", 2024, "regular", 50.0)], columns=SMALL_ALLOCATION.columns)])
    assert unserved_entities(plan, allocation) == ["C"]  # type: ignore[arg-type]
    assert "C serves no thematic priority" in describe("direct", plan, ["C"])  # type: ignore[arg-type]
    out = distribute_allocation(plan, allocation, "reciprocal")  # type: ignore[arg-type]
    assert out["amount"].sum() == pytest.approx(allocation["amount"].sum())


@pytest.fixture(scope="module")
def itu_baseline() -> Plan:
    return alloc.load("baseline", ROOT)


@pytest.mark.parametrize("method", ["direct", "step-down", "reciprocal"])
def test_itu_support_costs_reach_only_priorities_the_entity_serves(itu_baseline: Plan,
                                                                    method: str) -> None:
    result = alloc.solve(itu_baseline, support_costs=method)
    served = served_priorities(itu_baseline)
    lines = [p.code for p in itu_baseline.priorities if p.support]
    a1 = result.unrounded_tables["a1-priority-entity"]
    for entity, priorities in served.items():
        for p in a1.index:
            if p.startswith("TP") and p not in priorities:
                assert a1.at[p, entity] == 0.0, (method, entity, p)
    assert "TP1" not in served["BDT"] and "TP2" not in served["BR"]   # the two cases
    # distributed = support costs: every entity's total is unchanged, and the grand total
    alloc_ = result.allocation
    assert a1.loc["Total", "Total"] == pytest.approx(alloc_["amount"].sum(), rel=1e-12)
    by_entity = alloc_.groupby("entity")["amount"].sum()
    for entity in served:
        assert a1.at["Total", entity] == pytest.approx(by_entity[entity], rel=1e-12)
    support = float(alloc_.loc[alloc_["priority"].isin(lines), "amount"].sum())
    direct = alloc_[~alloc_["priority"].isin(lines)].groupby("priority")["amount"].sum()
    distributed = sum(a1.at[p, "Total"] - direct.get(p, 0.0) for p in direct.index)
    assert distributed == pytest.approx(support, rel=1e-12)
    tables = {t.id: t for t in result._tables}
    assert ("support-gross" in tables) == (method == "reciprocal")
    if method == "reciprocal":
        gross = tables["support-gross"]
        assert set(gross.rows) == set(lines)
        assert gross.values.at["Total", "Total"] > support   # services counted at both ends


_FINITE = st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), rows=st.integers(0, 12), cols=st.integers(1, 6),
       width=st.none() | st.integers(1, 5))
def test_the_reports_products_add_in_one_fixed_order(data: st.DataObject, rows: int, cols: int,
                                                     width: int | None) -> None:
    """a.T @ b summed row after row, exactly as a plain loop adds: the same bits on every
    processor (the BLAS adds in an order of its kernel's choosing), and a.T @ b to rounding."""
    from alloc.report.support import transposed_product

    a = np.array(data.draw(st.lists(st.lists(_FINITE, min_size=cols, max_size=cols),
                                    min_size=rows, max_size=rows)), dtype=float).reshape(rows, cols)
    shape = (rows,) if width is None else (rows, width)
    b = np.array(data.draw(st.lists(_FINITE, min_size=int(np.prod(shape)),
                                    max_size=int(np.prod(shape)))), dtype=float).reshape(shape)
    got = transposed_product(a, b)
    looped = np.zeros(got.shape)
    for i in range(rows):
        looped = looped + (a[i] * b[i] if width is None else a[i][:, None] * b[i][None, :])
    np.testing.assert_array_equal(got, looped)
    np.testing.assert_allclose(got, a.T @ b, rtol=1e-9, atol=1e-6 * max(1.0, np.abs(a).max(
        initial=0) * np.abs(b).max(initial=0) * rows))


def _gauss_jordan(system: list[list[float]], rhs: list[list[float]]) -> list[list[float]] | None:
    """The elimination as a plain loop over Python floats: one multiplication and one subtraction
    per entry and step, in one order."""
    a, b = [row[:] for row in system], [row[:] for row in rhs]
    n = len(a)
    scale = max((abs(x) for row in a for x in row), default=0.0)
    for j in range(n):
        p = max(range(j, n), key=lambda i: (abs(a[i][j]), -i))
        if not abs(a[p][j]) > 1e-12 * scale:
            return None
        a[j], a[p], b[j], b[p] = a[p], a[j], b[p], b[j]
        pivot = a[j][j]
        b[j] = [x / pivot for x in b[j]]
        a[j] = [x / pivot for x in a[j]]
        for i in range(n):
            if i != j:
                f = a[i][j]
                a[i] = [x - f * y for x, y in zip(a[i], a[j], strict=True)]
                b[i] = [x - f * y for x, y in zip(b[i], b[j], strict=True)]
    return b


@settings(max_examples=150, deadline=None)
@given(data=st.data(), k=st.integers(1, 7), width=st.none() | st.integers(1, 4))
def test_the_reciprocal_systems_are_solved_in_one_fixed_order(data: st.DataObject, k: int,
                                                              width: int | None) -> None:
    """The support lines' systems (I - among^T, among a matrix of shares whose rows add up to
    at most 1) solved element by element: exactly as a plain loop over floats does (the same
    bits on every processor; LAPACK picks its kernels by processor), and as LAPACK to rounding."""
    from alloc.report.support import solve_in_order

    shares = np.array(data.draw(st.lists(st.floats(0, 1), min_size=k * k, max_size=k * k)),
                      dtype=float).reshape(k, k)
    np.fill_diagonal(shares, 0.0)
    keep = np.array(data.draw(st.lists(st.floats(0, 1), min_size=k, max_size=k)))
    among = shares / np.maximum(shares.sum(1), 1e-300)[:, None] * (1 - keep)[:, None]
    system = np.eye(k) - among.T
    shape = (k,) if width is None else (k, width)
    rhs = np.array(data.draw(st.lists(st.floats(0, 1e6), min_size=int(np.prod(shape)),
                                      max_size=int(np.prod(shape)))), dtype=float).reshape(shape)
    got = solve_in_order(system, rhs)
    looped = _gauss_jordan(system.tolist(), rhs.reshape(k, -1).tolist())
    if looped is None:
        assert got is None
        return
    assert got is not None and got.shape == rhs.shape
    np.testing.assert_array_equal(got, np.array(looped).reshape(shape))
    if np.linalg.cond(system) < 1e8:
        np.testing.assert_allclose(got, np.linalg.solve(system, rhs), rtol=1e-6,
                                   atol=1e-6 * max(1.0, np.abs(rhs).max()))


def test_a_closed_loop_of_support_lines_is_singular_and_none_is_empty() -> None:
    from alloc.report.support import solve_in_order

    assert solve_in_order(np.array([[1.0, -1.0], [-1.0, 1.0]]), np.eye(2)) is None
    np.testing.assert_array_equal(solve_in_order(np.zeros((0, 0)), np.zeros((0, 3))),
                                  np.zeros((0, 3)))
    np.testing.assert_array_equal(solve_in_order(np.array([[0.0, 2.0], [1.0, 0.0]]),
                                                 np.array([4.0, 3.0])), [3.0, 2.0])
