"""alloc.model.validate.targets: goal-programming targets."""

from __future__ import annotations

from alloc.model.domain import REGULAR, AllocationTarget, Selection
from alloc.model.validate.fields import Codes
from alloc.model.validate.targets import read_targets

CODES = Codes(entities=("A",), thematic=("P1",), priorities=("P1",), outputs=("O", "support"))
FUNDS = (REGULAR,)


def test_targets_by_level_then_code(document, messages) -> None:
    doc = document({"rules": {"targets": {
        "a": {"output": "O", "share": 0.5, "level": 2, "excess_weight": 0},
        "t10": {"amount": 10}, "t2": {"priority": "P1", "amount": 2, "period": "year"}}}})
    assert read_targets(doc, CODES, FUNDS) == (
        AllocationTarget("t2", "t2", Selection(priorities=frozenset({"P1"})), "year", FUNDS, 1, 1.0,
                         1.0, amount=2.0),
        AllocationTarget("t10", "t10", Selection(), "plan", FUNDS, 1, 1.0, 1.0, amount=10.0),
        AllocationTarget("a", "a", Selection(outputs=frozenset({"O"})), "plan", FUNDS, 2, 1.0, 0.0,
                         share=0.5))
    assert messages(doc) == []


def test_targets_refused(document, messages) -> None:
    doc = document({"rules": {"targets": {"both": {"amount": 1, "share": 0.1},
                                          "neither": {"level": 1.5}}}})
    read_targets(doc, CODES, FUNDS)
    assert messages(doc) == [
        "models/m/rules.toml: targets.both.share: a target needs either amount or share, not both",
        "models/m/rules.toml: targets.neither.level: expected a whole number",
        "models/m/rules.toml: targets.neither: a target needs either amount or share, not both"]
