"""alloc.model.validate.objective: the budget's balance and ceiling period, the level tolerance."""

from __future__ import annotations

from alloc.model.validate.objective import Budget, read_budget, read_objective


def test_defaults(document, messages) -> None:
    doc = document({"rules": {}})
    assert read_budget(doc) == Budget(True, "year")
    assert read_objective(doc, ()).level_tolerance == 1e-6
    assert messages(doc) == []


def test_given(document, messages) -> None:
    doc = document({"rules": {"budget": {"balance": False, "ceiling_period": "biennium"},
                              "objective": {"level_tolerance": 0.01}}})
    assert read_budget(doc) == Budget(False, "biennium")
    assert read_objective(doc, ()).level_tolerance == 0.01
    assert messages(doc) == []


def test_refused(document, messages) -> None:
    doc = document({"rules": {"budget": {"ceiling_period": "month"},
                              "objective": {"level_tolerance": 0.5}}})
    assert read_budget(doc).ceiling_period == "year"
    read_objective(doc, ())
    assert messages(doc) == [
        "models/m/rules.toml: budget.ceiling_period: expected one of year, biennium, got 'month'",
        "models/m/rules.toml: objective.level_tolerance: expected a tolerance, got 0.5: must be at "
        "most 0.1"]
