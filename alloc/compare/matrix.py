"""Scenarios side by side, one matrix per axis: what `comparison.xlsx` shows a working group.

A matrix takes the Total column of one Appendix A table (A1 by thematic priority and support
line, A4 by entity, A2 by strategic goal) from each scenario's own tables, so that every figure
is the one that scenario's Appendix A publishes. Rows come in the framework's order, grouped
(and subtotalled) as the table groups them; a row one scenario lacks (a new priority, a new
goal) is 0 there and sits where its own scenario's framework puts it. Subtotals, totals and
differences are computed from the rounded figures, so that every column adds up.

Also here: each scenario's question, read from the comment block at the top of its file.
"""

from __future__ import annotations

import heapq
import itertools
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alloc.report.tables import TOTAL, Table, figure

AXES: tuple[tuple[str, str, str], ...] = (
    ("priority", "a1-priority-entity", "By thematic priority"),
    ("entity", "a4-entity-year", "By entity"),
    ("goal", "a2-goal-entity", "By strategic goal"),
)
"""(axis, table id, sheet title) of each matrix, in the workbook's order."""


@dataclass(frozen=True)
class MatrixRow:
    """One line of a matrix: kind is row, subtotal or total; values one per scenario."""

    kind: str
    code: str
    name: str
    values: tuple[int, ...]

    @property
    def differences(self) -> tuple[int, ...]:
        """Each later scenario's figure less the first's."""
        return tuple(v - self.values[0] for v in self.values[1:])

    @property
    def changes(self) -> tuple[float | None, ...]:
        """Each difference as a fraction of the first scenario's figure (None where it is 0)."""
        base = self.values[0]
        return tuple(None if base == 0 else d / abs(base) for d in self.differences)


@dataclass(frozen=True)
class Matrix:
    axis: str
    table_id: str
    row_title: str
    rows: tuple[MatrixRow, ...]

    @property
    def lines(self) -> list[MatrixRow]:
        """The rows proper (no subtotals, no total), in order: what the charts show."""
        return [r for r in self.rows if r.kind == "row"]


def merge_order(orders: Sequence[Sequence[str]]) -> list[str]:
    """One order holding every code of every list once, keeping each list's own order: the
    codes sorted so that every code comes after the ones its lists put before it, ties in the
    order the codes first appear (the first list's order first). A new priority thus comes after
    the priority its own framework puts before it. Lists that contradict each other (no order
    keeps both) give way in the order the codes first appear."""
    seen: dict[str, int] = {}
    for order in orders:
        for code in order:
            seen.setdefault(code, len(seen))
    after: dict[str, set[str]] = {code: set() for code in seen}
    waiting = dict.fromkeys(seen, 0)
    for order in orders:
        for a, b in itertools.pairwise(order):
            if a != b and b not in after[a]:
                after[a].add(b)
                waiting[b] += 1
    ready = [(seen[c], c) for c, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    out: list[str] = []
    left = set(seen)
    while left:
        if not ready:              # a contradiction: the first code to appear goes first
            code = min(left, key=seen.__getitem__)
            waiting[code] = 0
        else:
            _, code = heapq.heappop(ready)
            if code not in left:
                continue
        out.append(code)
        left.discard(code)
        for b in after[code]:
            waiting[b] -= 1
            if waiting[b] == 0 and b in left:
                heapq.heappush(ready, (seen[b], b))
    return out


def _groups(table: Table) -> list[tuple[str, list[str]]]:
    if table.row_groups:
        return [(name, list(labels)) for name, labels in table.row_groups]
    return [("", table.rows)]


def matrix(tables: Sequence[Table], axis: str) -> Matrix:
    """The Total column of the same table of each scenario, side by side (see the module)."""
    first = tables[0]
    group_names = merge_order([[name for name, _ in _groups(t)] for t in tables])
    rows: list[MatrixRow] = []
    for group in group_names:
        members = [dict(_groups(t)).get(group, []) for t in tables]
        codes = merge_order(members)
        lines = []
        for code in codes:
            owner = next(t for t, m in zip(tables, members, strict=True) if code in m)
            values = tuple(int(figure(t.rounded, code, TOTAL)) if code in m else 0
                           for t, m in zip(tables, members, strict=True))
            lines.append(MatrixRow("row", code, owner.name(code), values))
        rows += lines
        if group and len(group_names) > 1:
            rows.append(MatrixRow("subtotal", "", f"Subtotal: {group}",
                                  tuple(sum(r.values[k] for r in lines) for k in range(len(tables)))))
    totals = tuple(int(figure(t.rounded, TOTAL, TOTAL)) for t in tables)
    summed = tuple(sum(r.values[k] for r in rows if r.kind == "row") for k in range(len(tables)))
    if totals != summed:   # the tables' rounding adds up: anything else is a bug, not a rounding
        raise AssertionError(f"{first.id}: rows add up to {summed}, the tables' totals are {totals}")
    rows.append(MatrixRow("total", "", first.total_name, totals))
    return Matrix(axis, first.id, first.row_title, tuple(rows))


_QUESTION = re.compile(r"^\s*Question(?: it answers)?\s*:\s*", re.IGNORECASE)


def question(path: Path) -> str:
    """The question a scenario answers, as its file states it: the comment block's "Question:"
    paragraph up to its last question mark, else the file's own [scenario] description, else ""."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    block: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        block.append(line.lstrip("#").strip())
    for i, line in enumerate(block):
        if _QUESTION.match(line):
            words = [_QUESTION.sub("", line), *block[i + 1:]]
            paragraph: list[str] = []
            for w in words:
                if not w and paragraph:
                    break
                paragraph.append(w)
            said = " ".join(w for w in paragraph if w)
            end = said.rfind("?")   # the question, without the explanation that follows it
            said = said[: end + 1] if end >= 0 else said
            return said[:1].upper() + said[1:]
    try:
        meta = tomllib.loads(text).get("scenario", {})
    except tomllib.TOMLDecodeError:
        return ""
    description = meta.get("description", "") if isinstance(meta, dict) else ""
    return " ".join(description.split()) if isinstance(description, str) else ""
