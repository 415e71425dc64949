"""alloc.model.validate.fields: the document, its problems, and the typed readers of one table."""

from __future__ import annotations

import datetime

from alloc.model.domain import REGULAR, Selection
from alloc.model.validate.fields import (
    MAX_AMOUNT,
    MISSING,
    Codes,
    Fields,
    kind,
    natural_key,
    span,
    years_text,
)

YEARS = (2024, 2025)


def rules(document, body: dict, unit: str = "CHF thousands") -> Fields:
    return document({"rules": {"x": body}}, unit).fields(("rules", "x"), "rule")


def test_numbers_are_checked_against_their_range(document, messages) -> None:
    f = rules(document, {"a": True, "b": -1, "c": 2e9, "d": 5})
    assert f.number("a") is None and f.number("b") is None and f.number("c") is None
    assert f.number("d") == 5.0 and isinstance(f.number("d"), float)
    assert f.number("absent", default=7) == 7
    assert messages(f.doc) == [
        "models/m/rules.toml: x.a: expected an amount in CHF thousands, got true/false (true)",
        "models/m/rules.toml: x.b: expected an amount in CHF thousands, got -1: must be at least 0",
        "models/m/rules.toml: x.c: expected an amount in CHF thousands, got 2e+09: must be at "
        "most 1e+09; is it in CHF thousands?",
    ]


def test_messages_name_the_models_unit(document, messages) -> None:
    f = rules(document, {"a": "ten"}, unit="USD thousands")
    f.number("a")
    assert messages(f.doc) == ["models/m/rules.toml: x.a: expected an amount in USD thousands, got "
                               "text ('ten')"]


def test_in_unit_shares_the_problems(document) -> None:
    doc = document({"rules": {}})
    usd = doc.in_unit("USD thousands")
    usd.error(("rules",), "one")
    assert [p.message for p in doc.problems] == ["one"] and usd.unit == "USD thousands"
    assert doc.unit == "CHF thousands"


def test_per_year_one_number_or_a_table(document, messages) -> None:
    f = rules(document, {"one": 3, "table": {"2024": 1, "2025": 2}, "short": {"2024": 1},
                         "odd": {"2031": 1, "²": 2}})
    assert f.per_year("one", YEARS) == {2024: 3.0, 2025: 3.0}
    assert f.per_year("table", YEARS) == {2024: 1.0, 2025: 2.0}
    assert f.per_year("short", YEARS) == {2024: 1.0}       # a year left out: no rule that year
    assert f.per_year("absent", YEARS) is None
    assert f.per_year("odd", YEARS) == {}
    assert messages(f.doc) == [
        "models/m/rules.toml: x.odd.2031: '2031' is not a year of the plan (2024, 2025)",
        "models/m/rules.toml: x.odd.²: '²' is not a year of the plan (2024, 2025)",
    ]


def test_money_by_year_must_give_every_year(document, messages) -> None:
    doc = document({"financial_plan": {"plan": {"years": [2024, 2025]}},
                    "rules": {"x": {"short": {"2024": 1}}}})
    f = doc.fields(("rules", "x"), "rule")
    assert f.per_year("short", YEARS, every_year=True) == {2024: 1.0}
    assert messages(doc) == [
        "models/m/rules.toml: x.short: has no entry for 2025, a year of the plan (2024-2025, set "
        "in models/m/financial-plan.toml: plan.years); a table by year must give every year: add "
        "2025 = ... (and any other year missing), or give one number for every year"]


def test_codes_are_checked_and_misspellings_suggested(document, messages) -> None:
    codes = Codes(entities=("BR", "TSB"), priorities=("P1",), outputs=("O", "support"))
    f = rules(document, {"entity": ["BR", "TBS"], "priority": [], "output": "O"})
    assert f.selection(codes) == Selection(frozenset({"BR", "TBS"}), None, frozenset({"O"}))
    assert messages(f.doc) == [
        "models/m/rules.toml: x.entity: 'TBS' is not an entity of the model; did you mean 'TSB'? "
        "Known: BR, TSB.",
        "models/m/rules.toml: x.priority: expected a code of a priority or support line or a "
        "non-empty list of them",
    ]


def test_an_unknown_code_is_reported_alike_every_time(document, messages) -> None:
    doc = document({"rules": {"x": {}}})
    for _ in range(2):
        doc.unknown_code(("rules", "x"), "PS1", ("PS1x", "PS2"), "an output")
    doc.unknown_code(("rules", "x"), "PS1", (), "an output")
    assert messages(doc) == 2 * ["models/m/rules.toml: x: 'PS1' is not an output of the model; "
                                 "did you mean 'PS1x'? Known: PS1x, PS2."] + [
        "models/m/rules.toml: x: 'PS1' is not an output of the model. The model has none."]


def test_fund_groups(document, messages) -> None:
    funds = (REGULAR, "F", "G")
    f = rules(document, {"a": "extrabudgetary", "b": ["G", "F"], "c": ["g"], "d": 3})
    assert f.funds("a", funds, "all") == ("F", "G")
    assert f.funds("b", funds, "all") == ("F", "G")        # in the plan's order
    assert f.funds("absent", funds, "regular") == (REGULAR,)
    assert f.funds("c", funds, "all") == ()
    assert f.funds("d", funds, "all") == funds
    assert messages(f.doc) == [
        "models/m/rules.toml: x.c: 'g' is not a fund of the model; did you mean 'G'? Known: "
        "regular, F, G.",
        "models/m/rules.toml: x.d: expected regular, extrabudgetary, all or a list of fund codes",
    ]


def test_unknown_keys_are_flagged_with_the_closest(document, messages) -> None:
    f = rules(document, {"max_shar": 0.5, "zzz": 1})
    f.share("max_share")
    f.text("name")
    f.close()
    assert messages(f.doc) == [
        "models/m/rules.toml: x.max_shar: unknown key; did you mean 'max_share'? Expected one of: "
        "max_share, name.",
        "models/m/rules.toml: x.zzz: unknown key. Expected one of: max_share, name.",
    ]


def test_choice_boolean_text(document, messages) -> None:
    f = rules(document, {"kind": "exakt", "flag": 1, "name": 2})
    assert f.choice("kind", ("minimum", "exact"), "minimum") == "minimum"
    assert f.boolean("flag", True) is True
    assert f.text("name", default="n") == "n"
    assert f.raw("absent") is MISSING
    assert messages(f.doc) == [
        "models/m/rules.toml: x.kind: expected one of minimum, exact, got 'exakt'; did you mean "
        "'exact'?",
        "models/m/rules.toml: x.flag: expected true or false, got a number (1)",
        "models/m/rules.toml: x.name: expected text in quotes, got a number (2)",
    ]


def test_keyed_and_ordered_tables(document, messages) -> None:
    doc = document({"framework": {"entities": {"E10": {}, "E2": {}, "A": {"order": 5},
                                               "bad code": {}},
                                  "goals": {}}})
    assert [code for code, _, _ in doc.ordered(("framework", "entities"), "entity")] == [
        "E2", "E10", "A"]
    assert doc.keyed(("framework", "goals"), "goal") == []
    assert doc.table(("framework", "nothing"), required=False) == {}
    assert messages(doc) == [
        'models/m/framework.toml: entities."bad code": a code must start with a letter or digit and '
        "hold only letters, digits, '.', '-' and '_' (at most 40)",
        "models/m/framework.toml: goals: is empty; expected at least one goal",
    ]


def test_a_table_that_is_not_one(document, messages) -> None:
    doc = document({"rules": {"budget": 3}})
    assert doc.table(("rules", "budget")) == {}
    assert doc.fields(("rules", "budget"), "budget").table == {}
    doc.known_keys(("rules",), ("budget",), "rules")
    assert messages(doc)[0] == "models/m/rules.toml: budget: expected a table, got a number (3)"


def test_helpers() -> None:
    assert sorted(["P10", "P2", "p1"], key=natural_key) == ["p1", "P2", "P10"]
    assert span((2024,)) == "2024" and span((2024, 2025, 2026)) == "2024-2026" and span(()) == ""
    assert years_text([2026]) == "2026" and years_text([2024, 2026, 2027]) == "2024, 2026 and 2027"
    assert kind(datetime.date(2024, 1, 31)) == "a date or time (2024-01-31), not in quotes"
    assert kind([1]) == "a list" and kind({}) == "a table" and kind("x" * 50) == f"text ('{'x' * 40}')"
    assert MAX_AMOUNT == 1e9
