"""mandate.csv: the admissible cells (entity, priority, output), with optional yearly min and max.

A row may use '*' for every entity, every thematic priority or every output; rows with '*' are
read first, so that a row naming the cell itself overrides them (and of two rows with '*', the
later one).
"""

from __future__ import annotations

from collections.abc import Callable

from alloc.model.domain import SUPPORT_OUTPUT, Cell, MandateCell
from alloc.model.validate.fields import Codes, Document, Fields


def read_mandate(doc: Document, codes: Codes, years: tuple[int, ...]) -> tuple[MandateCell, ...]:
    """The cells in the framework's order (entities, then priorities, then outputs)."""
    table = doc.table(("mandate",))
    if not table:
        doc.error(("mandate",), "the mandate lists no cell; add rows entity,priority,output")
    known = (frozenset(codes.entities), frozenset(codes.priorities), frozenset(codes.outputs))
    thematic = frozenset(codes.thematic)
    cells: dict[Cell, MandateCell] = {}
    for key, body in sorted(table.items(), key=lambda kv: "*" not in kv[0].split("/")):
        path = ("mandate", key)
        parts = key.split("/")
        if len(parts) != 3:
            doc.error(path, f"'{key}' should be ENTITY/PRIORITY/OUTPUT")
            continue
        f = Fields(doc, path, body if body is not None else {}, "mandate cell")
        lo = f.per_year("min", years) or {}
        hi = f.per_year("max", years) or {}
        f.text("note")
        f.close()
        axes: list[tuple[str, ...]] = []
        for part, every, axis_known, axis_codes, what, column in (
            (parts[0], codes.entities, known[0], codes.entities, "an entity", "entity"),
            (parts[1], codes.thematic, known[1], codes.priorities, "a priority or support line",
             "priority"),
            (parts[2], codes.outputs[:-1], known[2], codes.outputs, "an output", "output"),
        ):
            if part == "*":
                axes.append(every)
            elif part not in axis_known:
                doc.unknown_code((*path, column), part, axis_codes, what)
                axes.append(())
            else:
                axes.append((part,))
        inverted = [y for y in years if y in lo and y in hi and lo[y] > hi[y] + 1e-9]
        matched = 0
        for e in axes[0]:
            for p in axes[1]:
                for o in axes[2]:
                    if (p not in thematic) != (o == SUPPORT_OUTPUT):
                        if "*" not in parts:
                            doc.error(path, "support lines use the output 'support' and "
                                      "thematic priorities a product or service offering")
                        continue
                    matched += 1
                    cell = Cell(e, p, o)
                    cells[cell] = MandateCell(cell, lo, hi)
        if matched:
            for y in inverted:
                doc.error(path, f"min {lo[y]:g} is above max {hi[y]:g} in {y}")
        if not matched and "*" in parts and all(axes):
            doc.error(path, f"'{key}' matches no cell: '*' in the priority column means the "
                      "thematic priorities, which use product and service offerings; name "
                      "support lines one by one with the output 'support'")
    return tuple(cells[c] for c in sorted(cells, key=cell_order(codes)))


def cell_order(codes: Codes) -> Callable[[Cell], tuple[int, int, int]]:
    """Sort key of cells: the framework's order of entities, then priorities, then outputs."""
    e = {c: i for i, c in enumerate(codes.entities)}
    p = {c: i for i, c in enumerate(codes.priorities)}
    o = {c: i for i, c in enumerate(codes.outputs)}
    return lambda cell: (e[cell.entity], p[cell.priority], o[cell.output])
