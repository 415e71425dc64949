"""Checks across sections, once each has been read on its own: rules that select no cell of the
mandate, priorities no entity delivers, and rules per biennium in a plan without biennia.

The cells are indexed once (`CellIndex`), so that asking whether a rule selects any cell costs
about the number of codes the rule names, not the number of cells in the mandate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from itertools import product

from alloc.model.domain import AllocationTarget, Bound, Cell, Commitment, MandateCell, Selection
from alloc.model.scenario import Path_
from alloc.model.validate.fields import Codes, Document, span


class CellIndex:
    """The mandate's cells, projected on every set of axes (entity, priority, output), so that
    whether a selection admits a cell is a few look-ups.

    A selection names codes on some axes; it admits a cell if and only if some combination of its
    codes on those axes is the projection of a cell there. The combinations are tried when they
    are fewer than the cells of the selection's narrowest code; otherwise those cells are.
    """

    def __init__(self, cells: Iterable[Cell]):
        self.cells = frozenset(cells)
        self.by_code: tuple[dict[str, list[Cell]], ...] = ({}, {}, {})
        for cell in self.cells:
            for axis, code in enumerate(cell):
                self.by_code[axis].setdefault(code, []).append(cell)
        self._projections: dict[tuple[int, ...], frozenset[tuple[str, ...]]] = {}

    def __len__(self) -> int:
        return len(self.cells)

    def projection(self, axes: tuple[int, ...]) -> frozenset[tuple[str, ...]]:
        """The cells' codes on two or three `axes` (made on first use)."""
        if len(axes) == 3:
            return self.cells
        if axes not in self._projections:
            a, b = axes
            self._projections[axes] = frozenset((c[a], c[b]) for c in self.cells)
        return self._projections[axes]

    def any_admitted(self, selection: Selection) -> bool:
        """Whether `selection` admits at least one cell."""
        named = [(axis, sorted(c for c in codes if c in self.by_code[axis]))
                 for axis, codes in enumerate((selection.entities, selection.priorities,
                                               selection.outputs)) if codes is not None]
        if not named:
            return bool(self.cells)
        if len(named) == 1:  # the codes that have cells, kept above
            return bool(named[0][1])
        axes = tuple(axis for axis, _ in named)
        combinations = math.prod(len(codes) for _, codes in named)
        sizes = [sum(len(self.by_code[axis][c]) for c in codes) for axis, codes in named]
        if combinations <= min(sizes):
            seen = self.projection(axes)
            return any(combo in seen for combo in product(*(codes for _, codes in named)))
        axis, codes = named[sizes.index(min(sizes))]
        return any(selection.admits(cell) for c in codes for cell in self.by_code[axis][c])


def check_selections(doc: Document, cells: CellIndex, codes: Codes,
                     groups: Iterable[tuple[str, Sequence[Commitment | AllocationTarget | Bound]]]
                     ) -> None:
    """Each rule (committed cost, target, bound) selects at least one cell of the mandate.

    A rule that names a code the model does not know was reported when read, and is not reported
    again here.
    """
    if not cells:
        return
    known = (set(codes.entities), set(codes.priorities), set(codes.outputs))
    for group, items in groups:
        for item in items:
            sel = item.selection
            axes = (sel.entities, sel.priorities, sel.outputs)
            if any(named is not None and not named <= k for named, k in zip(axes, known, strict=True)):
                continue
            if not cells.any_admitted(sel):
                doc.error(("rules", group, item.code),
                          f"selects no cell of the mandate ({sel.describe()}); "
                          "add the cell to mandate.csv or correct the selection")


def check_delivered(doc: Document, mandate: Sequence[MandateCell],
                    priority_codes: Iterable[str]) -> None:
    """Every priority and support line has at least one cell in the mandate."""
    if not mandate:
        return
    covered = {m.cell.priority for m in mandate}
    for p in priority_codes:
        if p not in covered:
            doc.error(("mandate",), f"no entity delivers '{p}': add at least one cell for it")


def check_biennia_needed(doc: Document, years: tuple[int, ...],
                         biennia: Mapping[str, tuple[int, ...]],
                         periods: Iterable[tuple[Path_, str]]) -> None:
    """A rule per biennium needs biennia: a plan of an odd number of years has none, and its
    rules would silently apply to no year at all."""
    if biennia:
        return
    for path, period in periods:
        if period == "biennium":
            doc.error(path, f"is per biennium, but the plan ({span(years)}, {len(years)} "
                      f"year{'s' if len(years) != 1 else ''}) has no biennia: biennia are two "
                      "adjacent years that together cover the plan, so it needs an even "
                      f"number of years (add {years[-1] + 1}"
                      + (f" or drop {years[-1]}" if len(years) > 1 else "")
                      + "); or use period 'year' or 'plan'")


def periods_of(ceiling_period: str, bounds: Iterable[Bound],
               targets: Iterable[AllocationTarget]) -> list[tuple[Path_, str]]:
    """Where a period is set (the budget's ceiling, each bound, each target), and to what."""
    return [(("rules", "budget", "ceiling_period"), ceiling_period),
            *((("rules", "bounds", b.code, "period"), b.period) for b in bounds),
            *((("rules", "targets", t.code, "period"), t.period) for t in targets)]
