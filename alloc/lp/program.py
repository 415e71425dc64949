"""The linear program as data: rows, columns and goal-programming levels, solver-neutral.

`LinearProgram` holds the rows as blocks of a sparse matrix by rows (numpy arrays), each row named
by us from domain keys, with its rule group, its source in the user's files and a sentence in plain
words; names and sentences are made when first asked for (`Lazy`): a solve needs none of them.
`alloc.lp.build` fills it from a plan; the backends (`alloc.lp.backends`) hand it to a solver.

What every backend hands a solver for a level is defined here, once: the costs scaled to a largest
magnitude of 1 (`Level.solver_coefs`), and how an earlier level's optimum is held while later
levels are solved (`face_threshold`, `level_bound`).
"""

from __future__ import annotations

import bisect
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, overload

import numpy as np

from alloc.model.domain import Plan

Sense = Literal["<=", ">=", "=="]
SENSES: tuple[Sense, ...] = ("<=", ">=", "==")
"""Row senses by code: 0 is <=, 1 is >=, 2 is ==."""
LE, GE, EQ = 0, 1, 2
RULE_GROUPS = ("ceiling", "envelope", "committed", "bound", "stability", "fund", "cell", "target",
               "reference", "level", "requirement")
GOAL, TIE_BREAK, STAND_IN = "goal", "tie-break", "stand-in"
"""Roles of levels: a goal (the value of funded requirements, targets) is held and priced; a
tie-break (strictly convex, quadratic) only makes the optimum unique; a stand-in (linear) takes
the tie-breaks' place with a solver, or a model size, that cannot solve quadratic levels."""


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """The sum of a * b, to the last bit the same on every machine: numpy's own (pairwise) sum
    of the products. `a @ b` goes to the BLAS, whose kernels, chosen for the processor, add in
    other orders: a level's constant, and so the programs and reports, differed in the last
    digit from one machine to another."""
    return float(np.add.reduce(np.multiply(a, b, dtype=float)))


@dataclass(frozen=True)
class Row:
    name: str
    rule: str
    sense: Sense
    rhs: float
    cols: np.ndarray
    coefs: np.ndarray
    source: str
    text: str


class RowHead(NamedTuple):
    """What a rule is (`LinearProgram.row_head`), without its coefficients: what its words need,
    for tens of thousands of rules at a fraction of a `Row`'s cost."""

    name: str
    rule: str
    sense: Sense
    source: str


@dataclass(frozen=True)
class Level:
    """One pre-emptive objective: minimise constant + sum(coefs * x[cols]) + sum(quadratic *
    x[cols]**2) / 2, the quadratic part (a diagonal, positive) only in tie-break levels."""

    name: str
    cols: np.ndarray
    coefs: np.ndarray
    text: str
    constant: float = 0.0
    quadratic: np.ndarray | None = None
    role: str = GOAL
    primal: bool = False
    """Solved from the basis of another objective over the same rows, which stays primal
    feasible (the ends of a room for manoeuvre): by primal simplex, whatever its breadth."""

    def value(self, x: np.ndarray) -> float:
        """The level's objective at column values x."""
        v = x[self.cols]
        total = self.constant + dot(self.coefs, v)
        if self.quadratic is not None:
            total += 0.5 * dot(self.quadratic, v * v)
        return total

    @property
    def scale(self) -> float:
        """What the costs handed to a solver are divided by: the largest magnitude of a cost
        (linear or quadratic), 1 when there is none."""
        parts = [np.abs(self.coefs).max() if len(self.coefs) else 0.0]
        if self.quadratic is not None and len(self.quadratic):
            parts.append(np.abs(self.quadratic).max())
        scale = float(max(parts))
        return scale if scale > 0 else 1.0

    @property
    def solver_quadratic(self) -> np.ndarray | None:
        """The quadratic costs handed to a solver, scaled as `solver_coefs`."""
        return None if self.quadratic is None else self.quadratic / self.scale

    @property
    def solver_coefs(self) -> np.ndarray:
        """The costs handed to a solver: coefs scaled to a largest magnitude of 1.

        Why: weights divided by targets or by total resources give costs near 1e-6, under
        HiGHS' dual feasibility tolerance (1e-7) by only a factor of ten, so "optimal" would
        still leave improvements of a few parts in ten thousand. Scaling the costs does not
        change the minimisers.
        """
        return self.coefs / self.scale


class _Strings(Sequence[str]):
    """A read-only sequence of strings made on demand: indexing and slicing in one place."""

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        n = len(self)
        if isinstance(i, slice):
            return [self._at(j) for j in range(*i.indices(n))]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        return self._at(i)

    @abstractmethod
    def _at(self, i: int) -> str:
        """The string at a valid, non-negative index."""


class Lazy(_Strings):
    """n strings made by `make(i)` when asked for, all of them kept once iterated.

    Why: a model of a million columns has a million reference rows whose names only a diagnosis
    or a report of that row ever reads.
    """

    def __init__(self, n: int, make: Callable[[int], str]):
        self._n = n
        self._make = make
        self._items: list[str] | None = None

    def __len__(self) -> int:
        return self._n

    def _at(self, i: int) -> str:
        return self._items[i] if self._items is not None else self._make(i)

    def __iter__(self) -> Iterator[str]:
        if self._items is None:
            self._items = [self._make(i) for i in range(self._n)]
        return iter(self._items)


class _Chain(_Strings):
    """Blocks of strings (lists, Lazy, repeats) read as one sequence."""

    def __init__(self) -> None:
        self._blocks: list[Sequence[str]] = []
        self._starts = [0]

    def extend(self, block: Sequence[str]) -> None:
        if len(block):
            self._blocks.append(block)
            self._starts.append(self._starts[-1] + len(block))

    def __len__(self) -> int:
        return self._starts[-1]

    def _at(self, i: int) -> str:
        b = bisect.bisect_right(self._starts, i) - 1
        return self._blocks[b][i - self._starts[b]]

    def __iter__(self) -> Iterator[str]:
        for block in self._blocks:
            yield from block


def repeated(value: str, n: int) -> Sequence[str]:
    """One string n times, as a sequence that stores it once."""
    return Lazy(n, lambda _: value)


@dataclass
class LinearProgram:
    """Rows and columns of the allocation LP; allocation columns come first.

    Rows are kept as blocks of a sparse matrix by rows (counts, column indices, coefficients),
    joined into one matrix when a solver asks (`matrix`).
    """

    plan: Plan
    cell: np.ndarray
    """Per allocation column: index into plan.mandate."""
    year: np.ndarray
    fund: np.ndarray
    """Per allocation column: index into plan.fund_codes."""
    levels: list[Level] = field(default_factory=list)
    funded: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Per requirement of the plan (in its order): the column of its funded part."""

    def __post_init__(self) -> None:
        self._col_names = _Chain()
        self._row_names = _Chain()
        self._row_texts = _Chain()
        self._row_sources = _Chain()
        self._counts: list[np.ndarray] = []
        self._index: list[np.ndarray] = []
        self._value: list[np.ndarray] = []
        self._sense: list[np.ndarray] = []
        self._rhs: list[np.ndarray] = []
        self._rule: list[np.ndarray] = []
        self._joined: tuple[np.ndarray, ...] | None = None

    # --- columns -------------------------------------------------------------------------------
    @property
    def n_alloc(self) -> int:
        return len(self.cell)

    @property
    def n_cols(self) -> int:
        return len(self._col_names)

    @property
    def col_names(self) -> Sequence[str]:
        return self._col_names

    def add_cols(self, names: Sequence[str]) -> np.ndarray:
        start = self.n_cols
        self._col_names.extend(names)
        return np.arange(start, self.n_cols)

    # --- rows ----------------------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return len(self._row_names)

    def add_row(self, name: str, rule: str, sense: Sense, rhs: float, cols: np.ndarray,
                coefs: np.ndarray | float, source: str, text: str) -> None:
        cols = np.asarray(cols, dtype=np.int64)
        coefs = (np.full(len(cols), float(coefs)) if isinstance(coefs, (int, float))
                 else np.broadcast_to(np.asarray(coefs, dtype=float), cols.shape).copy())
        self.add_rows(rule, np.array([SENSES.index(sense)], np.int8), np.array([float(rhs)]),
                      np.array([len(cols)]), cols, coefs, [name], [source], [text])

    def add_rows(self, rule: str, sense: np.ndarray | int, rhs: np.ndarray, counts: np.ndarray,
                 index: np.ndarray, value: np.ndarray, names: Sequence[str],
                 sources: Sequence[str] | str, texts: Sequence[str]) -> None:
        """Append rows: row r has columns index[sum(counts[:r]):][:counts[r]] and their values."""
        n = len(rhs)
        if not n:
            return
        self._counts.append(np.asarray(counts, dtype=np.int64))
        self._index.append(np.asarray(index, dtype=np.int64))
        self._value.append(np.asarray(value, dtype=float))
        self._sense.append(np.broadcast_to(np.asarray(sense, dtype=np.int8), (n,)))
        self._rhs.append(np.asarray(rhs, dtype=float))
        self._rule.append(np.full(n, RULE_GROUPS.index(rule), dtype=np.int8))
        self._row_names.extend(names)
        self._row_texts.extend(texts)
        self._row_sources.extend(repeated(sources, n) if isinstance(sources, str) else sources)
        self._joined = None

    def add_rows_of(self, other: LinearProgram) -> None:
        """Append the rows of `other`, a program of rows only over the same columns, sharing their
        arrays (neither program changes them): rows made once and kept (`alloc.lp.build`)."""
        other._join()
        for mine, theirs in ((self._counts, other._counts), (self._index, other._index),
                             (self._value, other._value), (self._sense, other._sense),
                             (self._rhs, other._rhs), (self._rule, other._rule)):
            mine.extend(theirs)
        for chain, their_chain in ((self._row_names, other._row_names),
                                   (self._row_texts, other._row_texts),
                                   (self._row_sources, other._row_sources)):
            for block in their_chain._blocks:
                chain.extend(block)
        self._joined = None

    def _join(self) -> tuple[np.ndarray, ...]:
        if self._joined is None:
            def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
                return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
            counts = cat(self._counts, np.int64)
            start = np.zeros(len(counts) + 1, dtype=np.int64)
            np.cumsum(counts, out=start[1:])
            self._joined = (start, cat(self._index, np.int64), cat(self._value, float),
                            cat(self._sense, np.int8), cat(self._rhs, float),
                            cat(self._rule, np.int8))
            # keep one copy only
            self._counts, self._index, self._value = [counts], [self._joined[1]], [self._joined[2]]
            self._sense, self._rhs, self._rule = ([self._joined[3]], [self._joined[4]],
                                                  [self._joined[5]])
        return self._joined

    def matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The constraint matrix by rows: start (n_rows + 1), column index, value."""
        start, index, value, *_ = self._join()
        return start, index, value

    @property
    def senses(self) -> np.ndarray:
        """Per row: 0 for <=, 1 for >=, 2 for ==."""
        return self._join()[3]

    @property
    def rhs(self) -> np.ndarray:
        return self._join()[4]

    @property
    def rules(self) -> np.ndarray:
        """Per row: index into RULE_GROUPS."""
        return self._join()[5]

    @property
    def row_names(self) -> Sequence[str]:
        return self._row_names

    @property
    def row_texts(self) -> Sequence[str]:
        return self._row_texts

    @property
    def row_sources(self) -> Sequence[str]:
        return self._row_sources

    def row(self, i: int) -> Row:
        start, index, value, sense, rhs, rule = self._join()
        a, b = start[i], start[i + 1]
        return Row(self._row_names[i], RULE_GROUPS[rule[i]], SENSES[sense[i]], float(rhs[i]),
                   index[a:b], value[a:b], self._row_sources[i], self._row_texts[i])

    def row_head(self, i: int) -> RowHead:
        joined = self._join()
        return RowHead(self._row_names[i], RULE_GROUPS[joined[5][i]], SENSES[joined[3][i]],
                       self._row_sources[i])

    @property
    def rows(self) -> Sequence[Row]:
        return _RowView(self)


class _RowView(Sequence[Row]):
    def __init__(self, lp: LinearProgram):
        self._lp = lp

    def __len__(self) -> int:
        return self._lp.n_rows

    @overload
    def __getitem__(self, i: int) -> Row: ...
    @overload
    def __getitem__(self, i: slice) -> list[Row]: ...
    def __getitem__(self, i: int | slice) -> Row | list[Row]:
        if isinstance(i, slice):
            return [self._lp.row(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._lp.row(i)


def face_threshold(level: Level) -> float:
    """Reduced costs and duals above this are taken as non-zero when holding a level's face.

    Duals are in the units of `Level.solver_coefs` (largest cost 1).
    """
    return 1e-9


def level_bound(optimum: float, tolerance: float) -> float:
    """The bound later levels keep on an earlier level's objective (unscaled costs, its constant
    included)."""
    return optimum + tolerance * abs(optimum) + tolerance


def priced_level(lp: LinearProgram) -> int:
    """The level shadow prices are taken at: the last goal level (the last level when there is
    no goal). docs/explain.md says why."""
    goals = [k for k, level in enumerate(lp.levels) if level.role == GOAL]
    return goals[-1] if goals else len(lp.levels) - 1


def solved_levels(lp: LinearProgram, quadratic: bool) -> list[int]:
    """The levels solved, in order: the goals, then the tie-breaks when quadratic levels can be
    solved, else their linear stand-in."""
    skip = STAND_IN if quadratic else TIE_BREAK
    return [k for k, level in enumerate(lp.levels) if level.role != skip]
