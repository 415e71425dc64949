"""A cell's story (`alloc explain --cell`): its amounts by year and fund, its room for
manoeuvre, the binding rules it counts in (with their prices) and the targets it counts in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from alloc.explain.flexibility import Room, _group_cols, flexibility
from alloc.explain.program import DEFAULT_TOLERANCE, _Rows
from alloc.lp.build import LinearProgram
from alloc.lp.solve import SolveOptions

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class CellStory:
    """What determines one cell's amount: the binding rules and the targets it counts in."""

    cell: str
    amounts: tuple[tuple[int, str, float], ...]
    """(year, fund, amount) of the solution."""
    room: Room
    rules: tuple[dict, ...]
    """Binding rules the cell counts in, with price and sentence."""
    targets: tuple[dict, ...]


def explain_cell(lp: LinearProgram, table: pd.DataFrame, values: np.ndarray,
                 objectives: Mapping[str, float], cell: str, tolerance: float = DEFAULT_TOLERANCE,
                 options: SolveOptions | None = None) -> CellStory:
    """The cell's amounts, its room for manoeuvre, and the rules and targets that set them."""
    b = _Rows(lp)
    cols = _group_cols(lp, "cell", cell)
    plan = lp.plan
    amounts = tuple((int(lp.year[c]), plan.fund_codes[int(lp.fund[c])], float(values[c]))
                    for c in cols.tolist() if values[c] > 5e-7)
    (room,) = flexibility(lp, objectives, values, tolerance, options, [("cell", cell)])
    room = replace(room, name=cell)
    touching: set[int] = set()
    mine = set(cols.tolist())
    for i in range(b.n_rows):
        c, a = b.cols(i), b.coefs(i)
        if any(int(j) in mine and v > 0 for j, v in zip(c.tolist(), a.tolist(), strict=True)):
            touching.add(i)
    names = lp.row_names
    by_name = {r["name"]: r for r in table.to_dict("records")}
    rules, targets = [], []
    for i in sorted(touching):
        name = names[i]
        if name not in by_name:
            continue
        r = by_name[name]
        record = {"name": name, "rule": r["rule"], "source": r["source"], "text": r["text"],
                  "shadow_price": float(r["shadow_price"]), "sentence": r["sentence"]}
        if r["rule"] == "target":
            targets.append(record)
        elif bool(r["binding"]):
            rules.append(record)
    rules.sort(key=lambda r: -abs(r["shadow_price"]))
    return CellStory(cell, amounts, room, tuple(rules), tuple(targets))
