"""An independent referee for what `alloc.explain` claims: the built LP handed to HiGHS directly.

Why: a diagnosis, a price or a range is only worth something if a solve that shares no code with
`alloc.explain` or `alloc.lp.solve` agrees with it. This module reads the LP's rows (matrix, senses,
bounds), changes bounds or adds rows as a test asks, and solves one objective, nothing more.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

import highspy
import numpy as np

from alloc.lp.build import LinearProgram

INF = float("inf")
LE, GE, EQ = 0, 1, 2


def _quiet() -> highspy.Highs:
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


def row_index(lp: LinearProgram) -> dict[str, int]:
    return {name: i for i, name in enumerate(lp.row_names)}


def relaxed_rhs(lp: LinearProgram, moves: Sequence[Mapping]) -> np.ndarray:
    """The LP's right-hand sides with each move applied (raise: bound + amount; lower: - amount)."""
    rhs = np.asarray(lp.rhs, dtype=float).copy()
    where = row_index(lp)
    for m in moves:
        i = where[m["name"]]
        rhs[i] += m["amount"] if m["change"] == "raise" else -m["amount"]
    return rhs


def minimise(lp: LinearProgram, rhs: np.ndarray | None = None,
             objective: Mapping[int, float] | None = None,
             extra: Sequence[tuple[int, float, Mapping[int, float]]] = ()) -> float | None:
    """The minimum of `objective` (column -> cost; none: 0) over the LP's rows with `rhs`, plus
    extra rows (sense, rhs, column -> coefficient); None when infeasible."""
    start, index, value = lp.matrix()
    sense = np.asarray(lp.senses)
    rhs = np.asarray(lp.rhs if rhs is None else rhs, dtype=float)
    lower = np.where(sense == LE, -INF, rhs)
    upper = np.where(sense == GE, INF, rhs)
    h = _quiet()
    n = lp.n_cols
    cost = np.zeros(n)
    for c, a in (objective or {}).items():
        cost[c] = a
    h.passModel(n, lp.n_rows, len(index), int(highspy.MatrixFormat.kRowwise),
                int(highspy.ObjSense.kMinimize), 0.0, cost, np.zeros(n), np.full(n, INF),
                lower, upper, start[:-1].astype(np.int32), index.astype(np.int32), value,
                np.zeros(n, dtype=np.int32))
    for s, r, coefs in extra:
        cols = np.array(list(coefs), dtype=np.int32)
        h.addRow(-INF if s == LE else r, INF if s == GE else r, len(cols), cols,
                 np.array([coefs[c] for c in coefs], dtype=float))
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        return float(h.getInfo().objective_function_value)
    if status in (highspy.HighsModelStatus.kInfeasible,
                  highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return None
    raise AssertionError(f"the referee could not solve: {status}")


def feasible(lp: LinearProgram, rhs: np.ndarray | None = None) -> bool:
    return minimise(lp, rhs) is not None
