"""alloc.model.validate.envelopes: each entity's regular-budget spending per year."""

from __future__ import annotations

import pytest

from alloc.model.domain import Envelope
from alloc.model.validate.envelopes import read_envelopes

YEARS = (2024, 2025)
ENTITIES = ("A", "B")
CEILINGS = {2024: 100.0, 2025: 200.0}


def envelopes(document, table: dict, cuts: dict | None = None):
    doc = document({"financial_plan": {"plan": {"years": list(YEARS)},
                                       "growth": {"cut": 0.5, "cut_envelopes": list(cuts or ())}},
                    "rules": {"envelopes": table}})
    return read_envelopes(doc, ENTITIES, YEARS, CEILINGS, cuts or {}), doc


def test_shares_of_the_ceiling_become_amounts_and_cuts_apply(document, messages) -> None:
    got, doc = envelopes(document, {"B": {"min_share": 0.1, "max": {"2025": 50}},
                                    "A": {"fixed": 30}}, {"B": 0.5})
    assert got == (Envelope("A", {2024: 30.0, 2025: 30.0}, {2024: 30.0, 2025: 30.0}),
                   Envelope("B", {2024: 5.0, 2025: 10.0}, {2025: 25.0}))
    assert messages(doc) == []


@pytest.mark.parametrize(("table", "cuts", "message"), [
    ({"A": {"fixed": 30, "max": 40}}, {}, "models/m/rules.toml: envelopes.A.fixed: fixed replaces min "
     "and max; give one or the other"),
    ({"A": {"min_share": 0.5, "max": 60}}, {}, "models/m/rules.toml: envelopes.A.min_share: the "
     "minimum 100.0 is above the maximum 60.0 in 2025"),
    ({"A": {"fixed": {"2024": 1}}}, {}, "models/m/rules.toml: envelopes.A.fixed: has no entry for "
     "2025, a year of the plan (2024-2025, set in models/m/financial-plan.toml: plan.years); a table "
     "by year must give every year: add 2025 = ... (and any other year missing), or give one number "
     "for every year"),
    ({"C": {"max": 1}}, {}, "models/m/rules.toml: envelopes.C: 'C' is not an entity of the model. "
     "Known: A, B."),
    ({}, {"B": 0.1}, "models/m/financial-plan.toml: growth.cut_envelopes: B has no envelope in "
     "rules.envelopes to cut"),
])
def test_envelopes_refused(document, messages, table: dict, cuts: dict, message: str) -> None:
    _, doc = envelopes(document, table, cuts)
    assert message in messages(doc)
