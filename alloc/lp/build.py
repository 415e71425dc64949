"""The linear program of DESIGN.md section 2, built from a Plan. The only module that imports PuLP.

`build` turns a plan into solver-neutral rows and columns: one sparse matrix by rows (numpy
arrays), each row named by us from domain keys, with its rule group, its source in the user's files
and a sentence in plain words. Families of rows (per entity and year, per cell, per column, ...)
are cut from column indices grouped by one sort, never from a mask over all columns per row, which
is quadratic in the size of the model. Names and sentences are made when first asked for: a solve
needs none of them. `PulpModel` turns the rows into a PuLP problem: the plain path (CBC, or PuLP's
own HiGHS class), kept as the fallback and as the yardstick the fast path is tested against.
"""

from __future__ import annotations

import bisect
import warnings
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, overload

import numpy as np

from alloc.model.domain import Fund, Plan, Selection
from alloc.model.size import BYTES_PER_COLUMN, fits_in_memory

if TYPE_CHECKING:
    import pulp

Sense = Literal["<=", ">=", "=="]
SENSES: tuple[Sense, ...] = ("<=", ">=", "==")
"""Row senses by code: 0 is <=, 1 is >=, 2 is ==."""
LE, GE, EQ = 0, 1, 2
RULE_GROUPS = ("ceiling", "envelope", "committed", "bound", "stability", "fund", "cell", "target",
               "reference", "level")


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


@dataclass(frozen=True)
class Level:
    """One pre-emptive objective: minimise sum(coefs * x[cols])."""

    name: str
    cols: np.ndarray
    coefs: np.ndarray
    text: str

    @property
    def solver_coefs(self) -> np.ndarray:
        """The costs handed to a solver: coefs scaled to a largest magnitude of 1.

        Why: weights divided by targets or by total resources give costs near 1e-6, under
        HiGHS' dual feasibility tolerance (1e-7) by only a factor of ten, so "optimal" would
        still leave improvements of a few parts in ten thousand. Scaling the costs does not
        change the minimisers.
        """
        scale = float(np.abs(self.coefs).max()) if len(self.coefs) else 0.0
        return self.coefs / scale if scale > 0 else self.coefs.astype(float)


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


def _repeat(value: str, n: int) -> Sequence[str]:
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
        coefs = np.broadcast_to(np.asarray(coefs, dtype=float), cols.shape).copy()
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
        self._row_sources.extend(_repeat(sources, n) if isinstance(sources, str) else sources)
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


def _fmt(amount: float) -> str:
    return f"{amount:,.0f}"


class _Cells:
    """The mandate's cells as integer codes per axis, to select cells without string compares."""

    AXES = ("entity", "priority", "output")

    def __init__(self, plan: Plan):
        self.codes: dict[str, list[str]] = {}
        self.pos: dict[str, dict[str, int]] = {}
        self.of: dict[str, np.ndarray] = {}
        for k, axis in enumerate(self.AXES):
            values = [m.cell[k] for m in plan.mandate]
            codes = sorted(set(values))
            pos = {c: i for i, c in enumerate(codes)}
            self.codes[axis], self.pos[axis] = codes, pos
            self.of[axis] = np.fromiter((pos[v] for v in values), dtype=np.int64, count=len(values))
        self.n = len(plan.mandate)

    def mask(self, sel: Selection) -> np.ndarray:
        """Per mandate cell: is it in the selection?"""
        m = np.ones(self.n, dtype=bool)
        for axis, chosen in zip(self.AXES, (sel.entities, sel.priorities, sel.outputs), strict=True):
            if chosen is not None:
                lookup = np.array([c in chosen for c in self.codes[axis]], dtype=bool)
                m &= lookup[self.of[axis]] if len(lookup) else False
        return m


class _Index:
    """Per allocation column: integer codes of its entity, priority, output, year and fund."""

    def __init__(self, plan: Plan, lp: LinearProgram, cells: _Cells):
        self.plan = plan
        self.cells = cells
        self.cell = lp.cell
        self.ent = cells.of["entity"][lp.cell]
        self.pri = cells.of["priority"][lp.cell]
        self.out = cells.of["output"][lp.cell]
        self.years_arr = np.asarray(plan.years, dtype=np.int64)
        self.yi = np.searchsorted(self.years_arr, lp.year)
        self.year = lp.year
        self.fund = lp.fund
        self.regular = lp.fund == 0

    def select(self, sel: Selection) -> np.ndarray:
        return self.cells.mask(sel)[self.cell]

    def years(self, years: Sequence[int]) -> np.ndarray:
        return np.isin(self.years_arr, list(years))[self.yi]

    def funds(self, funds: Sequence[str]) -> np.ndarray:
        chosen = set(funds)
        return np.array([f in chosen for f in self.plan.fund_codes], dtype=bool)[self.fund]


def _groups(key: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns ordered by key (ascending within a key, as np.flatnonzero gives) and where each key
    starts in that order; a negative key leaves the column out."""
    cols = np.flatnonzero(key >= 0)
    k = key[cols]
    order = cols[np.argsort(k, kind="stable")]
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(k, minlength=n), out=start[1:])
    return order, start


def _gather(order: np.ndarray, start: np.ndarray, groups: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Counts and column indices of rows that each take one group (-1: an empty row)."""
    groups = np.asarray(groups, dtype=np.int64)
    valid = groups >= 0
    g = np.where(valid, groups, 0)
    counts = np.where(valid, start[g + 1] - start[g], 0)
    out_start = np.cumsum(counts) - counts
    idx = np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(start[g] - out_start, counts)
    return counts, order[idx]


def _admits(plan: Plan, cells: _Cells) -> np.ndarray:
    """Per mandate cell and fund (the regular budget first): may the fund pay for the cell?"""
    admits = np.ones((len(plan.mandate), len(plan.fund_codes)), dtype=bool)
    for k, fund in enumerate(plan.funds, start=1):
        admits[:, k] = cells.mask(fund.earmark)
    return admits


def check_fits(plan: Plan, copies: int = 1, admits: np.ndarray | None = None) -> None:
    """Refuse (ModelTooLarge) a plan whose LP would not fit in the memory available, counting its
    columns exactly; `copies`: processes that each build it (a sweep's workers). The last of the
    guards of alloc.model.size: the earlier ones refuse what is surely too large before reading it all."""
    if admits is None:
        admits = _admits(plan, _Cells(plan))
    fits_in_memory(int(admits.sum()) * len(plan.years), len(plan.mandate), len(plan.years),
                   len(plan.funds), BYTES_PER_COLUMN, copies)


def build(plan: Plan) -> LinearProgram:
    """The LP of a plan: every rule group as named rows, and the goal-programming levels."""
    cells = _Cells(plan)
    n_cells, n_years, n_funds = len(plan.mandate), len(plan.years), len(plan.fund_codes)
    admits = _admits(plan, cells)
    check_fits(plan, admits=admits)
    # columns in the order cell, year, fund: np.nonzero walks the grid in C order
    i, yi, k = np.nonzero(np.broadcast_to(admits[:, None, :], (n_cells, n_years, n_funds)))
    years_arr = np.asarray(plan.years, dtype=np.int64)
    lp = LinearProgram(plan, i.astype(np.int64), years_arr[yi], k.astype(np.int64))
    lp.add_cols(Lazy(lp.n_alloc, _alloc_namer(plan, lp)))
    ix = _Index(plan, lp, cells)
    src = plan.sources.get
    regular = ix.regular
    n_ent, n_pri = len(cells.codes["entity"]), len(cells.codes["priority"])

    psc = np.array([0.0, *(f.support_cost_rate for f in plan.funds)])[lp.fund]
    for label, ys, amount in plan.ceiling_periods():
        in_period = ix.years(ys)
        cols = np.flatnonzero((regular | (psc > 0)) & in_period)
        coefs = np.where(regular, 1.0, -psc)[cols]
        verb = "equals" if plan.balance_budget else "stays within"
        extra = " plus programme support costs earned" if (psc > 0).any() else ""
        lp.add_row(f"ceiling[{label}]", "ceiling", "==" if plan.balance_budget else "<=", amount,
                   cols, coefs, src("financial_plan.revenue", "financial-plan.toml: revenue"),
                   f"regular-budget spending in {label} {verb} the ceiling of {_fmt(amount)}{extra}")

    # envelopes: regular columns grouped by (entity, year)
    order, start = _groups(np.where(regular, ix.ent * n_years + ix.yi, -1), n_ent * n_years)
    specs: list[tuple[str, int, str, float]] = []
    gids: list[int] = []
    sources: list[str] = []
    for env in plan.envelopes:
        e = cells.pos["entity"].get(env.entity, -1)
        where = src(f"rules.envelopes.{env.entity}", "")
        for y_i, y in enumerate(plan.years):
            for side, bounds in (("min", env.min), ("max", env.max)):
                if y in bounds:
                    specs.append((env.entity, y, side, bounds[y]))
                    gids.append(e * n_years + y_i if e >= 0 else -1)
                    sources.append(where)
    _add_grouped(lp, "envelope", order, start, gids, [GE if s[2] == "min" else LE for s in specs],
                 [s[3] for s in specs], 1.0,
                 Lazy(len(specs), lambda r: "envelope_{2}[{0},{1}]".format(*specs[r])), sources,
                 Lazy(len(specs), lambda r: (
                     f"{specs[r][0]} regular budget in {specs[r][1]} "
                     f"{'at least' if specs[r][2] == 'min' else 'at most'} {_fmt(specs[r][3])}")))

    senses: dict[str, Sense] = {"minimum": ">=", "exact": "==", "cap": "<="}
    words = {"minimum": "at least", "exact": "exactly", "cap": "at most"}
    for c in plan.commitments:
        base = ix.select(c.selection) & ix.funds(c.funds)
        c_order, c_start = _groups(np.where(base, ix.yi, -1), n_years)
        for y, amount in sorted(c.amounts.items()):
            y_i = plan.years.index(y) if y in plan.years else -1
            cols = c_order[c_start[y_i]:c_start[y_i + 1]] if y_i >= 0 else c_order[:0]
            lp.add_row(f"committed[{c.code},{y}]", "committed", senses[c.kind], amount, cols, 1.0,
                       src(f"rules.committed.{c.code}", ""),
                       f"{c.name}: {words[c.kind]} {_fmt(amount)} in {y}")

    for b in plan.bounds:
        in_funds = ix.funds(b.funds)
        sel = ix.select(b.selection) & in_funds
        where = src(f"rules.bounds.{b.code}", "")
        periods = plan.periods(b.period)
        period_of = np.full(n_years, -1, dtype=np.int64)
        for p_i, (_, ys) in enumerate(periods):
            period_of[[plan.years.index(y) for y in ys]] = p_i
        col_period = period_of[ix.yi]
        s_order, s_start = _groups(np.where(sel, col_period, -1), len(periods))
        b_order, b_start = _groups(np.where(in_funds, col_period, -1), len(periods))
        for p_i, (label, _) in enumerate(periods):
            cols = s_order[s_start[p_i]:s_start[p_i + 1]]
            for side, value, sense in (("min", b.min, ">="), ("max", b.max, "<=")):
                if value is not None:
                    lp.add_row(f"bound[{b.code},{label},{side}]", "bound", sense, value,  # type: ignore[arg-type]
                               cols, 1.0, where, f"{b.name}: {'at least' if side == 'min' else 'at most'}"
                               f" {_fmt(value)} in {label}")
            for side, share, sense in (("min_share", b.min_share, ">="),
                                       ("max_share", b.max_share, "<=")):
                if share is not None:
                    base_cols = b_order[b_start[p_i]:b_start[p_i + 1]]
                    coefs = np.where(sel[base_cols], 1.0, 0.0) - share
                    lp.add_row(f"bound[{b.code},{label},{side}]", "bound", sense, 0.0,  # type: ignore[arg-type]
                               base_cols, coefs, where,
                               f"{b.name}: {'at least' if side == 'min_share' else 'at most'} "
                               f"{share:.1%} of spending in {label}")

    if plan.stability is not None:
        _stability_rows(lp, plan, ix, n_ent, n_pri, n_years)

    # funds: all columns grouped by (fund, year)
    order, start = _groups(lp.fund * n_years + ix.yi, n_funds * n_years)
    fund_specs = [(k, fund, y_i, y) for k, fund in enumerate(plan.funds, start=1)
                  for y_i, y in enumerate(plan.years)]
    _add_grouped(lp, "fund", order, start, [k * n_years + y_i for k, _, y_i, _ in fund_specs],
                 [EQ if f.must_spend else LE for _, f, _, _ in fund_specs],
                 [f.available(y) for _, f, _, y in fund_specs],
                 np.array([1.0 + f.support_cost_rate for _, f, _, _ in fund_specs]),
                 Lazy(len(fund_specs), lambda r: f"fund[{fund_specs[r][1].code},{fund_specs[r][3]}]"),
                 [src(f"financial_plan.funds.{f.code}", "") for _, f, _, _ in fund_specs],
                 Lazy(len(fund_specs), lambda r: _fund_text(fund_specs[r][1], fund_specs[r][3])))

    # yearly bounds on mandate cells: all columns grouped by (cell, year)
    bounded = [i for i, mc in enumerate(plan.mandate) if mc.min or mc.max]
    if bounded:
        order, start = _groups(lp.cell * n_years + ix.yi, n_cells * n_years)
        cell_specs: list[tuple[str, int, str, float]] = []
        gids = []
        sources = []
        for i in bounded:
            mc = plan.mandate[i]
            key = "/".join(mc.cell)
            for y_i, y in enumerate(plan.years):
                for side, bounds in (("min", mc.min), ("max", mc.max)):
                    if y in bounds:
                        cell_specs.append((key, y, side, bounds[y]))
                        gids.append(i * n_years + y_i)
                        sources.append(src(f"mandate.{key}", ""))
        _add_grouped(lp, "cell", order, start, gids,
                     [GE if s[2] == "min" else LE for s in cell_specs], [s[3] for s in cell_specs],
                     1.0, Lazy(len(cell_specs), lambda r: "cell_{2}[{0},{1}]".format(*cell_specs[r])),
                     sources, Lazy(len(cell_specs), lambda r: (
                         f"{cell_specs[r][0]} in {cell_specs[r][1]} "
                         f"{'at least' if cell_specs[r][2] == 'min' else 'at most'} "
                         f"{_fmt(cell_specs[r][3])}")))

    _goal_programming(lp, ix)
    return lp


def _alloc_namer(plan: Plan, lp: LinearProgram) -> Callable[[int], str]:
    funds = plan.fund_codes

    def name(j: int) -> str:
        c = plan.mandate[lp.cell[j]].cell
        return f"x[{c.entity}/{c.priority}/{c.output},{int(lp.year[j])},{funds[lp.fund[j]]}]"
    return name


def _fund_text(fund: Fund, y: int) -> str:
    psc_note = (f", direct costs plus {fund.support_cost_rate:.0%} support costs"
                if fund.support_cost_rate else "")
    return (f"{fund.name} in {y}: {'exactly' if fund.must_spend else 'at most'} the "
            f"expected receipts of {_fmt(fund.available(y))} (pledge x {fund.receipt_rate:.0%}"
            f"{psc_note})")


def _add_grouped(lp: LinearProgram, rule: str, order: np.ndarray, start: np.ndarray,
                 gids: Sequence[int], senses: Sequence[int], rhs: Sequence[float],
                 coef: float | np.ndarray, names: Sequence[str], sources: Sequence[str],
                 texts: Sequence[str]) -> None:
    """One row per group id, its columns being the group's; coef is one number or one per row."""
    counts, index = _gather(order, start, np.asarray(gids, dtype=np.int64))
    value = (np.repeat(coef, counts) if isinstance(coef, np.ndarray)
             else np.full(len(index), float(coef)))
    lp.add_rows(rule, np.asarray(senses, dtype=np.int8), np.asarray(rhs, dtype=float), counts,
                index, value, names, sources, texts)


def _stability_rows(lp: LinearProgram, plan: Plan, ix: _Index, n_ent: int, n_pri: int,
                    n_years: int) -> None:
    """Per previous (entity, priority) and year: a floor and a cap, from one grouping."""
    assert plan.stability is not None
    m = plan.stability.max_change
    where = plan.sources.get("rules.stability", "")
    order, start = _groups(np.where(ix.regular, (ix.ent * n_pri + ix.pri) * n_years + ix.yi, -1),
                           max(n_ent * n_pri * n_years, 1))
    pairs = list(plan.stability.previous.items())
    ent_pos, pri_pos = ix.cells.pos["entity"], ix.cells.pos["priority"]
    pair_gid = np.array([(ent_pos[e] * n_pri + pri_pos[p]) * n_years
                         if e in ent_pos and p in pri_pos else -1 for (e, p), _ in pairs],
                        dtype=np.int64)
    prev = np.array([v for _, v in pairs], dtype=float)
    y_idx = np.arange(n_years)
    gid = np.where(pair_gid[:, None] >= 0, pair_gid[:, None] + y_idx[None, :], -1)
    gids = np.repeat(gid.ravel(), 2)
    rhs = np.stack([np.repeat(prev * (1 - m), n_years), np.repeat(prev * (1 + m), n_years)],
                   axis=1).ravel()
    senses = np.tile(np.array([GE, LE], dtype=np.int8), len(pairs) * n_years)
    years = plan.years

    def name(r: int) -> str:
        (e, p), _ = pairs[r // (2 * n_years)]
        return f"stability_{'min' if r % 2 == 0 else 'max'}[{e},{p},{years[(r // 2) % n_years]}]"

    def text(r: int) -> str:
        (e, p), v = pairs[r // (2 * n_years)]
        return (f"{e} on {p} in {years[(r // 2) % n_years]} no more than {m:.0%} "
                f"{'below' if r % 2 == 0 else 'above'} the previous {_fmt(v)}")

    _add_grouped(lp, "stability", order, start, gids.tolist(), senses.tolist(), rhs.tolist(), 1.0,
                 Lazy(len(rhs), name), where, Lazy(len(rhs), text))


def resources(plan: Plan, funds: Sequence[str], years: Sequence[int]) -> float:
    """Money the funds can spend over the years: ceilings plus expected receipts."""
    return sum(plan.available(f, y) for f in funds for y in years)


def _goal_programming(lp: LinearProgram, ix: _Index) -> None:
    plan = lp.plan
    by_level: dict[int, tuple[list[int], list[float]]] = {}
    for t in plan.targets:
        in_funds = ix.funds(t.funds)
        sel = ix.select(t.selection) & in_funds
        where = plan.sources.get(f"rules.targets.{t.code}", "")
        for label, ys in plan.periods(t.period):
            in_period = ix.years(ys)
            total = resources(plan, t.funds, ys)
            if t.share is not None:
                cols = np.flatnonzero(in_funds & in_period)
                coefs = np.where(sel[cols], 1.0, 0.0) - t.share
                rhs, scale = 0.0, max(t.share * total, 1.0)
                aim = f"{t.share:.1%} of spending"
            else:
                cols = np.flatnonzero(sel & in_period)
                coefs = np.ones(len(cols))
                rhs, scale = float(t.amount or 0.0), max(float(t.amount or 0.0), 1.0)
                aim = _fmt(rhs)
            over, under = lp.add_cols([f"excess[{t.code},{label}]", f"shortfall[{t.code},{label}]"])
            lp.add_row(f"target[{t.code},{label}]", "target", "==", rhs,
                       np.append(cols, [over, under]), np.append(coefs, [-1.0, 1.0]), where,
                       f"{t.name}: aim at {aim} in {label}")
            level_cols, level_coefs = by_level.setdefault(t.level, ([], []))
            level_cols.extend([int(under), int(over)])
            level_coefs.extend([t.shortfall_weight / scale, t.excess_weight / scale])
    for level in sorted(by_level):
        cols, coefs = by_level[level]
        lp.levels.append(Level(f"level {level}", np.array(cols), np.array(coefs),
                               f"weighted shortfall and excess against the level-{level} targets"))
    _reference_level(lp, ix)


def reference_distribution(plan: Plan, lp: LinearProgram, ix: _Index) -> np.ndarray:
    """A reference amount per allocation column, to break ties toward a stated distribution.

    The regular budget follows the previous allocation where one is given; otherwise every fund
    is spread over the priorities its earmark admits in proportion to their targets, and evenly
    over each priority's cells.
    """
    n = lp.n_alloc
    if n == 0:
        return np.zeros(0)
    n_years = len(plan.years)
    n_ent, n_pri = len(ix.cells.codes["entity"]), len(ix.cells.codes["priority"])
    weights = _priority_weights(plan, ix)
    w = np.array([weights.get(p, 0.0) for p in ix.cells.codes["priority"]])[ix.pri]
    group = lp.fund * n_years + ix.yi                      # (fund, year)
    sub = group * n_pri + ix.pri                           # (fund, year, priority)
    previous = plan.stability.previous if plan.stability is not None else {}
    if previous:
        prev = np.zeros((n_ent, n_pri))
        ent_pos, pri_pos = ix.cells.pos["entity"], ix.cells.pos["priority"]
        for (e, p), v in previous.items():
            if e in ent_pos and p in pri_pos:
                prev[ent_pos[e], pri_pos[p]] = v
        reg = ix.regular
        w = np.where(reg, prev[ix.ent, ix.pri], w)
        # regular columns share by (entity, priority), others by priority
        offset = len(plan.fund_codes) * n_years * n_pri    # above every (fund, year, priority) key
        sub = np.where(reg, (group * n_ent + ix.ent) * n_pri + ix.pri + offset, sub)
    _, inverse, counts = np.unique(sub, return_inverse=True, return_counts=True)
    w = w / counts[inverse]
    n_groups = len(plan.fund_codes) * n_years
    total = np.bincount(group, weights=w, minlength=n_groups)
    empty = total[group] <= 0
    if empty.any():
        w = np.where(empty, 1.0, w)
        total = np.bincount(group, weights=w, minlength=n_groups)
    available = np.array([plan.available(f, y) for f in plan.fund_codes for y in plan.years])
    return available[group] * w / total[group]


def _priority_weights(plan: Plan, ix: _Index) -> dict[str, float]:
    in_use = {ix.cells.codes["priority"][p] for p in np.unique(ix.pri)}
    present = [p.code for p in plan.priorities if p.code in in_use]
    weights = dict.fromkeys(present, 0.0)
    total = resources(plan, plan.fund_codes, plan.years) or 1.0
    for t in plan.targets:
        chosen = [p for p in present if t.selection.priorities is None
                  or p in t.selection.priorities]
        share = t.share if t.share is not None else float(t.amount or 0.0) / total
        for p in chosen:
            weights[p] += share / len(chosen)
    free = [p for p, w in weights.items() if w == 0.0]
    rest = max(0.0, 1.0 - sum(weights.values()))
    for p in free:
        weights[p] = rest / len(free) if rest > 0 else 0.0
    if sum(weights.values()) <= 0:
        weights = dict.fromkeys(present, 1.0)
    return weights


def _reference_level(lp: LinearProgram, ix: _Index) -> None:
    plan = lp.plan
    n = lp.n_alloc
    ref = reference_distribution(plan, lp, ix)
    names = lp.col_names
    above = lp.add_cols(Lazy(n, lambda j: f"above{names[j][1:]}"))
    below = lp.add_cols(Lazy(n, lambda j: f"below{names[j][1:]}"))
    index = np.stack([np.arange(n, dtype=np.int64), above, below], axis=1).ravel()
    lp.add_rows("reference", EQ, ref, np.full(n, 3, dtype=np.int64), index,
                np.tile(np.array([1.0, -1.0, 1.0]), n), Lazy(n, lambda j: f"reference{names[j][1:]}"),
                "", _repeat("distance to the reference distribution", n))
    total = max(resources(plan, plan.fund_codes, plan.years), 1.0)
    lp.levels.append(Level("reference", np.concatenate([above, below]),
                           np.full(2 * n, 1.0 / total),
                           "distance to the reference distribution (ties broken toward it)"))


class PulpModel:
    """The LP as a PuLP problem, solved level by level: the plain path (CBC, PuLP's HiGHS)."""

    def __init__(self, lp: LinearProgram):
        import pulp

        self.lp = lp
        self.problem = pulp.LpProblem(lp.plan.name or "alloc", pulp.LpMinimize)
        self.vars = [self.problem.add_variable(f"c{j}", lowBound=0) for j in range(lp.n_cols)]
        self.constraints: list[pulp.LpConstraint] = []
        for i, row in enumerate(lp.rows):
            self.constraints.append(self._add(f"r{i}", row.sense, row.rhs, row.cols, row.coefs))
        self.level_bounds: list[pulp.LpConstraint] = []

    def _add(self, name: str, sense: str, rhs: float, cols: np.ndarray,
             coefs: np.ndarray) -> pulp.LpConstraint:
        import pulp

        senses = {"<=": pulp.LpConstraintLE, ">=": pulp.LpConstraintGE, "==": pulp.LpConstraintEQ}
        expr = pulp.LpAffineExpression([(self.vars[c], float(a)) for c, a in
                                        zip(cols.tolist(), coefs.tolist(), strict=True)])
        constraint = pulp.LpConstraint(expr, senses[sense], name=name, rhs=rhs)
        self.problem.addConstraint(constraint)
        return constraint

    def set_level(self, k: int) -> None:
        import pulp

        level = self.lp.levels[k]
        self.problem.setObjective(pulp.LpAffineExpression(
            [(self.vars[c], float(a)) for c, a in zip(level.cols.tolist(),
                                                      level.solver_coefs.tolist(), strict=True)]))

    def hold_level(self, k: int, optimum: float, tolerance: float) -> None:
        """Keep later levels on level k's optimal face.

        By complementary slackness the optimal solutions are the feasible ones with every column
        of positive reduced cost at zero and every row of non-zero dual active: fixing those keeps
        the optimum exactly, where a bound on the objective alone would let later levels drift by
        the tolerance. The bound is added as well, as a safety net.
        """
        import pulp

        level = self.lp.levels[k]
        threshold = face_threshold(level)
        for var in self.vars:
            if (var.dj is not None and var.dj > threshold and var.varValue is not None
                    and abs(var.varValue) <= 1e-9):
                var.upBound = 0.0
        for constraint in (*self.constraints, *self.level_bounds):
            if (constraint.pi is not None and abs(constraint.pi) > threshold
                    and constraint.sense != pulp.LpConstraintEQ
                    and constraint.slack is not None and abs(constraint.slack) <= 1e-7):
                constraint.sense = pulp.LpConstraintEQ
        self.level_bounds.append(self._add(f"level{k}", "<=", level_bound(optimum, tolerance),
                                           level.cols, level.coefs))

    def solve(self, solver: object) -> None:
        self.problem.solve(solver)

    def values(self) -> np.ndarray:
        return np.array([v.varValue if v.varValue is not None else np.nan for v in self.vars])

    def duals(self) -> np.ndarray:
        return np.array([c.pi if c.pi is not None else np.nan for c in self.constraints])

    @property
    def solver_model(self) -> object:
        """The solver's own model object after an in-process solve (e.g. highspy.Highs)."""
        return getattr(self.problem, "solverModel", None)

    @property
    def pulp_status(self) -> tuple[int, int]:
        return self.problem.status, self.problem.sol_status


def face_threshold(level: Level) -> float:
    """Reduced costs and duals above this are taken as non-zero when holding a level's face.

    Duals are in the units of `Level.solver_coefs` (largest cost 1).
    """
    return 1e-9


def level_bound(optimum: float, tolerance: float) -> float:
    """The bound later levels keep on an earlier level's objective."""
    return optimum * (1 + tolerance) + tolerance


def make_solver(name: str, msg: bool, time_limit: float | None, **options: object) -> object:
    """A PuLP solver object by its PuLP name; which one and how to read it is solve's business."""
    import pulp

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "PULP_CBC_CMD is deprecated", DeprecationWarning)
        return pulp.getSolver(name, msg=msg, timeLimit=time_limit, **options)


def available_solvers() -> list[str]:
    import pulp

    return pulp.listSolvers(onlyAvailable=True)
