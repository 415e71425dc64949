"""The whole explanation of an optimal solution: prices and the constraint table, and on demand
(`alloc explain`) the room for manoeuvre, the ranges and a cell's story."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from alloc.errors import SolveError
from alloc.explain.cell import CellStory, explain_cell
from alloc.explain.flexibility import Room, flexibility
from alloc.explain.prices import (
    VALUE_LEVEL,
    Prices,
    constraint_table,
    final_goal_level,
    shadow_prices,
)
from alloc.explain.program import DEFAULT_TOLERANCE
from alloc.explain.ranging import Range, ranging
from alloc.lp.build import LinearProgram
from alloc.lp.solution import Priced
from alloc.lp.solve import SolveOptions, solve_raw

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Explanation:
    """Why the numbers of an optimal solution are what they are."""

    prices: Prices
    table: pd.DataFrame
    """`constraint_table`: every rule, its price, whether it binds, a sentence."""
    tolerance: float
    rooms: tuple[Room, ...] = ()
    ranges: tuple[Range, ...] = ()
    cell: CellStory | None = None

    @property
    def note(self) -> str:
        """What the prices are, said once wherever they are shown."""
        if self.prices.level == VALUE_LEVEL:
            text = ("Shadow prices are taken at the final goal-programming level (value: the value "
                    "of the costed requirements left unfunded, each CHF thousand weighted by its "
                    "priority and tranche), with earlier levels held at their optimum; the "
                    "tie-breaks (shares of a cut, the reference distribution) are not priced. A "
                    "price is the change of the value left unfunded per unit added to the rule's"
                    " bound: -0.39 means that one more unit funds requirements worth 0.39; 0.39 "
                    "that the rule holds money worth 0.39 less than it would fund elsewhere.")
        else:
            text = (f"Shadow prices are taken at the final goal-programming level "
                    f"({self.prices.level}: {self.prices.level_text}), with earlier levels held "
                    "at their optimum; the tie-break toward the reference distribution is not "
                    "priced. A price is the change of that objective per unit added to the "
                    "rule's bound.")
        if self.prices.failed:
            text += f" No prices this time: {self.prices.failed}."
        if self.prices.degenerate:
            text += (" The optimum is degenerate: more rules are tight than needed to fix it, so"
                     " these prices are one valid set among several, and a price may hold in one"
                     " direction only.")
        return text


def explain(lp: LinearProgram, constraints: pd.DataFrame, objectives: Mapping[str, float],
            options: SolveOptions | None = None, tolerance: float = DEFAULT_TOLERANCE,
            deep: bool = False, cell: str | None = None, priced: Priced | None = None,
            values: np.ndarray | None = None, phrases: Mapping[int, str] | None = None
            ) -> Explanation:
    """Prices and the constraint table; with `deep`, ranging and room for manoeuvre too (they
    re-solve the plan many times); with `cell`, that cell's story. `priced` (the run's duals at
    the priced level, `Solution.priced`), `values` (its column values, `Solution.values`) and
    `phrases` (`alloc.explain.prices.rule_phrases`) are read instead of made again."""
    options = options or SolveOptions()
    try:
        prices = shadow_prices(lp, objectives, options, priced)
    except SolveError as exc:  # the allocation stands; only its prices are missing
        k = final_goal_level(lp)
        level = lp.levels[k]
        prices = Prices(level.name, level.text, math.nan, np.full(lp.n_rows, np.nan), False,
                        str(exc))
    table = constraint_table(lp, constraints, prices, phrases)
    if not (deep or cell):
        return Explanation(prices, table, tolerance)
    if values is None or len(values) != lp.n_cols:
        status, _, values, _ = solve_raw(lp, options)
        if status != "optimal" or values is None:
            raise SolveError(f"the plan could not be solved again to explain it ({status})")
    rooms = tuple(flexibility(lp, objectives, values, tolerance, options)) if deep else ()
    ranges = tuple(ranging(lp, values, options)) if deep else ()
    story = (explain_cell(lp, table, values, objectives, cell, tolerance, options)
             if cell else None)
    return Explanation(prices, table, tolerance, rooms, ranges, story)
