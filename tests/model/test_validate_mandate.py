"""alloc.model.validate.mandate: the admissible cells, rows with '*', yearly min and max."""

from __future__ import annotations

from alloc.model.domain import Cell, MandateCell
from alloc.model.validate.fields import Codes
from alloc.model.validate.mandate import cell_order, read_mandate

YEARS = (2024, 2025)
CODES = Codes(entities=("A", "B"), thematic=("P1", "P2"), priorities=("P1", "P2", "S1"),
              outputs=("O1", "O2", "support"))


def mandate(document, rows: dict):
    doc = document({"mandate": rows})
    return read_mandate(doc, CODES, YEARS), doc


def test_a_row_naming_the_cell_overrides_rows_with_stars(document, messages) -> None:
    cells, doc = mandate(document, {
        "B/P1/O1": {"max": 5},
        "*/P1/*": {"min": 1},
        "A/*/O2": {"min": 2},
        "A/S1/support": {}})
    assert cells == (
        MandateCell(Cell("A", "P1", "O1"), {2024: 1.0, 2025: 1.0}),
        MandateCell(Cell("A", "P1", "O2"), {2024: 2.0, 2025: 2.0}),    # the later row with '*'
        MandateCell(Cell("A", "P2", "O2"), {2024: 2.0, 2025: 2.0}),
        MandateCell(Cell("A", "S1", "support")),
        MandateCell(Cell("B", "P1", "O1"), {}, {2024: 5.0, 2025: 5.0}),
        MandateCell(Cell("B", "P1", "O2"), {2024: 1.0, 2025: 1.0}))
    assert messages(doc) == []


def test_rows_refused(document, messages) -> None:
    _, doc = mandate(document, {
        "A/P1": {},
        "C/P1/O1": {},
        "A/S1/O1": {},
        "B/P2/O1": {"min": 5, "max": {"2025": 3}},
        "*/S1/*": {}})
    assert messages(doc) == [
        "models/m/mandate.csv: line 6: '*/S1/*' matches no cell: '*' in the priority column means "
        "the thematic priorities, which use product and service offerings; name support lines one "
        "by one with the output 'support'",
        "models/m/mandate.csv: line 2: 'A/P1' should be ENTITY/PRIORITY/OUTPUT",
        "models/m/mandate.csv: line 3, column entity: 'C' is not an entity of the model. Known: A, B.",
        "models/m/mandate.csv: line 4: support lines use the output 'support' and thematic "
        "priorities a product or service offering",
        "models/m/mandate.csv: line 5: min 5 is above max 3 in 2025"]


def test_an_empty_mandate(document, messages) -> None:
    cells, doc = mandate(document, {})
    assert cells == ()
    assert messages(doc) == ["models/m/mandate.csv: the mandate lists no cell; add rows "
                             "entity,priority,output"]


def test_cells_in_the_frameworks_order() -> None:
    cells = [Cell("B", "P1", "O1"), Cell("A", "S1", "support"), Cell("A", "P1", "O2")]
    assert sorted(cells, key=cell_order(CODES)) == [cells[2], cells[1], cells[0]]
