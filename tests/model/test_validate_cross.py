"""alloc.model.validate.cross: rules that select no cell, priorities nobody delivers, rules per
biennium in a plan without biennia; and the index that answers "does a rule select a cell"."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from alloc.model.domain import REGULAR, AllocationTarget, Bound, Cell, Commitment, MandateCell, Selection
from alloc.model.validate.cross import (
    CellIndex,
    check_biennia_needed,
    check_delivered,
    check_selections,
    periods_of,
)
from alloc.model.validate.fields import Codes

ENTITIES, PRIORITIES, OUTPUTS = ("A", "B", "C"), ("P1", "P2", "S1"), ("O1", "O2", "support")
CODES = Codes(entities=ENTITIES, thematic=("P1", "P2"), priorities=PRIORITIES, outputs=OUTPUTS)
ALL = [Cell(*c) for c in itertools.product(ENTITIES, PRIORITIES, OUTPUTS)]


def axis(codes: tuple[str, ...]) -> st.SearchStrategy[frozenset[str] | None]:
    return st.none() | st.frozensets(st.sampled_from(codes), min_size=1)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ALL), unique=True), axis(ENTITIES), axis(PRIORITIES), axis(OUTPUTS))
def test_the_index_agrees_with_looking_at_every_cell(cells: list[Cell], e, p, o) -> None:
    selection = Selection(e, p, o)
    assert CellIndex(cells).any_admitted(selection) == any(selection.admits(c) for c in cells)


def test_a_rule_naming_one_code_per_axis_is_looked_up_not_searched(monkeypatch) -> None:
    index = CellIndex(ALL[:-1])
    monkeypatch.setattr(Selection, "admits", lambda *_: (_ for _ in ()).throw(AssertionError))
    assert index.any_admitted(Selection(frozenset({"A"}), frozenset({"P1"}), frozenset({"O1"})))
    assert not index.any_admitted(Selection(frozenset({"C"}), frozenset({"S1"}),
                                            frozenset({"support"})))
    assert index.any_admitted(Selection(priorities=frozenset({"S1"})))
    assert not CellIndex([]).any_admitted(Selection())


def bound(code: str, **axes: frozenset[str]) -> Bound:
    return Bound(code, code, Selection(**axes), "year", (REGULAR,), min=1.0)


def test_rules_that_select_no_cell(document, messages) -> None:
    doc = document({"rules": {"bounds": {"none": {}, "fine": {}, "unknown": {}},
                              "committed": {"c": {}}, "targets": {"t": {}}}})
    cells = CellIndex([Cell("A", "P1", "O1"), Cell("B", "S1", "support")])
    check_selections(doc, cells, CODES, [
        ("committed", [Commitment("c", "c", Selection(frozenset({"B"}), frozenset({"P1"})), {}, "cap",
                                  (REGULAR,))]),
        ("targets", [AllocationTarget("t", "t", Selection(outputs=frozenset({"O1"})), "plan",
                                      (REGULAR,), 1, 1.0, 1.0, amount=1.0)]),
        ("bounds", [bound("none", entities=frozenset({"C"})), bound("fine"),
                    bound("unknown", entities=frozenset({"X"}))]),   # reported when it was read
    ])
    assert messages(doc) == [
        "models/m/rules.toml: committed.c: selects no cell of the mandate (entities B; priorities "
        "P1); add the cell to mandate.csv or correct the selection",
        "models/m/rules.toml: bounds.none: selects no cell of the mandate (entities C); add the cell "
        "to mandate.csv or correct the selection"]


def test_an_empty_mandate_is_reported_once_elsewhere(document, messages) -> None:
    doc = document({"rules": {}})
    check_selections(doc, CellIndex([]), CODES, [("bounds", [bound("b")])])
    check_delivered(doc, (), PRIORITIES)
    assert messages(doc) == []


def test_every_priority_is_delivered(document, messages) -> None:
    doc = document({"mandate": {"A/P1/O1": {}}})
    check_delivered(doc, (MandateCell(Cell("A", "P1", "O1")),), PRIORITIES)
    assert messages(doc) == [
        "models/m/mandate.csv: no entity delivers 'P2': add at least one cell for it",
        "models/m/mandate.csv: no entity delivers 'S1': add at least one cell for it"]


def test_rules_per_biennium_need_biennia(document, messages) -> None:
    doc = document({"rules": {"budget": {"ceiling_period": "biennium"},
                              "bounds": {"b": {"period": "biennium"}, "y": {"period": "year"}}}})
    bounds = [Bound("b", "b", Selection(), "biennium", (REGULAR,)),
              Bound("y", "y", Selection(), "year", (REGULAR,))]
    periods = periods_of("biennium", bounds, [])
    assert [p for _, p in periods] == ["biennium", "biennium", "year"]
    check_biennia_needed(doc, (2024, 2025, 2026), {"x": (2024, 2025)}, periods)
    assert messages(doc) == []
    check_biennia_needed(doc, (2024, 2025, 2026), {}, periods)
    assert messages(doc) == [
        "models/m/rules.toml: budget.ceiling_period: is per biennium, but the plan (2024-2026, 3 "
        "years) has no biennia: biennia are two adjacent years that together cover the plan, so it "
        "needs an even number of years (add 2027 or drop 2026); or use period 'year' or 'plan'",
        "models/m/rules.toml: bounds.b.period: is per biennium, but the plan (2024-2026, 3 years) "
        "has no biennia: biennia are two adjacent years that together cover the plan, so it needs "
        "an even number of years (add 2027 or drop 2026); or use period 'year' or 'plan'"]
