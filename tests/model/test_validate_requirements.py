"""alloc.model.validate.requirements and the valuation of [objective]: the rows of
requirements.csv ('*' and the years that override it), their value, and the falling-value rule."""

from __future__ import annotations

from typing import Any

from alloc.model.domain import Cell, MandateCell, Priority, Tranche, Valuation
from alloc.model.validate.fields import Codes
from alloc.model.validate.objective import read_objective
from alloc.model.validate.requirements import read_requirements

CODES = Codes(entities=("A", "B"), thematic=("P1", "P2"), priorities=("P1", "P2", "S1"),
              outputs=("O", "support"))
YEARS = (2024, 2025)
MANDATE = (MandateCell(Cell("A", "P1", "O")), MandateCell(Cell("B", "P2", "O")))
VALUATION = Valuation((Tranche("core", "Core", 1.0), Tranche("current", "Current", 0.5)),
                      {"P1": 1.0, "P2": 0.8})


def row(amount: float, value: float | None = None) -> dict[str, Any]:
    return {"amount": amount} if value is None else {"amount": amount, "value": value}


def test_every_year_then_the_year_that_overrides(document, messages) -> None:
    doc = document({"requirements": {"A/P1/O/core/*": row(40), "A/P1/O/core/2025": row(45),
                                     "B/P2/O/current/*": row(20, 0.3)}})
    out = read_requirements(doc, CODES, YEARS, MANDATE, VALUATION)
    assert messages(doc) == []
    assert [(r.cell.entity, r.year, r.tranche, r.amount, r.value) for r in out] == [
        ("A", 2024, "core", 40, 1.0), ("A", 2025, "core", 45, 1.0),   # mandate order, then year
        ("B", 2024, "current", 20, 0.3), ("B", 2025, "current", 20, 0.3)]   # value column wins


def test_a_scenario_star_does_not_replace_the_model_s_year_row(document, messages) -> None:
    """docs/model-format.md: to change a year the model states on its own row, override that year."""
    doc = document({"requirements": {"A/P1/O/core/*": row(40), "A/P1/O/core/2025": row(45)}},
                   scenario={"requirements": {"A/P1/O/core/*": row(10)}})
    out = read_requirements(doc, CODES, YEARS, MANDATE, VALUATION)
    assert messages(doc) == []
    assert [(r.year, r.amount) for r in out] == [(2024, 10), (2025, 45)]


def test_an_amount_of_zero_is_no_requirement(document, messages) -> None:
    doc = document({"requirements": {"A/P1/O/core/*": row(40)}},
                   scenario={"requirements": {"A/P1/O/core/2024": row(0)}})
    out = read_requirements(doc, CODES, YEARS, MANDATE, VALUATION)
    assert [(r.year, r.amount) for r in out] == [(2025, 40)]


def test_a_year_as_a_spreadsheet_writes_it_but_not_a_fraction(document, messages) -> None:
    doc = document({"requirements": {"A/P1/O/core/2024.0": row(40), "A/P1/O/core/2025.5": row(9)}})
    out = read_requirements(doc, CODES, YEARS, MANDATE, VALUATION)
    assert [(r.year, r.amount) for r in out] == [(2024, 40)]
    assert messages(doc) == [
        "models/m/requirements.csv: line 3, column year: expected a year of the plan (2024-2025) "
        "or '*' for every year, got '2025.5'"]


def test_a_rising_value_is_said_once_per_row_with_its_years(document, messages) -> None:
    doc = document({"requirements": {"A/P1/O/core/*": row(40, 1.0),
                                     "A/P1/O/current/*": row(30, 2.0)}})
    read_requirements(doc, CODES, YEARS, MANDATE, VALUATION)
    assert messages(doc) == [
        "models/m/requirements.csv: line 3: tranche current of A/P1/O is worth 2 a unit in 2024 "
        "and 2025, more than the earlier tranche core (1); tranches must fall in value, or the "
        "later one would be funded first: lower its value or raise the earlier one's"]


def test_equal_values_are_allowed(document, messages) -> None:
    doc = document({"requirements": {"A/P1/O/core/*": row(40, 0.5),
                                     "A/P1/O/current/*": row(30, 0.5)}})
    assert len(read_requirements(doc, CODES, YEARS, MANDATE, VALUATION)) == 4
    assert messages(doc) == []


def test_goal_weights_carry_to_priorities_and_own_weights_win(document, messages) -> None:
    priorities = (Priority("P1", "One", goal_shares={"G1": 1.0}),
                  Priority("P2", "Two", goal_shares={"G1": 0.5, "G2": 0.5}),
                  Priority("S1", "Support", support=True))
    doc = document({"rules": {"objective": {"goal_weights": {"G1": 1.0, "G2": 0.6},
                                            "weights": {"S1": 0.7}}}})
    valuation = read_objective(doc, priorities).valuation
    assert messages(doc) == []
    assert valuation.weights == {"P1": 1.0, "P2": 0.8, "S1": 0.7}
    assert valuation.weight_sources == {"P1": "goal weights", "P2": "goal weights", "S1": "weights"}
