"""alloc.model.validate.stability: the stability rule and the previous allocation."""

from __future__ import annotations

from alloc.model.domain import Cell, MandateCell, Stability
from alloc.model.validate.fields import Codes
from alloc.model.validate.stability import read_stability

CODES = Codes(entities=("A", "B"), thematic=("P1", "P2"), priorities=("P1", "P2"),
              outputs=("O", "support"))
MANDATE = (MandateCell(Cell("A", "P1", "O")), MandateCell(Cell("B", "P2", "O")))


def test_stability_with_the_previous_allocation(document, messages) -> None:
    doc = document({"rules": {"stability": {"max_change": 0.25}},
                    "previous_allocation": {"B/P2": {"amount": 2}, "A/P1": {"amount": 1}}})
    assert read_stability(doc, CODES, MANDATE)[0] == Stability(0.25, {("A", "P1"): 1.0,
                                                                  ("B", "P2"): 2.0})
    assert messages(doc) == []


def test_no_rule_no_stability_but_the_rows_are_checked(document, messages) -> None:
    doc = document({"previous_allocation": {"A/P2": {"amount": 1}, "C/P1": {"amount": 1},
                                            "A": {"amount": 1}}})
    assert read_stability(doc, CODES, MANDATE) == (None, {})   # every row is wrong: none kept
    assert messages(doc) == [
        "models/m/previous-allocation.csv: line 2: A has no cell for P2 in the mandate; remove the "
        "row or add the cell",
        "models/m/previous-allocation.csv: line 3, column entity: 'C' is not an entity of the "
        "model. Known: A, B.",
        "models/m/previous-allocation.csv: line 4: 'A' should be ENTITY/PRIORITY"]


def test_stability_needs_the_previous_allocation(document, messages) -> None:
    doc = document({"rules": {"stability": {"max_change": 0.25}}})
    assert read_stability(doc, CODES, MANDATE) == (Stability(0.25, {}), {})
    assert messages(doc) == [
        "models/m/rules.toml: stability: stability needs the previous allocation: add "
        "previous-allocation.csv to the model or remove [stability]"]
