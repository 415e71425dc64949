"""Rounding that adds up: published tables in whole units whose rows and columns still add.

Rounding each cell on its own breaks the sums ("totals may not add due to rounding"), which a
Council document cannot afford. Two tools:

- `largest_remainder`: a vector rounded to a given integer total (shares that add to 100.0);
- `controlled_round`: a matrix rounded so that every cell is its value rounded down or up, every
  row and column total is its own total rounded down or up, the rounded cells add up exactly to
  those totals, and the grand total is the one asked for (by default the total rounded half up).

Controlled rounding of a two-way table always exists (Bacharach 1966; Cox and Ernst 1982): the
fractional parts form a feasible flow in a network whose bounds are all whole numbers, so a whole
flow exists too. We find the one closest to the unrounded table (least total absolute change on
cells and totals) with a small min-cost-flow solver, exactly and without any solver library. Rows
may be grouped (revenue lines and allocations in the reconciliation): each group's subtotals per
column are then rounded down or up as well, which keeps the network a network.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import numpy as np

SNAP = 1e-6
"""Values within this of a whole number are that number: solver noise must not round up 699.9999999."""

_COST_SCALE = 1_000_000
_CELL_WEIGHT = 1
_TOTAL_WEIGHT = 2
"""Totals weigh more than cells: a reader checks totals across tables first."""


class RoundingError(ValueError):
    """No rounding with the totals asked for exists (only when totals are prescribed)."""


def round_half_up(x: float) -> int:
    """Whole number nearest to x, halves away from zero: what a reader expects, unlike round()."""
    x = _snap(x)
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def _snap(x: float) -> float:
    nearest = round(x)
    return float(nearest) if abs(x - nearest) <= SNAP else float(x)


def largest_remainder(values: Sequence[float], total: int) -> list[int]:
    """Round `values` to whole numbers adding up to `total` (Hamilton's method).

    Each value is rounded down, and the units still missing go to the largest remainders (ties
    to the first). Needs `total` between the sum of the values rounded down and rounded up.
    """
    snapped = [_snap(float(v)) for v in values]
    floors = [math.floor(v) for v in snapped]
    missing = total - sum(floors)
    remainders = [v - f for v, f in zip(snapped, floors, strict=True)]
    fractional = sum(r > 0 for r in remainders)
    if missing < 0 or missing > fractional:
        raise RoundingError(f"cannot round values adding up to {sum(snapped):.6g} to a total of {total}")
    order = sorted(range(len(snapped)), key=lambda i: (-remainders[i], i))
    out = list(floors)
    for i in order[:missing]:
        out[i] += 1
    return out


class _Network:
    """Min-cost flow by successive shortest paths (Bellman-Ford queue), with lower bounds.

    Tiny networks (a table's cells): clarity over speed. Integer capacities and costs keep it
    exact and deterministic.
    """

    def __init__(self, n: int):
        self.n = n
        self.to: list[int] = []
        self.cap: list[int] = []
        self.cost: list[int] = []
        self.adj: list[list[int]] = [[] for _ in range(n + 2)]
        self.excess = [0] * (n + 2)
        self.lower: list[int] = []

    def edge(self, u: int, v: int, lo: int, hi: int, cost: int = 0) -> int:
        """Add u->v carrying between lo and hi units, `cost` per unit above lo; returns its id."""
        if hi < lo:
            raise RoundingError("no whole number lies within the bounds of a total")
        self.excess[v] += lo
        self.excess[u] -= lo
        e = len(self.to)
        for a, b, c, k in ((u, v, hi - lo, cost), (v, u, 0, -cost)):
            self.to.append(b)
            self.cap.append(c)
            self.cost.append(k)
            self.adj[a].append(len(self.to) - 1)
        self.lower.extend((lo, 0))
        return e

    def flow(self, e: int) -> int:
        return self.lower[e] + self.cap[e ^ 1]

    def solve(self) -> None:
        source, sink = self.n, self.n + 1
        need = 0
        for v in range(self.n):
            if self.excess[v] > 0:
                self.edge(source, v, 0, self.excess[v])
                need += self.excess[v]
            elif self.excess[v] < 0:
                self.edge(v, sink, 0, -self.excess[v])
        sent = 0
        size = self.n + 2
        while sent < need:
            dist = [math.inf] * size
            prev = [-1] * size
            queued = [False] * size
            dist[source] = 0
            queue = deque([source])
            while queue:
                u = queue.popleft()
                queued[u] = False
                for e in self.adj[u]:
                    v = self.to[e]
                    if self.cap[e] > 0 and dist[u] + self.cost[e] < dist[v]:
                        dist[v] = dist[u] + self.cost[e]
                        prev[v] = e
                        if not queued[v]:
                            queued[v] = True
                            queue.append(v)
            if dist[sink] == math.inf:
                raise RoundingError("no rounding meets the totals asked for")
            push = need - sent
            v = sink
            while v != source:
                e = prev[v]
                push = min(push, self.cap[e])
                v = self.to[e ^ 1]
            v = sink
            while v != source:
                e = prev[v]
                self.cap[e] -= push
                self.cap[e ^ 1] += push
                v = self.to[e ^ 1]
            sent += push


def _bounds(residual: float, target: int | None, what: str) -> tuple[int, int]:
    """Whole-number bounds on the rounded-up units of a total whose fractional part is `residual`."""
    lo, hi = math.floor(residual + 1e-9), math.ceil(residual - 1e-9)
    lo, hi = min(lo, hi), max(lo, hi)
    if target is None:
        return lo, hi
    if not lo <= target <= hi:
        raise RoundingError(f"{what} cannot be rounded to the total asked for")
    return target, target


def _cost(residual: float, weight: int) -> int:
    """Cost of rounding a total up by its one free unit: 1 - 2 x its fractional part."""
    frac = residual - math.floor(residual + 1e-9)
    return round(weight * (1 - 2 * frac) * _COST_SCALE)


def controlled_round(
    values: np.ndarray | Sequence[Sequence[float]],
    total: int | None = None,
    row_totals: Sequence[int | None] | None = None,
    col_totals: Sequence[int | None] | None = None,
    row_groups: Sequence[Sequence[int]] | None = None,
    col_groups: Sequence[Sequence[int]] | None = None,
    col_group_totals: Sequence[int | None] | None = None,
    row_group_totals: Sequence[int | None] | None = None,
) -> np.ndarray:
    """Whole-number matrix close to `values` whose rows, columns and grand total add up.

    Every cell is its value rounded down or up; every row total, column total and group subtotal
    per column is its unrounded total rounded down or up; the grand total is `total` (default:
    the unrounded grand total rounded half up; it must lie within 1 of it, once values within
    `SNAP` of a whole number are taken as that number). Among all such
    matrices, the one with the least weighted absolute change is returned.

    `row_totals` / `col_totals` prescribe the rounded totals (None for a total left free), e.g.
    to make two tables agree on the totals they share; `RoundingError` when no rounding has them.
    `row_groups` partitions the rows (default: one group). `col_groups` partitions the columns
    (biennia of years): each group's grand total is rounded down or up too, or is
    `col_group_totals` where given (a balance that must show zero per biennium);
    `row_group_totals` likewise prescribes the grand total of row groups.
    """
    a = np.asarray(values, dtype=float)
    if a.ndim != 2:
        raise ValueError("controlled_round needs a two-way table")
    if not np.isfinite(a).all():
        raise ValueError("cannot round a table holding NaN or infinite values")
    nr, nc = a.shape
    grand = float(a.sum())   # before snapping: the total the caller sees
    a = np.vectorize(_snap, otypes=[float])(a) if a.size else a
    base = np.floor(a)
    frac = a - base
    groups = [list(g) for g in row_groups] if row_groups is not None else [list(range(nr))]
    if sorted(i for g in groups for i in g) != list(range(nr)):
        raise ValueError("row groups must hold every row once")
    want = round_half_up(grand) if total is None else int(total)
    if abs(want - float(a.sum())) >= 1 - 1e-9 and not (nr == 0 or nc == 0):
        raise RoundingError(f"a grand total of {want} is not within 1 of {grand:.6g}")
    base_total = int(base.sum())
    column_groups = [list(h) for h in col_groups] if col_groups is not None else []
    if col_groups is not None and sorted(j for h in column_groups for j in h) != list(range(nc)):
        raise ValueError("column groups must hold every column once")

    # Nodes: 0 = s, 1 = t, then row groups, rows, (row group, column) pairs, columns, column groups.
    ng = len(groups)
    g0, r0 = 2, 2 + ng
    gc0 = r0 + nr
    c0 = gc0 + ng * nc
    h0 = c0 + nc
    net = _Network(h0 + len(column_groups))
    sink_of = {j: h0 + k for k, h in enumerate(column_groups) for j in h}
    for k, h in enumerate(column_groups):
        res = float(frac[:, h].sum()) if h else 0.0
        given = None if col_group_totals is None else col_group_totals[k]
        target = None if given is None else int(given) - int(base[:, h].sum())
        lo, hi = _bounds(res, target, f"column group {k + 1}")
        net.edge(h0 + k, 1, lo, hi, _cost(res, _TOTAL_WEIGHT) if hi > lo else 0)
    group_of = {i: k for k, g in enumerate(groups) for i in g}
    cells: dict[tuple[int, int], int] = {}
    for k, g in enumerate(groups):
        res = float(frac[g].sum()) if g else 0.0
        given = None if row_group_totals is None else row_group_totals[k]
        target = None if given is None else int(given) - int(base[g].sum())
        lo, hi = _bounds(res, target, f"row group {k + 1}")
        net.edge(0, g0 + k, lo, hi, _cost(res, _TOTAL_WEIGHT) if hi > lo else 0)
        for j in range(nc):
            res = float(frac[g, j].sum()) if g else 0.0
            lo, hi = _bounds(res, None, "a subtotal")
            net.edge(gc0 + k * nc + j, c0 + j, lo, hi, _cost(res, _TOTAL_WEIGHT) if hi > lo else 0)
    for i in range(nr):
        res = float(frac[i].sum())
        given = None if row_totals is None else row_totals[i]
        target = None if given is None else int(given) - int(base[i].sum())
        lo, hi = _bounds(res, target, f"row {i + 1}")
        net.edge(g0 + group_of[i], r0 + i, lo, hi, _cost(res, _TOTAL_WEIGHT) if hi > lo else 0)
        for j in range(nc):
            if frac[i, j] > 0:
                cells[i, j] = net.edge(r0 + i, gc0 + group_of[i] * nc + j, 0, 1,
                                       _cost(float(frac[i, j]), _CELL_WEIGHT))
    for j in range(nc):
        res = float(frac[:, j].sum())
        given = None if col_totals is None else col_totals[j]
        target = None if given is None else int(given) - int(base[:, j].sum())
        lo, hi = _bounds(res, target, f"column {j + 1}")
        net.edge(c0 + j, sink_of.get(j, 1), lo, hi, _cost(res, _TOTAL_WEIGHT) if hi > lo else 0)
    up = want - base_total
    net.edge(1, 0, up, up)
    net.solve()
    out = base.astype(np.int64)
    for (i, j), e in cells.items():
        out[i, j] += net.flow(e)
    return out
