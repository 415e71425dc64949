"""alloc.model.validate.bounds: floors and caps on a selection of cells."""

from __future__ import annotations

from alloc.model.domain import REGULAR, Bound, Selection
from alloc.model.validate.bounds import read_bounds
from alloc.model.validate.fields import Codes

CODES = Codes(entities=("A",), thematic=("P1",), priorities=("P1",), outputs=("O", "support"))
FUNDS = (REGULAR, "F")


def test_bounds_in_code_order(document, messages) -> None:
    doc = document({"rules": {"bounds": {
        "b2": {"priority": "P1", "max_share": 0.4, "period": "plan", "funds": "regular"},
        "b1": {"name": "One", "min": 5}}}})
    assert read_bounds(doc, CODES, FUNDS) == (
        Bound("b1", "One", Selection(), "year", FUNDS, min=5.0),
        Bound("b2", "b2", Selection(priorities=frozenset({"P1"})), "plan", (REGULAR,), max_share=0.4))
    assert messages(doc) == []


def test_bounds_refused(document, messages) -> None:
    doc = document({"rules": {"bounds": {"none": {"name": "N"},
                                         "inverted": {"min": 5, "max": 3},
                                         "shares": {"min_share": 0.5, "max_share": 0.3},
                                         "month": {"min": 1, "period": "month"}}}})
    read_bounds(doc, CODES, FUNDS)
    assert messages(doc) == [
        "models/m/rules.toml: bounds.none: a bound needs min, max, min_share or max_share",
        "models/m/rules.toml: bounds.inverted: min 5 is above max 3",
        "models/m/rules.toml: bounds.shares: min_share 0.5 is above max_share 0.3",
        "models/m/rules.toml: bounds.month.period: expected one of year, biennium, plan, got 'month'"]
