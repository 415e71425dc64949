"""The built LP read as rows, and copies of it re-solved: the base of every explanation.

A copy keeps some of the LP's rows (with their right-hand sides, moved or not), adds columns
(slack) to them and adds rows (a level's objective bounded), then is solved through
`alloc.lp.solve.solve_raw`, so that nothing here knows a solver. "Infeasible" is an answer;
any other status but optimal is a `SolveError`. Each claim `alloc.explain` makes is one that such
re-solves confirm:

- a diagnosis names rules with amounts; relaxing those rules by those amounts makes the plan
  feasible, and relaxing all of them but any one does not (the repair is minimal; the cheap
  mode's one solve claims less, see `alloc.explain.diagnose`);
- a shadow price is the dual at the final goal-programming level (the last level of targets; the
  tie-break toward the reference distribution is not a goal and is not priced), with the earlier
  levels held at their optimum;
- a range is where the set of binding rules, found by re-solving, stays the same;
- a room for manoeuvre is the smallest and largest amount a priority or entity can get while every
  target level stays within a tolerance of its optimum.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from alloc.errors import SolveError
from alloc.lp.backends.base import Backend
from alloc.lp.build import LE, RULE_GROUPS, Lazy, Level, LinearProgram
from alloc.lp.program import GOAL
from alloc.lp.solution import Status
from alloc.lp.solve import SolveOptions, backend, cores, solve_levels, solve_raw, solver_name

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

SOFT_RULES = ("target", "reference", "level")
"""Rule groups that cannot make a plan infeasible: their deviation columns absorb any gap."""
NEVER_CONFLICT = ("requirement",)
"""Rule groups that hold whatever the allocation (a funded part can always be 0)."""
TIE_BREAK = "reference"
"""Rows of the linear stand-in of the tie-breaks: distance to the reference distribution."""


def is_goal(level: Level) -> bool:
    """Goals are held and priced; tie-breaks and their stand-in only make the optimum unique."""
    return level.role == GOAL
AMOUNT_STEP = 1e-3
"""Amounts are stated to a thousandth of the unit (a franc in CHF thousands)."""
SLACK_EPS = 5e-7
"""Slack below this (in the plan's unit) is solver noise, not a move."""
DEFAULT_TOLERANCE = 0.01


class _Rows:
    """The built LP's rows as arrays, read once; the base of every copy."""

    def __init__(self, lp: LinearProgram):
        self.lp = lp
        self.start, self.index, self.value = lp.matrix()
        self.sense = np.asarray(lp.senses).copy()
        self.rhs = np.asarray(lp.rhs, dtype=float).copy()
        self.rule = np.asarray(lp.rules).copy()
        self.n_rows = lp.n_rows
        self.n_cols = lp.n_cols
        soft = [RULE_GROUPS.index(r) for r in (*SOFT_RULES, *NEVER_CONFLICT)]
        self.hard = np.flatnonzero(~np.isin(self.rule, soft))
        self.not_tie_break = np.flatnonzero(self.rule != RULE_GROUPS.index(TIE_BREAK))

    def cols(self, i: int) -> np.ndarray:
        return self.index[self.start[i]:self.start[i + 1]]

    def coefs(self, i: int) -> np.ndarray:
        return self.value[self.start[i]:self.start[i + 1]]

    def activity(self, values: np.ndarray) -> np.ndarray:
        rows = np.repeat(np.arange(self.n_rows), np.diff(self.start))
        return np.bincount(rows, weights=self.value * values[self.index], minlength=self.n_rows)


@dataclass
class _Copy:
    """A copy of some rows of the LP, with their right-hand sides, plus new columns and rows."""

    base: _Rows
    rows: np.ndarray
    rhs: np.ndarray
    """Per original row (full length): the right-hand side to use."""
    names: list[str] = field(default_factory=list)
    """New columns, numbered from base.n_cols."""
    attach: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    """Position in `rows` -> new columns entering that row, with their coefficients."""
    extra: list[tuple[int, float, np.ndarray, np.ndarray]] = field(default_factory=list)
    """New rows: sense code, right-hand side, columns, coefficients."""

    def column(self, name: str) -> int:
        self.names.append(name)
        return self.base.n_cols + len(self.names) - 1

    def add_row(self, sense: int, rhs: float, cols: np.ndarray, coefs: np.ndarray) -> int:
        self.extra.append((sense, float(rhs), np.asarray(cols, np.int64),
                           np.asarray(coefs, float)))
        return len(self.rows) + len(self.extra) - 1

    def program(self, levels: Sequence[Level]) -> LinearProgram:
        """The copy as a LinearProgram: the kept rows' entries gathered by array, each followed
        by its new columns, then the new rows."""
        b, lp = self.base, self.base.lp
        copy = LinearProgram(lp.plan, lp.cell, lp.year, lp.fund)
        copy.add_cols(Lazy(b.n_cols + len(self.names), lambda j: f"c{j}"))
        rows = self.rows
        own = b.start[rows + 1] - b.start[rows]
        more = np.zeros(len(rows), np.int64)
        for k, entries in self.attach.items():
            more[k] = len(entries)
        counts = own + more
        out = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(counts, out=out[1:])
        index = np.empty(int(out[-1]), np.int64)
        value = np.empty(int(out[-1]))
        first = np.cumsum(own) - own
        within = np.arange(int(own.sum()), dtype=np.int64) - np.repeat(first, own)
        to = np.repeat(out[:-1], own) + within
        src = np.repeat(b.start[rows], own) + within
        index[to], value[to] = b.index[src], b.value[src]
        for k, entries in self.attach.items():
            at = int(out[k] + own[k])
            index[at:at + len(entries)] = [c for c, _ in entries]
            value[at:at + len(entries)] = [v for _, v in entries]
        senses = [b.sense[rows].astype(np.int8)]
        rhs = [self.rhs[rows]]
        all_counts, all_index, all_value = [counts], [index], [value]
        for sense, r, cols, coefs in self.extra:
            all_counts.append(np.array([len(cols)], np.int64))
            all_index.append(cols)
            all_value.append(coefs)
            senses.append(np.array([sense], np.int8))
            rhs.append(np.array([r]))
        n = len(rows) + len(self.extra)
        if n:
            copy.add_rows("level", np.concatenate(senses), np.concatenate(rhs),
                          np.concatenate(all_counts), np.concatenate(all_index),
                          np.concatenate(all_value), Lazy(n, lambda r: f"r{r}"), "",
                          Lazy(n, lambda r: ""))
        copy.levels = list(levels)
        return copy


@dataclass(frozen=True)
class _Answer:
    status: str
    values: np.ndarray | None
    duals: np.ndarray | None
    objectives: dict[str, float]

    @property
    def feasible(self) -> bool:
        return self.status == "optimal"


def _feasibility() -> list[Level]:
    return [Level("feasibility", np.zeros(0, np.int64), np.zeros(0), "any allocation")]


def _solve(copy: _Copy, levels: Sequence[Level], options: SolveOptions) -> _Answer:
    status, objectives, values, duals = solve_raw(copy.program(levels), options)
    if status not in ("optimal", "infeasible"):
        raise SolveError(f"while explaining, the solver stopped with status {status}")
    return _Answer(status, values, duals, objectives)


class _Warm:
    """Programs of one shape (the plan with a ceiling or a target moved) solved in turn on one
    solver instance, each warm from the last basis where the backend can take another program in
    place (HiGHS: `update`), else each from scratch as `solve_raw` does.

    Why: ranging probes the plan hundreds of times; a cold solve each time was most of
    `alloc explain`. A non-optimal answer drops the instance, so that the next starts clean.
    """

    def __init__(self, lp: LinearProgram, options: SolveOptions):
        self.options = options
        self.solver = solver_name(options.solver)
        self.model: Backend | None = None
        self._shape: tuple[int, np.ndarray, np.ndarray] | None = None

    def _model_for(self, lp: LinearProgram) -> Backend:
        start, index, _ = lp.matrix()
        shape = self._shape
        same = (shape is not None and lp.n_cols == shape[0] and np.array_equal(start, shape[1])
                and np.array_equal(index, shape[2]))
        if self.model is not None and same and self.model.can_update:
            self.model.update(lp)
            return self.model
        self.model = backend(lp, self.solver, self.options.verbose)
        self._shape = (lp.n_cols, start, index)
        return self.model

    def base(self, lp: LinearProgram) -> tuple[Status, np.ndarray | None, object | None]:
        """`solve` of the plan's own program, and the basis every sequence of probes is to start
        from (`start`): the solver's, the holding of the levels undone (None if it has none)."""
        status, values = self.solve(lp)
        basis = None
        if status == "optimal" and self.model is not None and self.model.can_update:
            self.model.update(lp)
            basis = self.model.basis()
        return status, values, basis

    def start(self, lp: LinearProgram, basis: object | None) -> None:
        """Hold `lp` and start the next solve from `basis` (`base`'s), whatever this instance
        solved before. Why: what a sequence of probes finds then depends neither on the
        sequences solved before it nor on which instance (or thread) solves it."""
        if basis is None:
            self.model = None
            return
        self._model_for(lp).start_from(basis)

    def solve(self, lp: LinearProgram) -> tuple[Status, np.ndarray | None]:
        """The levels of `lp` solved in order: status and column values (None unless optimal)."""
        model = self._model_for(lp)
        status, _, _ = solve_levels(model, self.options.time_limit, self.options.quadratic)
        if status != "optimal":
            self.model = None
            return status, None
        return status, np.array(model.values(), dtype=float)


PROBE_THREADS = 4
"""Threads that solve independent sequences of probes at once, at most (HiGHS releases Python's
lock while it solves, so each thread keeps a core busy with its own instance)."""


def probe_threads(lp: LinearProgram, options: SolveOptions, items: int) -> int:
    """Threads for `items` independent sequences of probes: one per core up to PROBE_THREADS,
    and one where the solver is not HiGHS or the program is large enough for HiGHS to solve it
    by interior point, itself on several threads (each instance also holds a copy)."""
    if solver_name(options.solver) != "highs":
        return 1
    from alloc.lp.backends.highs import LARGE

    if lp.n_cols > LARGE:
        return 1
    return max(1, min(PROBE_THREADS, cores(), items))


def on_instances(first: S, make: Callable[[], S], items: Sequence[T],
                 work: Callable[[S, T], R], threads: int = 1) -> list[R]:
    """`work(instance, item)` for every item, results in the items' order, on `threads` threads,
    each with its own solver instance: `first` the calling thread's, `make()` each other's. For
    the results to be the same whatever the number of threads, `work` starts each item from the
    same basis. A signal (Ctrl-C) while waiting cancels the items not started."""
    local = threading.local()
    local.instance = first

    def run(item: T) -> R:
        instance = getattr(local, "instance", None)
        if instance is None:
            instance = local.instance = make()
        return work(instance, item)

    if threads <= 1 or len(items) <= 1:
        return [run(item) for item in items]
    pool = ThreadPoolExecutor(threads, thread_name_prefix="alloc-probes")
    try:
        results = list(pool.map(run, items))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def _normalised(name: str, cols: np.ndarray, coefs: np.ndarray, text: str = ""
                ) -> tuple[Level, float]:
    """A level whose largest cost is 1, and the factor that takes its duals back to `coefs`.

    Why: what a solver is handed is then the level itself, so its duals need no guessing.
    """
    scale = float(np.abs(coefs).max()) if len(coefs) else 0.0
    scale = scale if scale > 0 else 1.0
    return Level(name, np.asarray(cols, np.int64), np.asarray(coefs, float) / scale, text), scale


def _bound_level(copy: _Copy, level: Level, bound: float) -> None:
    """A row keeping a level's objective at most `bound`, scaled to a largest coefficient of 1.

    Why: weights divided by targets make coefficients near 1e-5; a solver's feasibility
    tolerance (1e-7 on the row) would then let amounts drift by hundredths of a unit.
    """
    scale = float(np.abs(level.coefs).max()) if len(level.coefs) else 1.0
    scale = scale if scale > 0 else 1.0
    copy.add_row(LE, bound / scale, level.cols, level.coefs / scale)


def _held(copy: _Copy, lp: LinearProgram, objectives: Mapping[str, float], upto: int,
          tolerance: float, absolute: float) -> None:
    """Rows keeping each level before `upto` within a tolerance of its optimum."""
    for level in lp.levels[:upto]:
        if not is_goal(level):
            continue
        z = float(objectives[level.name])
        _bound_level(copy, level, z + tolerance * abs(z) + absolute - level.constant)
