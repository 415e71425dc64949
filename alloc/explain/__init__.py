"""Why this number: infeasibility diagnosis in the user's words, shadow prices, ranging, room for
manoeuvre, a cell's story.

In: the program and its `Solution` (`alloc.lp`). Out: explanation records, and the lines, sheets
and CSV files that say them (`report`). Re-solves copies of the program; never changes it.
"""
