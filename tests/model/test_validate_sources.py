"""alloc.model.validate.sources: where each rule, fund and mandate cell was written."""

from __future__ import annotations

from alloc.model.domain import Cell, MandateCell
from alloc.model.scenario import OriginsBelow
from alloc.model.validate.sources import sources


def test_rules_and_funds_name_their_file_and_who_changed_them(resolved) -> None:
    doc = resolved(
        {"rules": {"bounds": {"b": {"min": 1, "max": 2}}, "envelopes": {"A": {"max": 3}}},
         "financial_plan": {"funds": {"F": {"pledge": 1}}, "revenue": {"a": {"amount": 1}}}},
        scenario={"rules": {"bounds": {"b": {"max": 5}}}})
    assert sources(doc, ()) == {
        "financial_plan.funds.F": "models/m/financial-plan.toml: funds.F",
        "financial_plan.revenue": "models/m/financial-plan.toml: revenue",
        "rules.bounds.b": "models/m/rules.toml: bounds.b (changed by scenarios/s.toml: "
                          "rules.bounds.b.max)",
        "rules.envelopes.A": "models/m/rules.toml: envelopes.A",
        "rules.stability": "models/m/rules.toml: stability",
    }


def test_a_cell_names_its_row_or_the_last_row_with_stars_that_gave_it(resolved) -> None:
    rows = {"*/P1/*": {}, "A/P1/O1": {}, "A/*/O2": {}, "*/*/O2": {}}   # lines 2 to 5
    cells = [Cell("A", "P1", "O1"), Cell("A", "P1", "O2"), Cell("B", "P1", "O2"),
             Cell("B", "P1", "O1")]
    got = sources(resolved({"mandate": rows}), [MandateCell(c) for c in cells])
    assert {k: v for k, v in got.items() if k.startswith("mandate.")} == {
        "mandate.A/P1/O1": "models/m/mandate.csv: line 3",
        "mandate.A/P1/O2": "models/m/mandate.csv: line 5",
        "mandate.B/P1/O2": "models/m/mandate.csv: line 5",
        "mandate.B/P1/O1": "models/m/mandate.csv: line 2",
    }


def test_the_origins_are_read_once_however_many_rules(resolved) -> None:
    """Every rule used to look at every origin: 40 s for a mandate of 140,793 cells."""
    rules = {f"b{i}": {"min": 1} for i in range(200)}
    doc = resolved({"rules": {"bounds": rules}, "mandate": {f"E{i}/P/O": {} for i in range(1000)}})
    passes = []

    class Counted(dict):
        def items(self):
            passes.append(1)
            return super().items()

    doc.origins = Counted(doc.origins)
    got = sources(doc, [MandateCell(Cell(f"E{i}", "P", "O")) for i in range(1000)])
    assert len(got) == 200 + 1000 + 2 and len(passes) == 1


def test_origins_below_a_key(resolved) -> None:
    below = OriginsBelow(resolved({"rules": {"bounds": {"b": {"min": 1}}}}).origins)
    assert [p for p, _ in below.origins[("rules", "bounds")]] == [("rules", "bounds", "b"),
                                                                  ("rules", "bounds", "b", "min")]
    assert ("rules", "bounds", "b", "min") not in below.origins
