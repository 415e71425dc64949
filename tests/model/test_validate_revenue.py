"""alloc.model.validate.revenue: revenue lines, growth rules and cuts, the ceiling per year."""

from __future__ import annotations

import pytest

from alloc.model.domain import CeilingAdjustment, RevenueLine
from alloc.model.validate.revenue import Growth, ceilings, read_growth, read_revenue

YEARS = (2024, 2025)
ENTITIES = ("A", "B")


def revenue(document, lines: dict, unit: str = "CHF thousands"):
    doc = document({"financial_plan": {"plan": {"years": list(YEARS)}, "revenue": lines}}, unit)
    return read_revenue(doc, YEARS), doc


def test_lines_by_group_then_order_then_code(document, messages) -> None:
    lines, doc = revenue(document, {
        "other": {"name": "O", "amount": 1},
        "units": {"name": "U", "group": "assessed", "units": {"2024": 10, "2025": 20},
                  "unit_value_chf": 300, "order": 2},
        "a10": {"name": "A10", "group": "assessed", "amount": 5},
        "a2": {"name": "A2", "group": "assessed", "amount": 5}})
    assert [line.code for line in lines] == ["a2", "a10", "units", "other"]
    assert lines[2] == RevenueLine("units", "U", "assessed", {2024: 3.0, 2025: 6.0},
                                   {2024: 10.0, 2025: 20.0}, 300.0)
    assert messages(doc) == []


@pytest.mark.parametrize(("line", "unit", "message"), [
    ({"name": "X", "units": 5, "unit_value_chf": 1e3}, "USD thousands",
     "revenue.x.unit_value_chf: the model is in USD thousands: give unit_value, the value of one "
     "unit in USD, not unit_value_chf"),
    ({"name": "X", "units": 5, "unit_value_chf": 1e3, "unit_value": 1e3}, "CHF thousands",
     "revenue.x.unit_value: give unit_value_chf or unit_value, not both"),
    ({"name": "X", "units": 5}, "CHF thousands",
     "revenue.x: a line in units needs both units and unit_value_chf"),
    ({"name": "X", "units": 5, "unit_value_chf": 1e3, "amount": 5}, "CHF thousands",
     "revenue.x.amount: give either amount, or units and unit_value_chf"),
    ({"name": "X"}, "CHF thousands",
     "revenue.x: missing amount (CHF thousands per year) or units and unit_value_chf"),
    ({"name": "X", "units": 1e6, "unit_value_chf": 1e9}, "CHF thousands",
     "revenue.x: units x unit_value_chf / 1000 comes to 1,000,000,000,000 CHF thousands in 2024, "
     "more than the limit of 1,000,000,000; check units (1e+06) and unit_value_chf (1e+09, the "
     "value of one unit in CHF, not thousands)"),
])
def test_lines_refused(document, messages, line: dict, unit: str, message: str) -> None:
    _, doc = revenue(document, {"x": line}, unit)
    assert f"models/m/financial-plan.toml: {message}" in messages(doc)


def test_receives_support_costs_is_refused_and_the_sum_is_bounded(document, messages) -> None:
    _, doc = revenue(document, {"a": {"name": "A", "amount": 6e8, "receives_support_costs": True},
                                "b": {"name": "B", "amount": 6e8}})
    assert messages(doc) == [
        "models/m/financial-plan.toml: revenue.a.receives_support_costs: receives_support_costs is "
        "no longer read: the programme support costs earned on the extrabudgetary funds are their "
        "own lines of the ceiling (funds' support_cost_rate); remove the key",
        "models/m/financial-plan.toml: revenue: the sum of the revenue lines comes to 1,200,000,000 "
        "CHF thousands in 2024, more than the limit of 1,000,000,000; check that every amount is "
        "in CHF thousands"]


LINES = (RevenueLine("a", "A", "assessed", {2024: 100.0, 2025: 100.0}),)


def growth(document, body: dict):
    doc = document({"financial_plan": {"growth": body}})
    return read_growth(doc, YEARS, LINES, ENTITIES), doc


def test_no_growth_table_changes_nothing(document) -> None:
    assert growth(document, {})[0] == Growth()


def test_zero_nominal_growth(document, messages) -> None:
    got, doc = growth(document, {"rule": "zero_nominal", "reference": 90})
    assert got == Growth((CeilingAdjustment("zero_nominal", "Zero nominal growth: revenue held at 90 a year",
                                            {2024: -10.0, 2025: -10.0}),))
    assert messages(doc) == []


def test_zero_real_growth_then_a_cut(document) -> None:
    got, _ = growth(document, {"rule": "zero_real", "reference": 100, "cut": 0.1,
                               "inflation": {"2024": 0.0, "2025": 0.5}})
    real, cut = got.adjustments
    assert real.amounts == {2024: 0.0, 2025: 50.0}
    assert cut == CeilingAdjustment("cut", "Cut of 10.0% of revenue", {2024: -10.0, 2025: -15.0})


def test_a_cut_of_named_envelopes(document, messages) -> None:
    got, doc = growth(document, {"cut": 0.05, "cut_envelopes": ["B", "A"]})
    assert got == Growth((), {"A": 0.05, "B": 0.05})
    assert messages(doc) == []


@pytest.mark.parametrize(("body", "message"), [
    ({"rule": "zero_real"}, "growth.inflation: zero real growth needs an inflation rate per year"),
    ({"inflation": 0.02}, "growth.inflation: an inflation rate is only used with rule = \"zero_real\""),
    ({"cut_envelopes": "A"}, "growth.cut_envelopes: give the cut (a share) to apply to these envelopes"),
    ({"cut": 0.1, "cut_envelopes": "C"},
     "growth.cut_envelopes: 'C' is not an entity of the model. Known: A, B."),
    ({"rule": "zero_real", "reference": 9e8, "inflation": 0.5},
     "growth.reference: the reference escalated by inflation comes to 1,350,000,000 CHF thousands "
     "in 2024, more than the limit of 1,000,000,000; check reference and inflation (a rate, 0.02 "
     "for 2%)"),
])
def test_growth_refused(document, messages, body: dict, message: str) -> None:
    _, doc = growth(document, body)
    assert f"models/m/financial-plan.toml: {message}" in messages(doc)


def test_the_ceiling_is_revenue_plus_adjustments() -> None:
    cut = CeilingAdjustment("cut", "Cut", {2024: -10.0})
    assert ceilings(YEARS, LINES, (cut,)) == {2024: 90.0, 2025: 100.0}
