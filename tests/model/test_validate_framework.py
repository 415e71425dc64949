"""alloc.model.validate.framework: entities, goals, priorities with goal shares, outputs, support
lines, and their codes."""

from __future__ import annotations

from alloc.model.domain import Entity, Goal, Outcome, Output, Priority, StrategicTarget
from alloc.model.validate.fields import Codes
from alloc.model.validate.framework import (
    codes_of,
    read_entities,
    read_goals,
    read_outputs,
    read_priorities,
)

GOALS = ("G1", "G2")


def test_entities_by_order_then_code(document, messages) -> None:
    doc = document({"framework": {"entities": {"E10": {"name": "Ten"}, "E2": {"name": "Two"},
                                               "HQ": {"name": "Head", "order": -1}}}})
    assert read_entities(doc) == (Entity("HQ", "Head"), Entity("E2", "Two"), Entity("E10", "Ten"))
    assert messages(doc) == []


def test_goals_with_their_targets(document, messages) -> None:
    doc = document({"framework": {"goals": {
        "G1": {"name": "One", "targets": {"1.10": "Ten", "1.2": "Two", "1.3": 3}},
        "G2": {"name": "Two", "targets": "none"}}}})
    assert read_goals(doc) == (
        Goal("G1", "One", (StrategicTarget("1.2", "Two"), StrategicTarget("1.10", "Ten"))),
        Goal("G2", "Two"))
    assert messages(doc) == [
        "models/m/framework.toml: goals.G1.targets.\"1.3\": expected the target's name",
        "models/m/framework.toml: goals.G2.targets: expected a table of target code = \"name\""]


def test_priorities_then_support_lines(document, messages) -> None:
    doc = document({"framework": {
        "priorities": {"P1": {"name": "One", "goal_shares": {"G2": 0.25, "G1": 0.75},
                              "outcomes": {"2": "Second", "1": "First"}}},
        "support": {"S1": {"name": "Support"}}}})
    assert read_priorities(doc, GOALS) == (
        Priority("P1", "One", False, (Outcome("1", "First"), Outcome("2", "Second")),
                 {"G1": 0.75, "G2": 0.25}),
        Priority("S1", "Support", True))
    assert messages(doc) == []


def test_goal_shares_must_add_up_to_one_and_name_goals(document, messages) -> None:
    doc = document({"framework": {"priorities": {
        "P1": {"name": "One", "goal_shares": {"G1": 0.7}},
        "P2": {"name": "Two", "goal_shares": {"g2": 1.0}},
        "P3": {"name": "Three"}}}})
    read_priorities(doc, GOALS)
    assert messages(doc) == [
        "models/m/framework.toml: priorities.P1.goal_shares: the shares add up to 0.7, expected 1; "
        "correct them so that the priority is fully assigned",
        "models/m/framework.toml: priorities.P2.goal_shares.g2: 'g2' is not a goal of the model; "
        "did you mean 'G2'? Known: G1, G2.",
        "models/m/framework.toml: priorities.P3.goal_shares: missing; expected a table goal = "
        "share, adding up to 1"]


def test_codes_of_priorities_and_support_lines_differ(document, messages) -> None:
    doc = document({"framework": {"priorities": {"P1": {"name": "One"}},
                                  "support": {"P1": {"name": "Again"}, "support": {"name": "S"}}}})
    read_priorities(doc, ())
    assert messages(doc) == [
        "models/m/framework.toml: support.P1: code 'P1' is already used by a thematic priority; "
        "codes of priorities and support lines must differ",
        "models/m/framework.toml: support.support: code 'support' is already used (reserved); "
        "codes of priorities and support lines must differ"]


def test_outputs(document, messages) -> None:
    doc = document({"framework": {"outputs": {"PS2": {"name": "Two"}, "support": {"name": "S"}}}})
    assert read_outputs(doc) == (Output("PS2", "Two"), Output("support", "S"))
    assert messages(doc) == [
        "models/m/framework.toml: outputs.support: 'support' is reserved for support lines; "
        "choose another code"]


def test_codes_of_the_framework() -> None:
    codes = codes_of([Entity("A", "")], [Goal("G1", "")],
                     [Priority("P1", ""), Priority("S1", "", True)], [Output("O", "")])
    assert codes == Codes(entities=("A",), goals=("G1",), thematic=("P1",),
                          priorities=("P1", "S1"), outputs=("O", "support"))
