"""rules.toml [stability] and previous-allocation.csv: how far each (entity, priority) regular
allocation may move from the previous period's."""

from __future__ import annotations

from collections.abc import Iterable

from alloc.model.domain import MandateCell, Stability
from alloc.model.validate.fields import Codes, Document, Fields


def read_stability(doc: Document, codes: Codes, mandate: Iterable[MandateCell]
                   ) -> tuple[Stability | None, dict[tuple[str, str], float]]:
    """The rule (None without [stability]) and the previous allocation (empty without the file).

    The previous allocation is checked even without the rule: each row must name an (entity,
    priority) pair that the mandate has a cell for.
    """
    table = doc.table(("rules", "stability"), required=False)
    previous_table = doc.table(("previous_allocation",), required=False)
    previous: dict[tuple[str, str], float] = {}
    pairs = {(m.cell.entity, m.cell.priority) for m in mandate}
    entities, priorities = frozenset(codes.entities), frozenset(codes.priorities)
    for key, body in previous_table.items():
        path = ("previous_allocation", key)
        parts = key.split("/")
        f = Fields(doc, path, body, "previous allocation")
        amount = f.number("amount", required=True)
        f.close()
        if len(parts) != 2:
            doc.error(path, f"'{key}' should be ENTITY/PRIORITY")
            continue
        if parts[0] not in entities:
            doc.unknown_code((*path, "entity"), parts[0], codes.entities, "an entity")
        elif parts[1] not in priorities:
            doc.unknown_code((*path, "priority"), parts[1], codes.priorities, "a priority")
        elif (parts[0], parts[1]) not in pairs:
            doc.error(path, f"{parts[0]} has no cell for {parts[1]} in the mandate; remove "
                      "the row or add the cell")
        elif amount is not None:
            previous[(parts[0], parts[1])] = amount
    previous = dict(sorted(previous.items()))
    if not table:
        return None, previous
    f = Fields(doc, ("rules", "stability"), table, "stability")
    max_change = f.number("max_change", required=True, hi=10.0, what="a fraction, e.g. 0.25")
    f.close()
    if not previous_table:
        doc.error(("rules", "stability"), "stability needs the previous allocation: add "
                  "previous-allocation.csv to the model or remove [stability]")
    return Stability(max_change or 0.0, previous), previous
