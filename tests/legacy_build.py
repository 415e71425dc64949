"""The builder as it was before issue 6 (a boolean mask over all columns per row), kept as an oracle.

The vectorised builder in alloc/build.py must produce the same rows, in the same order, with the
same names, columns and coefficients; tests/test_fast_path.py compares the two.

Original docstring: the linear program of DESIGN.md section 2, built from a Plan.

`build` turns a plan into solver-neutral rows and columns (numpy index arrays, each row named by
us from domain keys, with its rule group, its source in the user's files and a sentence in plain
words); `PulpModel` turns those into a PuLP problem and runs the pre-emptive goal-programming
levels one objective at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from alloc.model.domain import REGULAR, Plan, Selection

Sense = Literal["<=", ">=", "=="]
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


@dataclass
class LinearProgram:
    """Rows and columns of the allocation LP; allocation columns come first."""

    plan: Plan
    cell: np.ndarray
    """Per allocation column: index into plan.mandate."""
    year: np.ndarray
    fund: np.ndarray
    """Per allocation column: index into plan.fund_codes."""
    col_names: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)

    @property
    def n_alloc(self) -> int:
        return len(self.cell)

    @property
    def n_cols(self) -> int:
        return len(self.col_names)

    def add_cols(self, names: Sequence[str]) -> np.ndarray:
        start = len(self.col_names)
        self.col_names.extend(names)
        return np.arange(start, len(self.col_names))

    def add_row(self, name: str, rule: str, sense: Sense, rhs: float, cols: np.ndarray,
                coefs: np.ndarray | float, source: str, text: str) -> None:
        cols = np.asarray(cols, dtype=np.int64)
        coefs = np.broadcast_to(np.asarray(coefs, dtype=float), cols.shape).copy()
        self.rows.append(Row(name, rule, sense, float(rhs), cols, coefs, source, text))


def _fmt(amount: float) -> str:
    return f"{amount:,.0f}"


class _Index:
    """Masks over the allocation columns by domain key, computed once."""

    def __init__(self, plan: Plan, lp: LinearProgram):
        self.plan = plan
        cells = [m.cell for m in plan.mandate]
        self.entity = np.array([c.entity for c in cells], dtype=object)[lp.cell]
        self.priority = np.array([c.priority for c in cells], dtype=object)[lp.cell]
        self.output = np.array([c.output for c in cells], dtype=object)[lp.cell]
        self.year = lp.year
        self.fund = np.array(plan.fund_codes, dtype=object)[lp.fund]
        self.cell = lp.cell
        self._all = np.ones(len(lp.cell), dtype=bool)

    def select(self, sel: Selection) -> np.ndarray:
        mask = self._all.copy()
        for codes, axis in ((sel.entities, self.entity), (sel.priorities, self.priority),
                            (sel.outputs, self.output)):
            if codes is not None:
                mask &= np.isin(axis, list(codes))
        return mask

    def years(self, years: Sequence[int]) -> np.ndarray:
        return np.isin(self.year, list(years))

    def funds(self, funds: Sequence[str]) -> np.ndarray:
        return np.isin(self.fund, list(funds))


def build(plan: Plan) -> LinearProgram:
    """The LP of a plan: every rule group as named rows, and the goal-programming levels."""
    keys = [
        (i, y, k)
        for i, m in enumerate(plan.mandate)
        for y in plan.years
        for k, f in enumerate(plan.fund_codes)
        if plan.admits(f, m.cell)
    ]
    arr = np.array(keys, dtype=np.int64).reshape(-1, 3)
    lp = LinearProgram(plan, arr[:, 0], arr[:, 1], arr[:, 2])
    lp.add_cols([f"x[{plan.mandate[i].cell.entity}/{plan.mandate[i].cell.priority}/"
                 f"{plan.mandate[i].cell.output},{y},{plan.fund_codes[k]}]" for i, y, k in keys])
    ix = _Index(plan, lp)
    src = plan.sources.get
    regular = ix.fund == REGULAR

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

    for env in plan.envelopes:
        where = src(f"rules.envelopes.{env.entity}", "")
        for y in plan.years:
            cols = np.flatnonzero(regular & (ix.entity == env.entity) & (ix.year == y))
            if y in env.min:
                lp.add_row(f"envelope_min[{env.entity},{y}]", "envelope", ">=", env.min[y], cols,
                           1.0, where, f"{env.entity} regular budget in {y} at least "
                           f"{_fmt(env.min[y])}")
            if y in env.max:
                lp.add_row(f"envelope_max[{env.entity},{y}]", "envelope", "<=", env.max[y], cols,
                           1.0, where, f"{env.entity} regular budget in {y} at most "
                           f"{_fmt(env.max[y])}")

    senses: dict[str, Sense] = {"minimum": ">=", "exact": "==", "cap": "<="}
    words = {"minimum": "at least", "exact": "exactly", "cap": "at most"}
    for c in plan.commitments:
        base = ix.select(c.selection) & ix.funds(c.funds)
        for y, amount in sorted(c.amounts.items()):
            lp.add_row(f"committed[{c.code},{y}]", "committed", senses[c.kind], amount,
                       np.flatnonzero(base & (ix.year == y)), 1.0,
                       src(f"rules.committed.{c.code}", ""),
                       f"{c.name}: {words[c.kind]} {_fmt(amount)} in {y}")

    for b in plan.bounds:
        sel = ix.select(b.selection) & ix.funds(b.funds)
        where = src(f"rules.bounds.{b.code}", "")
        for label, ys in plan.periods(b.period):
            in_period = ix.years(ys)
            cols = np.flatnonzero(sel & in_period)
            for side, value, sense in (("min", b.min, ">="), ("max", b.max, "<=")):
                if value is not None:
                    lp.add_row(f"bound[{b.code},{label},{side}]", "bound", sense, value,  # type: ignore[arg-type]
                               cols, 1.0, where, f"{b.name}: {'at least' if side == 'min' else 'at most'}"
                               f" {_fmt(value)} in {label}")
            for side, share, sense in (("min_share", b.min_share, ">="),
                                       ("max_share", b.max_share, "<=")):
                if share is not None:
                    base = ix.funds(b.funds) & in_period
                    coefs = np.where(sel, 1.0, 0.0)[base] - share
                    lp.add_row(f"bound[{b.code},{label},{side}]", "bound", sense, 0.0,  # type: ignore[arg-type]
                               np.flatnonzero(base), coefs, where,
                               f"{b.name}: {'at least' if side == 'min_share' else 'at most'} "
                               f"{share:.1%} of spending in {label}")

    if plan.stability is not None:
        m = plan.stability.max_change
        where = src("rules.stability", "")
        for (e, p), prev in plan.stability.previous.items():
            for y in plan.years:
                cols = np.flatnonzero(regular & (ix.entity == e) & (ix.priority == p)
                                      & (ix.year == y))
                lp.add_row(f"stability_min[{e},{p},{y}]", "stability", ">=", prev * (1 - m), cols,
                           1.0, where, f"{e} on {p} in {y} no more than {m:.0%} below the previous "
                           f"{_fmt(prev)}")
                lp.add_row(f"stability_max[{e},{p},{y}]", "stability", "<=", prev * (1 + m), cols,
                           1.0, where, f"{e} on {p} in {y} no more than {m:.0%} above the previous "
                           f"{_fmt(prev)}")

    for fund in plan.funds:
        where = src(f"financial_plan.funds.{fund.code}", "")
        charge = 1.0 + fund.support_cost_rate
        for y in plan.years:
            available = fund.available(y)
            cols = np.flatnonzero((ix.fund == fund.code) & (ix.year == y))
            sense: Sense = "==" if fund.must_spend else "<="
            psc_note = (f", direct costs plus {fund.support_cost_rate:.0%} support costs"
                        if fund.support_cost_rate else "")
            lp.add_row(f"fund[{fund.code},{y}]", "fund", sense, available, cols, charge, where,
                       f"{fund.name} in {y}: {'exactly' if fund.must_spend else 'at most'} the "
                       f"expected receipts of {_fmt(available)} (pledge x {fund.receipt_rate:.0%}"
                       f"{psc_note})")

    for i, mc in enumerate(plan.mandate):
        key = "/".join(mc.cell)
        for y in plan.years:
            if y not in mc.min and y not in mc.max:
                continue
            cols = np.flatnonzero((ix.cell == i) & (ix.year == y))
            if y in mc.min:
                lp.add_row(f"cell_min[{key},{y}]", "cell", ">=", mc.min[y], cols, 1.0,
                           src(f"mandate.{key}", ""), f"{key} in {y} at least {_fmt(mc.min[y])}")
            if y in mc.max:
                lp.add_row(f"cell_max[{key},{y}]", "cell", "<=", mc.max[y], cols, 1.0,
                           src(f"mandate.{key}", ""), f"{key} in {y} at most {_fmt(mc.max[y])}")

    _goal_programming(lp, ix)
    names = [r.name for r in lp.rows]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise AssertionError(f"row names are not unique: {dup[:5]}")
    return lp


def resources(plan: Plan, funds: Sequence[str], years: Sequence[int]) -> float:
    """Money the funds can spend over the years: ceilings plus expected receipts."""
    return sum(plan.available(f, y) for f in funds for y in years)


def _goal_programming(lp: LinearProgram, ix: _Index) -> None:
    plan = lp.plan
    by_level: dict[int, tuple[list[int], list[float]]] = {}
    for t in plan.targets:
        sel = ix.select(t.selection) & ix.funds(t.funds)
        where = plan.sources.get(f"rules.targets.{t.code}", "")
        for label, ys in plan.periods(t.period):
            in_period = ix.years(ys)
            total = resources(plan, t.funds, ys)
            if t.share is not None:
                base = ix.funds(t.funds) & in_period
                cols = np.flatnonzero(base)
                coefs = np.where(sel, 1.0, 0.0)[base] - t.share
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
    weights = _priority_weights(plan, ix)
    ref = np.zeros(lp.n_alloc)
    previous = plan.stability.previous if plan.stability is not None else {}
    for k, fund in enumerate(plan.fund_codes):
        for y in plan.years:
            mask = (lp.fund == k) & (ix.year == y)
            if not mask.any():
                continue
            available = plan.available(fund, y)
            if fund == REGULAR and previous:
                w = np.array([previous.get((e, p), 0.0) for e, p in
                              zip(ix.entity[mask], ix.priority[mask], strict=True)])
                pair = ix.entity[mask] + "\x00" + ix.priority[mask]
            else:
                w = np.array([weights.get(p, 0.0) for p in ix.priority[mask]])
                pair = ix.priority[mask]
            _, inverse, counts = np.unique(pair, return_inverse=True, return_counts=True)
            w = w / counts[inverse]
            if w.sum() <= 0:
                w = np.ones(mask.sum())
            ref[mask] = available * w / w.sum()
    return ref


def _priority_weights(plan: Plan, ix: _Index) -> dict[str, float]:
    present = [p.code for p in plan.priorities if (ix.priority == p.code).any()]
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
    ref = reference_distribution(plan, lp, ix)
    names = [n[1:] for n in lp.col_names[: lp.n_alloc]]
    above = lp.add_cols([f"above{n}" for n in names])
    below = lp.add_cols([f"below{n}" for n in names])
    for j in range(lp.n_alloc):
        lp.add_row(f"reference{names[j]}", "reference", "==", ref[j],
                   np.array([j, above[j], below[j]]), np.array([1.0, -1.0, 1.0]), "",
                   "distance to the reference distribution")
    total = max(resources(plan, plan.fund_codes, plan.years), 1.0)
    lp.levels.append(Level("reference", np.concatenate([above, below]),
                           np.full(2 * lp.n_alloc, 1.0 / total),
                           "distance to the reference distribution (ties broken toward it)"))
