"""Where each rule, fund and mandate cell was written ("file: field"), for reports and diagnoses.

A rule or fund that a scenario changed in part also names the files and fields that changed it. A
cell that a row with '*' put in the mandate names that row. Each origin and each cell is looked at
once, so that a mandate of 1e5 cells takes a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import product
from typing import Any

from alloc.model.domain import Cell, MandateCell
from alloc.model.scenario import OriginsBelow, Path_, Resolved

RULE_GROUPS = ("envelopes", "committed", "bounds", "targets")


def sources(resolved: Resolved, mandate: Iterable[MandateCell]) -> dict[str, str]:
    """Dotted key (`rules.bounds.x`, `financial_plan.funds.F`, `mandate.E/P/O`,
    `requirements.E/P/O/TRANCHE/YEAR`) -> where it was
    written, sorted by key. Read from a document that validated: tables are tables."""
    nested: list[Path_] = [
        *(("rules", group, code) for group in RULE_GROUPS
          for code in _table(resolved.doc, ("rules", group))),
        ("rules", "stability"),
        ("financial_plan", "revenue"),
        *(("financial_plan", "funds", code) for code in _table(resolved.doc, ("financial_plan", "funds"))),
    ]
    below = OriginsBelow(resolved.origins)
    out: dict[str, str] = {}
    for path in nested:
        src = resolved.source(path)
        text = f"{src.file}: {src.field(path)}"
        changed = sorted({f"{o.file}: {o.field(p)}" for p, o in below.origins.get(path, [])
                          if o != src})
        if changed:
            text += f" (changed by {'; '.join(changed)})"
        out[".".join(path)] = text
    rows = _table(resolved.doc, ("mandate",))
    row_of = _row_of(rows)
    for m in mandate:
        key = "/".join(m.cell)
        path = ("mandate", row_of(m.cell))
        src = resolved.source(path)
        out[f"mandate.{key}"] = f"{src.file}: {src.field(path)}"
    for key in _table(resolved.doc, ("requirements",)):
        path = ("requirements", key)
        src = resolved.source(path)
        out[f"requirements.{key}"] = f"{src.file}: {src.field(path)}"
    return dict(sorted(out.items()))


def _row_of(rows: dict[str, Any]) -> Callable[[Cell], str]:
    """The mandate row a cell came from: its own row, else the last row with '*' that matches it
    (the one `read_mandate` took it from), else its own key."""
    wildcards = {row: i for i, row in enumerate(rows) if "*" in row.split("/")}

    def row_of(cell: Cell) -> str:
        key = "/".join(cell)
        if key in rows:
            return key
        matching = [p for p in ("/".join(parts) for parts in product(*((c, "*") for c in cell)))
                    if p in wildcards]
        return max(matching, key=wildcards.__getitem__, default=key)

    return row_of


def _table(doc: dict[str, Any], path: Path_) -> dict[str, Any]:
    node: Any = doc
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}
