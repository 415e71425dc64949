"""alloc.model.validate.funds: extrabudgetary funds, their pledges, receipt rates and earmarks."""

from __future__ import annotations

from alloc.model.domain import REGULAR, Fund, Selection
from alloc.model.validate.fields import Codes
from alloc.model.validate.funds import fund_codes_of, read_funds

YEARS = (2024, 2025)
CODES = Codes(entities=("A", "B"), thematic=("P1",), priorities=("P1", "S1"),
              outputs=("O", "support"))


def funds(document, table: dict):
    doc = document({"financial_plan": {"plan": {"years": list(YEARS)}, "funds": table}})
    return read_funds(doc, CODES, YEARS), doc


def test_funds_in_code_order_with_earmarks(document, messages) -> None:
    got, doc = funds(document, {
        "F10": {"name": "Ten", "pledge": 10, "receipt_rate": 0.5},
        "F2": {"name": "Two", "pledge": {"2024": 1, "2025": 2}, "receipt_rate": 1,
               "earmark": {"entities": "B", "priorities": ["P1"]}, "must_spend": True,
               "support_cost_rate": 0.07, "receipt_rate_spread": 0.1}})
    assert got == (
        Fund("F2", "Two", {2024: 1.0, 2025: 2.0}, 1.0, Selection(frozenset({"B"}), frozenset({"P1"})),
             True, 0.07, "", 0.1),
        Fund("F10", "Ten", {2024: 10.0, 2025: 10.0}, 0.5, Selection()))
    assert fund_codes_of(got) == (REGULAR, "F2", "F10")
    assert messages(doc) == []


def test_funds_refused(document, messages) -> None:
    _, doc = funds(document, {"regular": {"name": "R", "pledge": 1, "receipt_rate": 1},
                              "G": {"name": "G", "pledge": 1, "earmark": {"entity": "A",
                                                                          "outputs": ["X"]}}})
    assert messages(doc) == [
        "models/m/financial-plan.toml: funds.regular: 'regular' is the regular budget; give the "
        "fund another code",
        "models/m/financial-plan.toml: funds.G.receipt_rate: missing; expected a share between 0 "
        "and 1",
        "models/m/financial-plan.toml: funds.G.earmark.outputs: 'X' is not an output of the "
        "model. Known: O, support.",
        "models/m/financial-plan.toml: funds.G.earmark.entity: unknown key; did you mean "
        "'entities'? Expected one of: entities, priorities, outputs."]
