"""Rounding that adds up: proven on any table hypothesis can think of, not hoped."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from alloc.report.rounding import SNAP, RoundingError, controlled_round, largest_remainder, round_half_up

amounts = st.one_of(
    st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
    st.integers(0, 1000).map(float),                      # whole values must stay as they are
    st.integers(0, 1000).map(lambda k: k + 0.5),          # exact halves: ties everywhere
    st.integers(0, 10**6).map(lambda k: k / 1e6),         # amounts of a thousandth of a franc
)


def tables(elements=amounts, max_side: int = 7):
    shapes = st.tuples(st.integers(1, max_side), st.integers(1, max_side))
    return shapes.flatmap(lambda s: arrays(np.float64, s, elements=elements))


def assert_controlled(a: np.ndarray, r: np.ndarray, total: int | None = None) -> None:
    assert r.shape == a.shape
    assert np.issubdtype(r.dtype, np.integer)
    assert (np.abs(r - a) < 1).all(), "a cell moved by 1 or more"
    assert (np.abs(r.sum(1) - a.sum(1)) < 1).all(), "a row total moved by 1 or more"
    assert (np.abs(r.sum(0) - a.sum(0)) < 1).all(), "a column total moved by 1 or more"
    assert r.sum() == (round_half_up(float(a.sum())) if total is None else total)
    whole = np.isclose(a, np.round(a), rtol=0, atol=1e-7)
    assert (r[whole] == np.round(a[whole])).all(), "a whole value was changed"


@settings(max_examples=300, deadline=None)
@given(tables())
def test_any_nonnegative_table_rounds_to_one_that_adds_up(a: np.ndarray) -> None:
    assert_controlled(a, controlled_round(a))


@settings(max_examples=200, deadline=None)
@given(tables(st.floats(-1e5, 1e5, allow_nan=False, allow_infinity=False)))
def test_signed_tables_round_too(a: np.ndarray) -> None:
    # the reconciliation holds revenue (positive) and allocations (negative)
    assert_controlled(a, controlled_round(a))


@settings(max_examples=200, deadline=None)
@given(tables(), st.booleans())
def test_grand_total_may_be_the_other_neighbour(a: np.ndarray, up: bool) -> None:
    total = int(np.floor(a.sum())) + (1 if up else 0)
    if abs(total - a.sum()) >= 1 - SNAP * a.size:   # values within SNAP of a whole number are it
        return
    assert_controlled(a, controlled_round(a, total=total), total)


@settings(max_examples=200, deadline=None)
@given(tables(), st.data())
def test_row_groups_subtotals_stay_within_one(a: np.ndarray, data: st.DataObject) -> None:
    n = a.shape[0]
    cut = data.draw(st.integers(0, n))
    groups = [list(range(cut)), list(range(cut, n))]
    r = controlled_round(a, row_groups=[g for g in groups if g])
    assert_controlled(a, r)
    for g in groups:
        if g:
            assert (np.abs(r[g].sum(0) - a[g].sum(0)) < 1).all()


@settings(max_examples=200, deadline=None)
@given(tables())
def test_prescribed_totals_are_met_or_refused(a: np.ndarray) -> None:
    # totals taken from another rounding of the same table always work
    free = controlled_round(a)
    r = controlled_round(a, row_totals=free.sum(1), col_totals=free.sum(0))
    assert_controlled(a, r)
    assert (r.sum(1) == free.sum(1)).all() and (r.sum(0) == free.sum(0)).all()


def test_prescribed_totals_that_cannot_be_met_are_refused() -> None:
    a = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 0.5]])
    with pytest.raises(RoundingError):
        # row 1 adds up to exactly 1, so its two halves cannot both round up
        controlled_round(a, col_totals=[1, 1, 0])


def test_independent_rounding_would_not_add_up_but_controlled_does() -> None:
    a = np.array([[0.4, 0.4, 0.4], [0.4, 0.4, 0.4]])   # each rounds to 0, the total 2.4 to 2
    r = controlled_round(a)
    assert r.sum() == 2 and (r.sum(0) <= 1).all() and (r.sum(1) == 1).all()


def test_nearest_rounding_is_kept_when_it_already_adds_up() -> None:
    a = np.array([[1.2, 3.7], [2.1, 0.4]])
    assert controlled_round(a).tolist() == [[1, 4], [2, 0]]


def test_solver_noise_is_not_rounded_up() -> None:
    a = np.array([[699.9999999, 0.2], [100.0000001, 0.2]])
    r = controlled_round(a)
    assert r[0, 0] == 700 and r[1, 0] == 100


def test_nan_is_refused() -> None:
    with pytest.raises(ValueError):
        controlled_round(np.array([[1.0, np.nan]]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=20))
def test_percentages_add_up_to_100(values: list[float]) -> None:
    total = sum(values)
    if total <= 0:
        return
    tenths = largest_remainder([1000 * v / total for v in values], 1000)
    assert sum(tenths) == 1000
    assert all(abs(t - 1000 * v / total) < 1 for t, v in zip(tenths, values, strict=True))


def test_largest_remainder_gives_units_to_the_largest_remainders() -> None:
    assert largest_remainder([1.5, 2.7, 0.8], 5) == [1, 3, 1]
    assert largest_remainder([1 / 3] * 3, 1) == [1, 0, 0]   # ties to the first
    with pytest.raises(RoundingError):
        largest_remainder([1.0, 2.0], 4)


def test_round_half_up_is_not_bankers_rounding() -> None:
    assert [round_half_up(x) for x in (0.5, 1.5, 2.5, -0.5, 2.4999999999)] == [1, 2, 3, -1, 2]


@settings(max_examples=200, deadline=None)
@given(tables(), st.data())
def test_column_groups_totals_stay_within_one(a: np.ndarray, data: st.DataObject) -> None:
    n = a.shape[1]
    cut = data.draw(st.integers(0, n))
    groups = [g for g in (list(range(cut)), list(range(cut, n))) if g]
    r = controlled_round(a, col_groups=groups)
    assert_controlled(a, r)
    for g in groups:
        assert abs(r[:, g].sum() - a[:, g].sum()) < 1


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_balanced_budget_rounds_to_a_zero_balance(data: st.DataObject) -> None:
    """Revenue lines (positive) and allocations (negative) adding up to zero per year: the
    rounded balance is zero in every year, every biennium and in total, always."""
    years = data.draw(st.integers(1, 4))
    n_alloc = data.draw(st.integers(1, 5))
    n_rev = data.draw(st.integers(1, 4))
    thousandths = st.integers(0, 10**8)
    spent = np.array([[data.draw(thousandths) for _ in range(years)] for _ in range(n_alloc)]) / 1000
    weights = np.array([[data.draw(st.integers(1, 9)) for _ in range(years)] for _ in range(n_rev)])
    revenue = spent.sum(0) * weights / weights.sum(0)        # float splits: not exact to the bit
    a = np.vstack([revenue, -spent])
    half = max(1, years // 2)
    biennia = [list(range(i, min(i + half, years))) for i in range(0, years, half)]
    r = controlled_round(a, total=0, col_totals=[0] * years,
                         row_groups=[list(range(n_rev)), list(range(n_rev, n_rev + n_alloc))],
                         col_groups=biennia, col_group_totals=[0] * len(biennia))
    assert (r.sum(0) == 0).all() and r.sum() == 0
    assert (np.abs(r - a) < 1).all()
    assert abs(r[:n_rev].sum() - a[:n_rev].sum()) < 1       # the ceiling within 1


def test_row_group_totals_can_be_prescribed() -> None:
    a = np.array([[0.6, 0.6], [0.7, 0.2]])
    r = controlled_round(a, row_groups=[[0], [1]], row_group_totals=[1, None])
    assert r[0].sum() == 1 and r.sum() == 2
