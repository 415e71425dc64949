"""Support cost distribution: textbook figures, and totals that never change."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alloc.report.support import (
    Services,
    SupportDistributionError,
    distribute,
    distribution_matrix,
)

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
