"""alloc.model.validate.plan: the plan's years and biennia."""

from __future__ import annotations

import pytest

from alloc.model.validate.plan import read_plan


def plan(document, body: dict):
    doc = document({"financial_plan": {"plan": body}})
    return read_plan(doc), doc


def test_biennia_default_to_the_years_two_by_two(document, messages) -> None:
    (years, biennia), doc = plan(document, {"years": [2024, 2025, 2026, 2027]})
    assert years == (2024, 2025, 2026, 2027)
    assert biennia == {"2024-2025": (2024, 2025), "2026-2027": (2026, 2027)}
    assert messages(doc) == []


def test_an_odd_number_of_years_has_no_biennia(document) -> None:
    assert plan(document, {"years": [2024, 2025, 2026]})[0] == ((2024, 2025, 2026), {})


@pytest.mark.parametrize(("years", "message"), [
    ([2025, 2024], "years must be in order, each once"),
    ([2024, 2026], "expected consecutive calendar years"),
    ("2024", "expected a list of years, e.g. [2024, 2025]"),
    ([True], "expected a list of years, e.g. [2024, 2025]"),
])
def test_years_refused(document, messages, years: object, message: str) -> None:
    (got, _), doc = plan(document, {"years": years})
    assert got == ()
    assert messages(doc) == [f"models/m/financial-plan.toml: plan.years: {message}"]


def test_biennia_given_are_sorted_and_checked(document, messages) -> None:
    (_, biennia), doc = plan(document, {"years": [2024, 2025, 2026, 2027], "biennia": {
        "second": [2026, 2027], "first": [2024, 2025]}})
    assert list(biennia) == ["first", "second"] and messages(doc) == []


@pytest.mark.parametrize(("biennia", "message"), [
    ({"a": [2024, 2025], "b": [2025, 2026]},
     "biennia.b: 2025 is already in the biennium 'a'; each year belongs to exactly one biennium"),
    ({"2024-2025": [2024, 2025]},
     "biennia: 2026 and 2027 are in no biennium: the biennia must cover every year of the plan "
     "(2024-2027), two adjacent years each; add e.g. \"2026-2027\" = [2026, 2027]"),
    ({"2026-2027": [2024, 2025], "b": [2026, 2027]},
     "biennia.2026-2027: the label '2026-2027' names 2026 and 2027, but the biennium holds 2024 "
     "and 2025; correct the label or the years"),
    ({"a": [2024, 2026], "b": [2026, 2027]},
     "biennia.a: [2024, 2026] is not a biennium: a biennium is two adjacent years in order, e.g. "
     "[2024, 2025]"),
    ({"a": [2030, 2031]},
     "biennia.a: 2030 and 2031 are not years of the plan (2024-2027); a biennium is two adjacent "
     "years of the plan"),
    ({"a": ["2024", 2025]},
     "biennia.a: expected a list of two adjacent years, e.g. [2024, 2025], got a list holding "
     "text ('2024')"),
    ({"a\x1b": [2024, 2025]},
     "biennia.\"a\\x1b\": a biennium's label is shown in the tables: give at most 40 characters "
     "without control characters, e.g. \"2024-2025\""),
])
def test_biennia_refused(document, messages, biennia: dict, message: str) -> None:
    _, doc = plan(document, {"years": [2024, 2025, 2026, 2027], "biennia": biennia})
    assert f"models/m/financial-plan.toml: plan.{message}" in messages(doc)
