"""Why this number: infeasibility diagnosis in the user's words, shadow prices, ranging, room for
manoeuvre, a cell's story.

In: the program and its `Solution` (`alloc.lp`). Out: explanation records, and the lines, sheets
and CSV files that say them (`report`). Re-solves copies of the program; never changes it.

Modules: `program` (the LP's rows, copies of it re-solved), `words` (rows in the user's words),
`diagnose` (infeasibility, full or cheap) and `diagnosis` (what a diagnosis says), `prices`
(shadow prices, the constraint table), `flexibility` (room for manoeuvre), `ranging`, `cell` (a
cell's story), `explanation` (all of it for an optimal solution), `report` (lines, sheets, CSV
files).
"""

from alloc.explain.cell import CellStory, explain_cell
from alloc.explain.diagnose import diagnose_infeasible
from alloc.explain.diagnosis import Conflict, Diagnosis, Move, Remedy
from alloc.explain.explanation import Explanation, explain
from alloc.explain.flexibility import Room, flexibility
from alloc.explain.prices import Prices, constraint_table, shadow_prices
from alloc.explain.ranging import Range, ranging

__all__ = [
    "CellStory",
    "Conflict",
    "Diagnosis",
    "Explanation",
    "Move",
    "Prices",
    "Range",
    "Remedy",
    "Room",
    "constraint_table",
    "diagnose_infeasible",
    "explain",
    "explain_cell",
    "flexibility",
    "ranging",
    "shadow_prices",
]
