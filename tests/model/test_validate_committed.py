"""alloc.model.validate.committed: committed costs on a selection of cells."""

from __future__ import annotations

from alloc.model.domain import REGULAR, Commitment, Selection
from alloc.model.validate.committed import read_commitments
from alloc.model.validate.fields import Codes

YEARS = (2024, 2025)
CODES = Codes(entities=("A", "B"), thematic=("P1",), priorities=("P1", "S1"), outputs=("O", "support"))
FUNDS = (REGULAR, "F")


def test_commitments_in_code_order(document, messages) -> None:
    doc = document({"rules": {"committed": {
        "c10": {"entity": "A", "amount": {"2025": 3}, "kind": "cap", "funds": "extrabudgetary"},
        "c2": {"name": "Two", "priority": ["S1"], "amount": 5, "kind": "exact"}}}})
    assert read_commitments(doc, CODES, YEARS, FUNDS) == (
        Commitment("c2", "Two", Selection(priorities=frozenset({"S1"})), {2024: 5.0, 2025: 5.0},
                   "exact", FUNDS),
        Commitment("c10", "c10", Selection(entities=frozenset({"A"})), {2025: 3.0}, "cap", ("F",)))
    assert messages(doc) == []


def test_commitments_refused(document, messages) -> None:
    doc = document({"rules": {"committed": {"c": {"kind": "most", "output": "X"}}}})
    read_commitments(doc, CODES, YEARS, FUNDS)
    assert messages(doc) == [
        "models/m/rules.toml: committed.c.output: 'X' is not an output of the model. Known: O, "
        "support.",
        "models/m/rules.toml: committed.c.amount: missing; expected an amount in CHF thousands, one "
        "number or a table by year",
        "models/m/rules.toml: committed.c.kind: expected one of minimum, exact, cap, got 'most'"]
