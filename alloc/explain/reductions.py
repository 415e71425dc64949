"""Options for reducing expenses, and what more money buys (the list Annex 2 to Decision 5 asks for).

The ceiling's fixed part of every year (revenue lines, growth rules and cuts: the bound of its
ceiling row) is moved by the same fraction s of itself, down to -MAX_CUT (a cut of 10%) and up
until every requirement the rules let the ceiling pay for is funded (at most the total
requirement, at most +MAX_RISE). Everything else stays as the plan states it, amounts of
envelopes included. Along that path the value of the unfunded requirements V(s) (the value level)
is piecewise linear and convex: it falls by a constant value per unit of ceiling between kinks,
where the next class of requirements (another priority weight times tranche factor, or a rule
that starts to bind) is reached.

The kinks are found on the value level alone, a linear program re-solved warm in milliseconds:
the tangents at two points (slopes from the duals of the ceiling rows) meet where a kink may be;
if V there lies on both tangents it is the only kink between, else each half is searched again.
The kinks are then merged into at most MAX_BLOCKS blocks per direction (the adjacent pair of
closest marginal values first), and the whole program, every level and tie-break included, is
solved at each block's end: the same program a cold run of the plan with that ceiling solves
(`plan_with_ceiling`), warm on one solver instance. So a block is what a re-run with the ceiling
moved to the block's end takes away (or adds) on each cell, to the solver's precision: the
options are consistent with re-runs by construction, and tests/explain/test_reductions.py checks
it by re-running cold. The changes of the ceiling reported (in the unit and in %) are of the
ceiling as defined everywhere (`CeilingParts`: the fixed part plus the programme support costs
earned, which follow the funds' spending at each end).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from alloc.explain.program import on_instances, probe_threads
from alloc.lp.build import build
from alloc.lp.program import RULE_GROUPS, LinearProgram, dot, solved_levels
from alloc.lp.solution import AMOUNT_DECIMALS
from alloc.lp.solve import SolveOptions, backend, solve_levels, solver_name, uniqueness
from alloc.model.domain import CeilingAdjustment, Cell, Plan

if TYPE_CHECKING:
    from alloc.lp.backends.highs import HighsModel
    from alloc.lp.solution import Solution

MAX_CUT = 0.10
"""How far down the ceiling goes: 10% of every year's ceiling."""
MAX_RISE = 0.50
"""How far up at most, whatever the requirements (beyond, an option says little)."""
MAX_BLOCKS = 5
"""Blocks per direction: each is one solve of the whole program (about 0.3 s on the reference
model), and the list is read by people."""
LISTED_COLUMNS = 2_000
"""Columns of the quadratic tie-breaks up to which the options are computed unasked (`auto`): each
block end is a whole solve with them, up to ten in all (0.07 s each on the reference model's 1,164
columns, some 4 s at 5,500: BENCHMARKS.md), so that beyond, they would cost many runs."""
MAX_SEARCH = 200
"""Solves of the value level in the search for kinks, per direction."""
ZERO = 5e-7
"""A cell's change below this (in the plan's unit) is no change (amounts are kept to 1e-6)."""
REDUCE, FUND = "reduce", "fund"
ADJUSTMENT = "reduction-options"
"""The code of the ceiling adjustment that moves the ceiling along the path."""
COLUMNS = ["direction", "option", "entity", "entity_name", "priority", "priority_name", "output",
           "output_name", "year", "amount", "value_per_unit", "cumulative", "ceiling_change"]
"""The frame's columns; `csv_frame` names amounts with their unit."""


def plan_with_ceiling(plan: Plan, s: float) -> Plan:
    """The plan with every year's ceiling moved by the fraction s of itself (s = -0.05: a 5% cut),
    stated as one more ceiling adjustment; every other rule as the plan states it."""
    if s == 0:
        return plan
    amounts = {y: s * plan.ceiling(y) for y in plan.years}
    change = CeilingAdjustment(ADJUSTMENT, f"ceiling moved by {s:+.4%}", amounts)
    return dataclasses.replace(plan, adjustments=(*plan.adjustments, change))


@dataclass(frozen=True)
class Block:
    """One option: the change of the whole allocation between two points of the path."""

    direction: str
    number: int
    start: float
    """The fraction s the block starts from (0 for the first)."""
    end: float
    ceiling_change: float
    """The ceiling given up (reduce) or added (fund) at the block's end, all years, in the unit."""
    value_per_unit: float
    """Value of requirements lost (reduce) or funded (fund) per unit of ceiling in the block."""
    cells: pd.DataFrame
    """cell (mandate index), year, amount: what each cell gives up (reduce) or gets (fund)."""


@dataclass
class ReductionOptions:
    """The options in both directions, what limited them, and the time taken."""

    plan: Plan
    blocks: list[Block] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ceiling: float = 0.0
    """The ceiling as defined everywhere (revenue lines, growth rules and cuts, programme support
    costs earned: `CeilingParts`), all years, at the plan's optimum: what the % change is of."""
    computed: bool = True
    """False when the options were left out for the model's size (`LISTED_COLUMNS`)."""
    solves: int = 0
    """Solves of the whole program (the kink search solves the value level only)."""
    seconds: float = 0.0

    def change_percent(self, b: Block) -> float:
        """The ceiling's change at the block's end, % of the ceiling (negative: a cut)."""
        if self.ceiling <= 0:
            return b.end * 100
        return (-1.0 if b.direction == REDUCE else 1.0) * b.ceiling_change / self.ceiling * 100

    @property
    def frame(self) -> pd.DataFrame:
        """One row per option and cell-year that moves, options in order, largest change first."""
        plan = self.plan
        names = {
            "entity": {e.code: e.name for e in plan.entities},
            "priority": {p.code: p.name for p in plan.priorities},
            "output": {o.code: o.name for o in plan.outputs},
        }
        rows = []
        for b in self.blocks:
            for cell, year, amount in b.cells.itertuples(index=False):
                c = plan.mandate[int(cell)].cell
                rows.append({
                    "direction": b.direction, "option": b.number,
                    "entity": c.entity, "entity_name": names["entity"].get(c.entity, ""),
                    "priority": c.priority,
                    "priority_name": names["priority"].get(c.priority, ""),
                    "output": c.output, "output_name": names["output"].get(c.output, ""),
                    "year": int(year), "amount": round(float(amount), 6) + 0.0,
                    "value_per_unit": round(b.value_per_unit, 6) + 0.0,
                    "cumulative": round(b.ceiling_change, 6) + 0.0,
                    "ceiling_change": round(self.change_percent(b), 4) + 0.0,
                })
        return pd.DataFrame(rows, columns=COLUMNS)


def fixed_total(plan: Plan) -> float:
    """The ceiling rows' fixed part over all years (revenue lines, growth rules and cuts): what
    the path moves."""
    return float(sum(plan.ceiling(y) for y in plan.years))


class _Path:
    """The program on one solver instance, moved along the path."""

    def __init__(self, plan: Plan, lp: LinearProgram, options: SolveOptions):
        self.plan, self.lp, self.options = plan, lp, options
        self.model = cast("HighsModel", backend(lp, "highs", options.verbose))
        self.rows = np.flatnonzero(lp.rules == RULE_GROUPS.index("ceiling"))
        self.base = lp.rhs[self.rows].astype(float)
        self.equal = lp.senses[self.rows] == 2
        self.total = fixed_total(plan)
        """The ceiling rows' fixed part (revenue lines, growth rules and cuts), all years: what s
        moves."""
        self.earned: dict[float, float] = {}
        """Programme support costs earned (all years) at each s solved whole: the ceiling as
        defined is (1 + s) x total + earned[s]."""
        self.k = next(i for i, level in enumerate(lp.levels) if level.name == "value")
        self.first = solved_levels(lp, False).index(self.k) == 0
        self.evaluations = 0
        self.solves = 0
        self.points: dict[float, tuple[float, float]] = {}

    def value(self, s: float) -> tuple[float, float] | None:
        """V(s) and a slope dV/ds (a subgradient: the duals of the ceiling rows at the value
        level); None where the rules cannot all hold."""
        if s in self.points:
            return self.points[s]
        self.evaluations += 1
        model, level = self.model, self.lp.levels[self.k]
        if self.first:
            model.reset()
            rhs = self.base * (1 + s)
            model.set_row_bounds(self.rows, np.where(self.equal, rhs, -np.inf), rhs)
            status = model.solve_level(self.k, self.options.time_limit)
        else:   # earlier goal levels (targets) come first: solve them as a run does
            model.update(build(plan_with_ceiling(self.plan, s)))
            status = "optimal"
            for k in solved_levels(self.lp, False):
                status = model.solve_level(k, self.options.time_limit)
                if status != "optimal" or k == self.k:
                    break
                model.hold_level(k, self.lp.levels[k].value(model.values()))
        if status == "infeasible":
            return None
        if status != "optimal":
            raise _Stop(f"the solver ended with '{status}' at a ceiling moved by {s:+.2%}")
        duals = model.duals()[self.rows]
        point = (level.value(model.values()), level.scale * dot(duals, self.base))
        self.points[s] = point
        return point

    def allocation(self, s: float) -> tuple[np.ndarray, float]:
        """The whole program solved with the ceiling moved by s: amount per (cell, year), all
        funds, and the value level's optimum."""
        model = self.model
        model.update(build(plan_with_ceiling(self.plan, s)))
        status, objectives, failed = solve_levels(model, self.options.time_limit,
                                                  self.options.quadratic)
        self.solves += 1
        if status != "optimal":
            raise _Stop(f"the whole program ended with '{status}' (at {failed}) at a ceiling "
                        f"moved by {s:+.2%}")
        if uniqueness(model, self.options.quadratic):
            raise _Stop("the optimum is not proven unique along the path ("
                        + uniqueness(model, self.options.quadratic) + ")")
        values = model.values()
        self.earned[s] = self.support_earned(values)
        return cell_years(self.lp, values), objectives["value"]

    def support_earned(self, x: np.ndarray) -> float:
        """The programme support costs earned at x: the funds' terms of the ceiling rows."""
        start, index, coefs = self.lp.matrix()
        total = 0.0
        for i in self.rows:
            c, j = coefs[start[i]:start[i + 1]], index[start[i]:start[i + 1]]
            total += float(-(c[c < 0] * np.asarray(x)[j[c < 0]]).sum())
        return total

    def ceiling(self, s: float) -> float:
        """The ceiling as defined (`CeilingParts.total`), all years, with the fixed part moved
        by s (s solved whole before, or 0)."""
        return (1.0 + s) * self.total + self.earned[s]

    def limit(self, end: float, tries: int = 14) -> float:
        """The furthest s toward `end` (from 0) at which the rules can all hold."""
        ok, bad = 0.0, end
        for _ in range(tries):
            mid = (ok + bad) / 2
            if self.value(mid) is None:
                bad = mid
            else:
                ok = mid
        return ok

    def kinks(self, a: float, b: float) -> list[float]:
        """The points from a to b (a < b) between which V is linear, a and b included."""
        found = {a, b}
        stack = [(a, b)]
        while stack and self.evaluations < MAX_SEARCH:
            lo, hi = stack.pop()
            (v_lo, g_lo), (v_hi, g_hi) = self._at(lo), self._at(hi)
            tol = 1e-7 * max(1.0, abs(v_lo), abs(v_hi))
            chord = (v_hi - v_lo) / (hi - lo)
            if ((chord - g_lo) * (hi - lo) <= tol and (g_hi - chord) * (hi - lo) <= tol) \
                    or hi - lo < 1e-6:
                continue
            if g_hi - g_lo <= 0:        # not convex here (goal levels before the value level)
                mid = (lo + hi) / 2
            else:
                mid = (v_hi - v_lo + g_lo * lo - g_hi * hi) / (g_lo - g_hi)
                mid = min(max(mid, lo + 1e-3 * (hi - lo)), hi - 1e-3 * (hi - lo))
            v_mid, _ = self._at(mid)
            found.add(mid)
            below = max(v_lo + g_lo * (mid - lo), v_hi + g_hi * (mid - hi))
            if abs(v_mid - below) > tol:
                stack += [(lo, mid), (mid, hi)]
        return self._collinear_dropped(sorted(found))

    def _collinear_dropped(self, points: list[float]) -> list[float]:
        """The points without those where V does not bend (searched, but no kink)."""
        kept = points[:1]
        for i in range(1, len(points) - 1):
            a, s, b = kept[-1], points[i], points[i + 1]
            (va, _), (vs, _), (vb, _) = self._at(a), self._at(s), self._at(b)
            tol = 1e-7 * max(1.0, abs(va), abs(vb))
            if abs(vs - (va + (vb - va) * (s - a) / (b - a))) > tol:
                kept.append(s)
        return [*kept, points[-1]] if len(points) > 1 else kept

    def _at(self, s: float) -> tuple[float, float]:
        point = self.value(s)
        if point is None:
            raise _Stop(f"the rules cannot all hold at a ceiling moved by {s:+.2%}")
        return point


class _Stop(Exception):
    """The path cannot go on; the message says why."""


def cell_years(lp: LinearProgram, values: np.ndarray) -> np.ndarray:
    """Amount per (mandate cell, year) over all funds, as a cells x years array."""
    years = np.asarray(lp.plan.years)
    n_years = len(years)
    key = lp.cell * n_years + np.searchsorted(years, lp.year)
    sums = np.bincount(key, weights=values[: lp.n_alloc], minlength=len(lp.plan.mandate) * n_years)
    return sums.reshape(len(lp.plan.mandate), n_years)


def _merge(points: list[float], values: dict[float, float], n: int) -> list[float]:
    """At most n segments: first merged, the adjacent pair whose merging moves the marginal value
    least, weighted by the amounts (a short segment goes into its neighbour)."""
    points = list(points)
    while len(points) - 1 > n:
        pairs = list(pairwise(points))
        slopes = [(values[b] - values[a]) / (b - a) for a, b in pairs]
        sizes = [abs(b - a) for a, b in pairs]
        costs = [abs(slopes[i + 1] - slopes[i]) * sizes[i] * sizes[i + 1]
                 / (sizes[i] + sizes[i + 1]) for i in range(len(pairs) - 1)]
        del points[1 + int(np.argmin(costs))]
    return points


def _direction(path: _Path, direction: str, end: float, base: np.ndarray, base_value: float,
               notes: list[str]) -> list[Block]:
    """The blocks from s = 0 toward `end` (negative: reduce, positive: fund)."""
    if path.value(end) is None:
        reach = path.limit(end)
        notes.append(f"The rules cannot all hold with the ceiling {'cut' if end < 0 else 'raised'}"
                     f" by {abs(end):.1%}; the options stop at {abs(reach):.2%}, the furthest "
                     "they allow (other rules as the plan states them).")
        end = reach
    if abs(end) < 1e-9:
        return []
    points = path.kinks(min(0.0, end), max(0.0, end))
    if end > 0:     # nothing more to buy beyond the last kink where value still falls
        kept = [0.0]
        for a, b in pairwise(points):
            if path.points[b][0] < path.points[a][0] - 1e-7 * max(1.0, abs(path.points[a][0])):
                kept.append(b)
            else:
                break
        if kept[-1] < end:
            notes.append(f"Every requirement the rules let the regular budget pay for is funded "
                         f"with the ceiling raised by {kept[-1]:.2%}: more money buys nothing "
                         "more of value; the options stop there.")
        points = kept
    else:
        points = points[::-1]
    values = {s: path.points[s][0] for s in points}
    points = _merge(points, values, MAX_BLOCKS)
    blocks = []
    before, v_before = base, base_value
    sign = -1.0 if end < 0 else 1.0
    for number, (s0, s1) in enumerate(pairwise(points), start=1):
        after, v_after = path.allocation(s1)
        change = sign * (after - before)
        cells, years = np.nonzero(np.abs(change) >= ZERO)
        # ordered by the amount as stated (to AMOUNT_DECIMALS): amounts equal there are in cell
        # and year order, not in the order the solver's last digits would give them
        frame = pd.DataFrame({"cell": cells, "year": np.asarray(path.plan.years)[years],
                              "amount": change[cells, years],
                              "stated": np.round(change[cells, years], AMOUNT_DECIMALS)})
        frame = frame.sort_values(["stated", "cell", "year"], ascending=[False, True, True],
                                  kind="stable").drop(columns="stated").reset_index(drop=True)
        moved = abs(path.ceiling(s1) - path.ceiling(s0)) or abs(s1 - s0) * path.total
        blocks.append(Block(direction, number, s0, s1, abs(path.ceiling(s1) - path.ceiling(0.0)),
                            sign * (v_before - v_after) / moved, frame))
        before, v_before = after, v_after
    return blocks


def tie_break_columns(lp: LinearProgram) -> int:
    """Columns in the quadratic tie-break levels: what a block end's solve grows with."""
    return sum(len(level.cols) for level in lp.levels if level.quadratic is not None)


def reduction_options(lp: LinearProgram, solution: Solution, options: SolveOptions | None = None,
                      asked: bool = False) -> ReductionOptions:
    """The options for an optimal solution of `lp` (see the module's docstring); unless `asked`,
    only for a program whose tie-breaks have at most LISTED_COLUMNS columns (the notes say so)."""
    started = time.perf_counter()
    options = options or SolveOptions()
    plan = lp.plan
    out = ReductionOptions(plan)
    if not plan.requirements:
        out.notes.append("The model states no costed requirements (requirements.csv): without "
                         "them there is no value to give up or to buy, so no options are listed.")
        return out
    if solver_name(options.solver) != "highs":
        out.notes.append("Options are computed with the HiGHS solver only: it re-solves the "
                         "program warm along the path and solves the quadratic tie-breaks that "
                         "make each point unique.")
        return out
    if solution.not_unique:
        out.notes.append("Options are listed only where the optimum is proven unique, so that "
                         "each is what a re-run with the ceiling moved gives; here it is not ("
                         f"{solution.not_unique}).")
        return out
    columns = tie_break_columns(lp)
    if not asked and columns > LISTED_COLUMNS:
        out.computed = False
        out.notes.append(f"Not computed for a model this size unless asked: each option is a "
                         f"whole solve with the tie-breaks ({columns:,} columns here, above "
                         f"{LISTED_COLUMNS:,}), up to ten in all. `alloc run --reduction-options "
                         "yes` lists them.")
        return out
    base = np.zeros((len(plan.mandate), len(plan.years)))
    where = {m.cell: i for i, m in enumerate(plan.mandate)}
    alloc = solution.allocation
    for e, p, o, y, a in zip(alloc["entity"], alloc["priority"], alloc["output"], alloc["year"],
                             alloc["amount"], strict=True):
        base[where[Cell(e, p, o)], plan.years.index(int(y))] += a
    base_value = solution.objectives["value"]
    parts = [solution.ceiling_parts(y) for y in plan.years]
    earned = sum(p.support_costs_earned for p in parts)
    out.ceiling = sum(p.total for p in parts)
    total = fixed_total(plan)
    total_requirement = sum(plan.requirement_total(y) for y in plan.years)
    rise = min(MAX_RISE, max(0.0, total_requirement / total - 1.0)) if total > 0 else 0
    ends = [(REDUCE, -MAX_CUT)] + ([(FUND, rise)] if rise > 0 else [])

    def one(_: None, end: tuple[str, float]) -> tuple[_Path, list[Block], list[str], str]:
        path = _Path(plan, lp, options)
        path.earned[0.0] = earned
        notes: list[str] = []
        try:
            return path, _direction(path, *end, base, base_value, notes), notes, ""
        except _Stop as why:
            return path, [], notes, str(why)

    # each direction on a solver instance of its own, from the plan itself: the same options
    # whether they are solved in turn or at once (HiGHS releases Python's lock as it solves)
    directions = on_instances(None, lambda: None, ends, one, probe_threads(lp, options, len(ends)))
    for path, blocks, notes, stop in directions:
        out.notes += notes
        out.solves += path.solves
        if stop:
            out.notes.append(f"The options stop early: {stop}.")
            break
        out.blocks += blocks
    else:
        if rise <= 0:
            out.notes.append("The requirements do not exceed the ceiling: more money buys "
                             "nothing of value.")
    out.seconds = time.perf_counter() - started
    return out
