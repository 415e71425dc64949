"""The linear program of a plan: one function per rule group, each adding its rows.

`build(plan)` makes the allocation columns (cell x year x fund, where the fund admits the cell),
then calls, in this order, `ceiling`, `envelopes`, `committed`, `bounds`, `stability`, `funds`,
`mandate_cells`, `requirements` (funded-requirement columns, their rows and the value level),
`targets` (rows and deviation columns), `goal_levels` (the value level and the target levels in
order), `tie_breaks` (the strictly convex last levels) and `reference` (their linear stand-in:
rows, columns and level): the order, names, coefficients and levels of docs/formulation.md,
sections 3 to 5. Each rule function takes the program, the plan and the
`Index` of the columns.

Families of rows (per entity and year, per cell, per column, ...) are cut from column indices
grouped by one sort, never from a mask over all columns per row, which is quadratic in the size of
the model. Names and sentences are made when first asked for: a solve needs none of them. The
rule groups that read nothing a ranging probe or a reduction option changes (envelopes to cells)
are built once for the same plan parts and their rows added again to each variant's program
(`_kept_rows`): explain builds hundreds of variants.

This module knows no solver: the program (`alloc.lp.program`) is handed to one by
`alloc.lp.backends`. The names of `alloc.lp.program` are importable from here as well.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from alloc.lp.program import (
    EQ,
    GE,
    LE,
    RULE_GROUPS,
    SENSES,
    STAND_IN,
    TIE_BREAK,
    Lazy,
    Level,
    LinearProgram,
    Row,
    Sense,
    dot,
    face_threshold,
    level_bound,
    repeated,
)
from alloc.model.domain import Fund, Plan, Selection
from alloc.model.size import BYTES_PER_COLUMN, fits_in_memory

__all__ = [
    "EQ", "GE", "LE", "RULE_GROUPS", "SENSES", "Index", "Lazy", "Level", "LinearProgram", "Row",
    "Sense", "bounds", "build", "ceiling", "check_fits", "committed", "envelopes",
    "face_threshold", "funds", "goal_levels", "level_bound", "mandate_cells", "reference",
    "reference_distribution", "requirements", "resources", "stability", "targets",
    "tie_breaks",
]

T = TypeVar("T")
LevelCosts = dict[int, tuple[list[int], list[float]]]
"""Per target level: the deviation columns and their costs, in the order the targets add them."""


def build(plan: Plan) -> LinearProgram:
    """The LP of a plan: every rule group as named rows, and the goal-programming levels."""
    cells = _Cells(plan)
    admits = _admits(plan, cells)
    check_fits(plan, admits=admits)
    lp = _allocation_columns(plan, admits)
    ix = Index(plan, lp, cells)
    ceiling(lp, plan, ix)
    _kept_rows(envelopes, lp, plan, ix, plan.envelopes)
    _kept_rows(committed, lp, plan, ix, plan.commitments)
    _kept_rows(bounds, lp, plan, ix, plan.bounds, plan.biennia)
    _kept_rows(stability, lp, plan, ix, plan.stability)
    _kept_rows(funds, lp, plan, ix)
    _kept_rows(mandate_cells, lp, plan, ix)
    funded = requirements(lp, plan, ix)
    goal_levels(lp, plan, funded, targets(lp, plan, ix))
    ref = reference_distribution(plan, lp, ix)
    tie_breaks(lp, funded, ref)
    reference(lp, plan, ref)
    return lp


def check_fits(plan: Plan, copies: int = 1, admits: np.ndarray | None = None) -> None:
    """Refuse (ModelTooLarge) a plan whose LP would not fit in the memory available, counting its
    columns exactly; `copies`: processes that each build it (a sweep's workers). The last of the
    guards of alloc.model.size: the earlier ones refuse what is surely too large before reading it all."""
    if admits is None:
        admits = _admits(plan, _Cells(plan))
    fits_in_memory(int(admits.sum()) * len(plan.years), len(plan.mandate), len(plan.years),
                   len(plan.funds), BYTES_PER_COLUMN, copies)


class _Kept(Generic[T]):
    """Values made once for the same objects, a few at a time: kept by the objects' identity
    (checked, not only their ids, and the objects held so that no other takes their ids).

    Why: `alloc explain` and the reduction options build hundreds of variants of one plan (a
    ceiling or a target moved), which share every other part of it by identity."""

    def __init__(self, size: int = 8):
        self._size = size
        self._items: dict[tuple[int, ...], tuple[tuple[object, ...], T]] = {}
        self._lock = threading.Lock()   # explain builds variants on several threads

    def get(self, parts: tuple[object, ...], make: Callable[[], T]) -> T:
        key = tuple(id(p) for p in parts)
        with self._lock:
            kept = self._items.get(key)
        if kept is not None and all(a is b for a, b in zip(kept[0], parts, strict=True)):
            return kept[1]
        value = make()
        with self._lock:
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = (parts, value)
        return value


_ROWS: _Kept[LinearProgram] = _Kept(32)
"""Rule groups' rows (`_kept_rows`), some five plans' worth."""
KEEP_ROWS_COLUMNS = 100_000
"""Programs up to this many allocation columns keep their rule groups' rows for the next build
(a copy beside the program's own): beyond, what is built is solved once, not probed in hundreds
of variants."""


def _kept_rows(group: Callable[[LinearProgram, Plan, Index], None], lp: LinearProgram,
               plan: Plan, ix: Index, *parts: object) -> None:
    """The rows of a rule group that reads nothing of the plan but its columns (mandate, years,
    funds), its sources and `parts`: made once for the same objects, then the same rows added
    again (at 1e4 columns, a variant's build takes half the time)."""
    if lp.n_alloc > KEEP_ROWS_COLUMNS:
        group(lp, plan, ix)
        return

    def make() -> LinearProgram:
        rows = LinearProgram(plan, lp.cell, lp.year, lp.fund)
        group(rows, plan, ix)
        rows.matrix()   # joined before it is shared
        return rows

    lp.add_rows_of(_ROWS.get((group, plan.mandate, plan.years, plan.funds, plan.sources, *parts),
                             make))


# --- the columns and their index ------------------------------------------------------------------

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


def _admits(plan: Plan, cells: _Cells) -> np.ndarray:
    """Per mandate cell and fund (the regular budget first): may the fund pay for the cell?"""
    admits = np.ones((len(plan.mandate), len(plan.fund_codes)), dtype=bool)
    for k, fund in enumerate(plan.funds, start=1):
        admits[:, k] = cells.mask(fund.earmark)
    return admits


def _allocation_columns(plan: Plan, admits: np.ndarray) -> LinearProgram:
    """An LP with the allocation columns only, in the order cell, year, fund."""
    n_cells, n_years, n_funds = len(plan.mandate), len(plan.years), len(plan.fund_codes)
    # np.nonzero walks the grid in C order
    i, yi, k = np.nonzero(np.broadcast_to(admits[:, None, :], (n_cells, n_years, n_funds)))
    years_arr = np.asarray(plan.years, dtype=np.int64)
    lp = LinearProgram(plan, i.astype(np.int64), years_arr[yi], k.astype(np.int64))
    lp.add_cols(Lazy(lp.n_alloc, _alloc_namer(plan, lp)))
    return lp


def _alloc_namer(plan: Plan, lp: LinearProgram) -> Callable[[int], str]:
    funds = plan.fund_codes

    def name(j: int) -> str:
        c = plan.mandate[lp.cell[j]].cell
        return f"x[{c.entity}/{c.priority}/{c.output},{int(lp.year[j])},{funds[lp.fund[j]]}]"
    return name


class Index:
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
        self.n_cells, self.n_years = len(plan.mandate), len(plan.years)
        self.n_funds = len(plan.fund_codes)
        self.n_ent, self.n_pri = len(cells.codes["entity"]), len(cells.codes["priority"])

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


def _add_grouped(lp: LinearProgram, rule: str, order: np.ndarray, start: np.ndarray,
                 gids: Sequence[int], senses: Sequence[int], rhs: Sequence[float],
                 coef: float | np.ndarray, names: Sequence[str], sources: Sequence[str] | str,
                 texts: Sequence[str]) -> None:
    """One row per group id, its columns being the group's; coef is one number or one per row."""
    counts, index = _gather(order, start, np.asarray(gids, dtype=np.int64))
    value = (np.repeat(coef, counts) if isinstance(coef, np.ndarray)
             else np.full(len(index), float(coef)))
    lp.add_rows(rule, np.asarray(senses, dtype=np.int8), np.asarray(rhs, dtype=float), counts,
                index, value, names, sources, texts)


def _fmt(amount: float) -> str:
    return f"{amount:,.0f}"


def _at_least(side: str) -> str:
    return "at least" if side.startswith("min") else "at most"


# --- the rule groups, in model order --------------------------------------------------------------

def ceiling(lp: LinearProgram, plan: Plan, ix: Index) -> None:
    """Per ceiling period: regular spending, less the support costs earned on the funds' spending,
    equals (or stays within) the fixed ceiling."""
    psc = np.array([0.0, *(f.support_cost_rate for f in plan.funds)])[ix.fund]
    source = plan.sources.get("financial_plan.revenue", "financial-plan.toml: revenue")
    verb = "equals" if plan.balance_budget else "stays within"
    # the ceiling as defined everywhere (CeilingParts): the fixed part is the row's bound
    lead, extra = (("the ceiling: revenue lines, growth rules and cuts of ",
                    " plus programme support costs earned") if (psc > 0).any()
                   else ("the ceiling of ", ""))
    for label, ys, amount in plan.ceiling_periods():
        cols = np.flatnonzero((ix.regular | (psc > 0)) & ix.years(ys))
        coefs = np.where(ix.regular, 1.0, -psc)[cols]
        lp.add_row(f"ceiling[{label}]", "ceiling", "==" if plan.balance_budget else "<=", amount,
                   cols, coefs, source,
                   f"regular-budget spending in {label} {verb} {lead}{_fmt(amount)}{extra}")


def envelopes(lp: LinearProgram, plan: Plan, ix: Index) -> None:
    """Per envelope and year: a floor and a cap on the entity's regular spending, where given."""
    n_years = ix.n_years
    order, start = _groups(np.where(ix.regular, ix.ent * n_years + ix.yi, -1), ix.n_ent * n_years)
    specs: list[tuple[str, int, str, float]] = []
    gids: list[int] = []
    sources: list[str] = []
    for env in plan.envelopes:
        e = ix.cells.pos["entity"].get(env.entity, -1)
        where = plan.sources.get(f"rules.envelopes.{env.entity}", "")
        for y_i, y in enumerate(plan.years):
            for side, limits in (("min", env.min), ("max", env.max)):
                if y in limits:
                    specs.append((env.entity, y, side, limits[y]))
                    gids.append(e * n_years + y_i if e >= 0 else -1)
                    sources.append(where)
    _add_grouped(lp, "envelope", order, start, gids, [GE if s[2] == "min" else LE for s in specs],
                 [s[3] for s in specs], 1.0,
                 Lazy(len(specs), lambda r: "envelope_{2}[{0},{1}]".format(*specs[r])), sources,
                 Lazy(len(specs), lambda r: (
                     f"{specs[r][0]} regular budget in {specs[r][1]} "
                     f"{_at_least(specs[r][2])} {_fmt(specs[r][3])}")))


COMMITTED_SENSES: dict[str, Sense] = {"minimum": ">=", "exact": "==", "cap": "<="}
_COMMITTED_WORDS = {"minimum": "at least", "exact": "exactly", "cap": "at most"}


def committed(lp: LinearProgram, plan: Plan, ix: Index) -> None:
    """Per committed cost and year it names: its cells' spending of its funds, at least, exactly
    or at most the amount."""
    for c in plan.commitments:
        base = ix.select(c.selection) & ix.funds(c.funds)
        order, start = _groups(np.where(base, ix.yi, -1), ix.n_years)
        for y, amount in sorted(c.amounts.items()):
            y_i = plan.years.index(y) if y in plan.years else -1
            cols = order[start[y_i]:start[y_i + 1]] if y_i >= 0 else order[:0]
            lp.add_row(f"committed[{c.code},{y}]", "committed", COMMITTED_SENSES[c.kind], amount,
                       cols, 1.0, plan.sources.get(f"rules.committed.{c.code}", ""),
                       f"{c.name}: {_COMMITTED_WORDS[c.kind]} {_fmt(amount)} in {y}")


def bounds(lp: LinearProgram, plan: Plan, ix: Index) -> None:
    """Per bound and period: floors and caps on its cells' spending of its funds, as amounts or as
    shares of those funds' spending in the period."""
    for b in plan.bounds:
        in_funds = ix.funds(b.funds)
        sel = ix.select(b.selection) & in_funds
        where = plan.sources.get(f"rules.bounds.{b.code}", "")
        periods = plan.periods(b.period)
        period_of = np.full(ix.n_years, -1, dtype=np.int64)
        for p_i, (_, ys) in enumerate(periods):
            period_of[[plan.years.index(y) for y in ys]] = p_i
        col_period = period_of[ix.yi]
        s_order, s_start = _groups(np.where(sel, col_period, -1), len(periods))
        b_order, b_start = _groups(np.where(in_funds, col_period, -1), len(periods))
        amounts: tuple[tuple[str, float | None, Sense], ...] = (("min", b.min, ">="),
                                                               ("max", b.max, "<="))
        shares: tuple[tuple[str, float | None, Sense], ...] = (("min_share", b.min_share, ">="),
                                                              ("max_share", b.max_share, "<="))
        for p_i, (label, _) in enumerate(periods):
            cols = s_order[s_start[p_i]:s_start[p_i + 1]]
            for side, value, sense in amounts:
                if value is not None:
                    lp.add_row(f"bound[{b.code},{label},{side}]", "bound", sense, value, cols, 1.0,
                               where, f"{b.name}: {_at_least(side)} {_fmt(value)} in {label}")
            for side, share, sense in shares:
                if share is not None:
                    base_cols = b_order[b_start[p_i]:b_start[p_i + 1]]
                    coefs = np.where(sel[base_cols], 1.0, 0.0) - share
                    lp.add_row(f"bound[{b.code},{label},{side}]", "bound", sense, 0.0, base_cols,
                               coefs, where,
                               f"{b.name}: {_at_least(side)} {share:.1%} of spending in {label}")


def stability(lp: LinearProgram, plan: Plan, ix: Index) -> None:
    """Per previous (entity, priority) and year, when [stability] is given: a floor and a cap on
    the pair's regular spending around the previous allocation, from one grouping."""
    if plan.stability is None:
        return
    m = plan.stability.max_change
    n_pri, n_years = ix.n_pri, ix.n_years
    where = plan.sources.get("rules.stability", "")
    order, start = _groups(np.where(ix.regular, (ix.ent * n_pri + ix.pri) * n_years + ix.yi, -1),
                           max(ix.n_ent * n_pri * n_years, 1))
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


def funds(lp: LinearProgram, plan: Plan, ix: Index) -> None:
    """Per extrabudgetary fund and year: its spending plus support costs, at most (or exactly,
    when it must be spent) the expected receipts."""
    n_years = ix.n_years
    order, start = _groups(ix.fund * n_years + ix.yi, ix.n_funds * n_years)
    specs = [(k, fund, y_i, y) for k, fund in enumerate(plan.funds, start=1)
             for y_i, y in enumerate(plan.years)]
    _add_grouped(lp, "fund", order, start, [k * n_years + y_i for k, _, y_i, _ in specs],
                 [EQ if f.must_spend else LE for _, f, _, _ in specs],
                 [f.available(y) for _, f, _, y in specs],
                 np.array([1.0 + f.support_cost_rate for _, f, _, _ in specs]),
                 Lazy(len(specs), lambda r: f"fund[{specs[r][1].code},{specs[r][3]}]"),
                 [plan.sources.get(f"financial_plan.funds.{f.code}", "") for _, f, _, _ in specs],
                 Lazy(len(specs), lambda r: _fund_text(specs[r][1], specs[r][3])))


def _fund_text(fund: Fund, y: int) -> str:
    psc_note = (f", direct costs plus {fund.support_cost_rate:.0%} support costs"
                if fund.support_cost_rate else "")
    return (f"{fund.name} in {y}: {'exactly' if fund.must_spend else 'at most'} the "
            f"expected receipts of {_fmt(fund.available(y))} (pledge x {fund.receipt_rate:.0%}"
            f"{psc_note})")


def mandate_cells(lp: LinearProgram, plan: Plan, ix: Index) -> None:
    """Per mandate cell with yearly bounds and year: a floor and a cap on its spending of all
    funds, where given."""
    bounded = [c for c, mc in enumerate(plan.mandate) if mc.min or mc.max]
    if not bounded:
        return
    n_years = ix.n_years
    order, start = _groups(ix.cell * n_years + ix.yi, ix.n_cells * n_years)
    specs: list[tuple[str, int, str, float]] = []
    gids: list[int] = []
    sources: list[str] = []
    for c in bounded:
        mc = plan.mandate[c]
        key = "/".join(mc.cell)
        for y_i, y in enumerate(plan.years):
            for side, limits in (("min", mc.min), ("max", mc.max)):
                if y in limits:
                    specs.append((key, y, side, limits[y]))
                    gids.append(c * n_years + y_i)
                    sources.append(plan.sources.get(f"mandate.{key}", ""))
    _add_grouped(lp, "cell", order, start, gids, [GE if s[2] == "min" else LE for s in specs],
                 [s[3] for s in specs], 1.0,
                 Lazy(len(specs), lambda r: "cell_{2}[{0},{1}]".format(*specs[r])), sources,
                 Lazy(len(specs), lambda r: (
                     f"{specs[r][0]} in {specs[r][1]} {_at_least(specs[r][2])} "
                     f"{_fmt(specs[r][3])}")))


class Funded:
    """The funded-requirement columns: per requirement of the plan (in its order), its column,
    amount and value per unit funded."""

    def __init__(self, cols: np.ndarray, amount: np.ndarray, value: np.ndarray):
        self.cols, self.amount, self.value = cols, amount, value

    def __len__(self) -> int:
        return len(self.cols)


def requirements(lp: LinearProgram, plan: Plan, ix: Index) -> Funded:
    """Per requirement (cell, year, tranche): a column f, the part of it funded, with a row f <=
    its amount; per cell and year with requirements, a row: the funded parts together at most the
    cell's spending of all funds."""
    reqs = plan.requirements
    n = len(reqs)
    if not n:
        return Funded(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    arrays = _requirement_arrays(plan)
    keys, amount, value, gid = arrays.keys, arrays.amount, arrays.value, arrays.cell_year
    cols = lp.add_cols(Lazy(n, lambda i: f"funded[{keys[i]},{reqs[i].year},{reqs[i].tranche}]"))
    tranche_name = {t.code: t.name for t in plan.valuation.tranches}
    sources = plan.sources

    def source(i: int) -> str:
        r = reqs[i]
        own = f"requirements.{keys[i]}/{r.tranche}"
        return sources.get(f"{own}/{r.year}") or sources.get(f"{own}/*", "requirements.csv")

    lp.add_rows("requirement", LE, amount, np.ones(n, np.int64), cols, np.ones(n),
                Lazy(n, lambda i: f"requirement[{keys[i]},{reqs[i].year},{reqs[i].tranche}]"),
                Lazy(n, source),
                Lazy(n, lambda i: (f"{keys[i]} in {reqs[i].year}, "
                                   f"{tranche_name[reqs[i].tranche]}: funded at most the "
                                   f"requirement of {_fmt(reqs[i].amount)}")))
    n_years = ix.n_years
    groups, first = np.unique(gid, return_index=True)
    order, start = _groups(ix.cell * n_years + ix.yi, ix.n_cells * n_years)
    counts_x, index_x = _gather(order, start, groups)
    in_group = np.searchsorted(groups, gid)
    f_order = np.argsort(in_group, kind="stable")
    counts_f = np.bincount(in_group, minlength=len(groups))
    g_start_x = np.cumsum(counts_x) - counts_x
    g_start_f = np.cumsum(counts_f) - counts_f
    counts = counts_x + counts_f
    index = np.empty(int(counts.sum()), np.int64)
    coefs = np.empty(len(index))
    out_start = np.cumsum(counts) - counts
    pos_f = np.repeat(out_start, counts_f) + (np.arange(n) - np.repeat(g_start_f, counts_f))
    index[pos_f], coefs[pos_f] = cols[f_order], 1.0
    pos_x = (np.repeat(out_start + counts_f, counts_x)
             + (np.arange(len(index_x)) - np.repeat(g_start_x, counts_x)))
    index[pos_x], coefs[pos_x] = index_x, -1.0
    where = [keys[i] for i in first.tolist()]
    years = [reqs[i].year for i in first.tolist()]
    model_file = f"models/{plan.model}/requirements.csv"
    lp.add_rows("requirement", LE, np.zeros(len(groups)), counts, index, coefs,
                Lazy(len(groups), lambda g: f"funded[{where[g]},{years[g]}]"), model_file,
                Lazy(len(groups), lambda g: (f"requirements of {where[g]} funded in {years[g]} "
                                             "within its spending of all funds")))
    lp.funded = cols
    return Funded(cols, amount, value)


@dataclass(frozen=True)
class _RequirementArrays:
    """What the requirements give the program, whatever else the plan states."""

    keys: list[str]
    """Per requirement: its cell as entity/priority/output."""
    amount: np.ndarray
    value: np.ndarray
    cell_year: np.ndarray
    """Per requirement: its (mandate cell, year) as cell x years + year."""
    need: np.ndarray
    """Per (mandate cell, year), in the same numbering: the requirements' total."""


_REQUIREMENT_ARRAYS: _Kept[_RequirementArrays] = _Kept()


def _requirement_arrays(plan: Plan) -> _RequirementArrays:
    """The requirements' arrays, made once for the same requirements, mandate and years (reading
    every requirement was a third of each build of a variant)."""
    return _REQUIREMENT_ARRAYS.get((plan.requirements, plan.mandate, plan.years),
                                   lambda: _make_requirement_arrays(plan))


def _make_requirement_arrays(plan: Plan) -> _RequirementArrays:
    reqs = plan.requirements
    n_years = len(plan.years)
    cell_pos = {m.cell: c for c, m in enumerate(plan.mandate)}
    year_pos = {y: i for i, y in enumerate(plan.years)}
    cell_year = np.array([cell_pos[r.cell] * n_years + year_pos[r.year] for r in reqs], np.int64)
    amount = np.array([r.amount for r in reqs], dtype=float)
    need = np.bincount(cell_year, weights=amount, minlength=len(plan.mandate) * n_years)
    arrays = _RequirementArrays(["/".join(r.cell) for r in reqs], amount,
                                np.array([r.value for r in reqs], dtype=float), cell_year, need)
    for array in (cell_year, amount, need, arrays.value):
        array.flags.writeable = False   # shared by every program built from these objects
    return arrays


def goal_levels(lp: LinearProgram, plan: Plan, funded: Funded, costs: LevelCosts) -> None:
    """The value level (where there are requirements) and one level per target level, by level
    number, the value level before the targets of its number."""
    levels: list[tuple[int, int, Level]] = []
    if len(funded):
        levels.append((plan.valuation.level, 0, Level(
            "value", funded.cols, -funded.value,
            "the weighted unfunded requirement (the value of the requirements left unfunded)",
            constant=dot(funded.value, funded.amount))))
    for level in sorted(costs):
        cols, coefs = costs[level]
        levels.append((level, 1, Level(
            f"level {level}", np.array(cols), np.array(coefs),
            f"weighted shortfall and excess against the level-{level} targets")))
    lp.levels.extend(level for *_, level in sorted(levels, key=lambda t: t[:2]))


def tie_breaks(lp: LinearProgram, funded: Funded, ref: np.ndarray) -> None:
    """The strictly convex last levels that make the optimum unique: `shares` (the funded parts
    closest to their requirements in proportion to their size: equal-value tranches cut in
    proportion), then `unique` (the allocation closest to the reference distribution, relative to
    each amount of it: how funds share a cell and where money beyond the requirements goes)."""
    if len(funded):
        lp.levels.append(Level(
            "shares", funded.cols, -np.ones(len(funded)),
            "unfunded requirements shared in proportion to their size",
            constant=float(funded.amount.sum()) / 2, quadratic=1.0 / funded.amount,
            role=TIE_BREAK))
    n = lp.n_alloc
    if n:
        weight = 1.0 / np.maximum(ref, max(float(ref.mean()) * 0.01, 1e-6))
        lp.levels.append(Level(
            "unique", np.arange(n, dtype=np.int64), -ref * weight,
            "relative distance to the reference distribution (the unique allocation)",
            constant=dot(ref, ref * weight) / 2, quadratic=weight, role=TIE_BREAK))


def resources(plan: Plan, funds: Sequence[str], years: Sequence[int],
              available: Callable[[str, int], float] | None = None) -> float:
    """Money the funds can spend over the years: ceilings plus expected receipts (`available`:
    a fund's in a year, when the caller keeps them; `plan.available` otherwise)."""
    money = available or plan.available
    return sum(money(f, y) for f in funds for y in years)


def targets(lp: LinearProgram, plan: Plan, ix: Index) -> LevelCosts:
    """Per target (by level, then code) and period: a row that its excess and shortfall columns
    balance; returns the deviations' costs per level, each divided by the target's normaliser."""
    costs: LevelCosts = {}
    kept: dict[tuple[str, int], float] = {}    # each fund-year once (a ceiling sums lines)

    def available(f: str, y: int) -> float:
        if (f, y) not in kept:
            kept[f, y] = plan.available(f, y)
        return kept[f, y]

    for t in plan.targets:
        in_funds = ix.funds(t.funds)
        sel = ix.select(t.selection) & in_funds
        where = plan.sources.get(f"rules.targets.{t.code}", "")
        for label, ys in plan.periods(t.period):
            in_period = ix.years(ys)
            total = resources(plan, t.funds, ys, available)
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
            level_cols, level_coefs = costs.setdefault(t.level, ([], []))
            level_cols.extend([int(under), int(over)])
            level_coefs.extend([t.shortfall_weight / scale, t.excess_weight / scale])
    return costs


def reference(lp: LinearProgram, plan: Plan, ref: np.ndarray) -> None:
    """The linear stand-in of the tie-breaks: per allocation column, a row x - above + below = its
    reference amount, and the last level, the distance to the reference distribution over total
    resources. It breaks most ties, not all: solved only where quadratic levels cannot be."""
    n = lp.n_alloc
    names = lp.col_names
    above = lp.add_cols(Lazy(n, lambda j: f"above{names[j][1:]}"))
    below = lp.add_cols(Lazy(n, lambda j: f"below{names[j][1:]}"))
    index = np.stack([np.arange(n, dtype=np.int64), above, below], axis=1).ravel()
    lp.add_rows("reference", EQ, ref, np.full(n, 3, dtype=np.int64), index,
                np.tile(np.array([1.0, -1.0, 1.0]), n), Lazy(n, lambda j: f"reference{names[j][1:]}"),
                "", repeated("distance to the reference distribution", n))
    total = max(resources(plan, plan.fund_codes, plan.years), 1.0)
    lp.levels.append(Level("reference", np.concatenate([above, below]),
                           np.full(2 * n, 1.0 / total),
                           "distance to the reference distribution (ties broken toward it)",
                           role=STAND_IN))


def reference_distribution(plan: Plan, lp: LinearProgram, ix: Index) -> np.ndarray:
    """A reference amount per allocation column, to break ties toward a stated distribution.

    With costed requirements, every fund is spread over the cells its earmark admits in
    proportion to their requirements in the year. Without, the regular budget follows the
    previous allocation where one is given; otherwise every fund is spread over the priorities
    its earmark admits in proportion to their targets, and evenly over each priority's cells.
    """
    n = lp.n_alloc
    if n == 0:
        return np.zeros(0)
    if plan.requirements:
        return _by_requirements(plan, lp, ix)
    n_years, n_ent, n_pri = ix.n_years, ix.n_ent, ix.n_pri
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
    return _over_funds(plan, lp, ix, w)


def _by_requirements(plan: Plan, lp: LinearProgram, ix: Index) -> np.ndarray:
    """Each fund's money in a year over the cells it admits, in proportion to their requirements
    (evenly where it admits no cell with requirements)."""
    return _over_funds(plan, lp, ix, _requirement_arrays(plan).need[ix.cell * ix.n_years + ix.yi])


def _over_funds(plan: Plan, lp: LinearProgram, ix: Index, w: np.ndarray) -> np.ndarray:
    """Each fund's money in a year over its columns in proportion to the weights `w` (evenly
    where a fund's weights in a year are all zero)."""
    n_years = ix.n_years
    group = lp.fund * n_years + ix.yi
    n_groups = len(plan.fund_codes) * n_years
    total = np.bincount(group, weights=w, minlength=n_groups)
    empty = total[group] <= 0
    if empty.any():
        w = np.where(empty, 1.0, w)
        total = np.bincount(group, weights=w, minlength=n_groups)
    available = np.array([plan.available(f, y) for f in plan.fund_codes for y in plan.years])
    return available[group] * w / total[group]


def _priority_weights(plan: Plan, ix: Index) -> dict[str, float]:
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
