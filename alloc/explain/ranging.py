"""Ranging: for each ceiling and each thematic priority's target, the interval of its amount (or
share) over which re-solving the plan, everything else unchanged, keeps the same set of binding
rules. Found by re-solving: between two changes of basis the solution moves on a straight line,
so two solutions predict the next event, which is probed on either side; a bisection takes over
when the prediction misses. The probes are re-solved warm on one solver instance (`_Warm`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from alloc.explain.program import AMOUNT_STEP, _Rows, _Warm, on_instances, probe_threads
from alloc.lp.build import EQ, LE, LinearProgram, build
from alloc.lp.solve import SolveOptions
from alloc.model.domain import CeilingAdjustment, Plan


@dataclass(frozen=True)
class Range:
    """A ceiling or a target's share/amount, and the interval over which re-solving keeps the
    same binding rules. `low`/`high` None: no change found up to the end of the domain."""

    kind: Literal["ceiling", "target"]
    code: str
    name: str
    source: str
    parameter: str
    value: float
    low: float | None
    high: float | None
    probes: int


def _variant(plan: Plan, kind: str, code: str, value: float, current: float) -> Plan:
    if kind == "ceiling":
        years = dict(plan.periods(plan.ceiling_period))[code]
        adjustment = CeilingAdjustment("explain_ranging", "ranging", {years[-1]: value - current})
        return replace(plan, adjustments=(*plan.adjustments, adjustment))
    targets = tuple((replace(t, share=value) if t.share is not None else replace(t, amount=value))
                    if t.code == code else t for t in plan.targets)
    return replace(plan, targets=targets)


def binding_set(lp: LinearProgram, values: np.ndarray) -> frozenset[str]:
    """Names of the inequality rules with no slack left (equalities are always tight)."""
    b = _Rows(lp)
    rows = b.hard[b.sense[b.hard] != EQ]
    activity = b.activity(values)[rows]
    rhs = b.rhs[rows]
    tight = np.abs(activity - rhs) <= 1e-6 * np.maximum(1.0, np.abs(rhs))
    names = lp.row_names
    return frozenset(names[int(i)] for i in rows[tight])


def _edge(same: Callable[[float], np.ndarray | None], p0: float, q0: np.ndarray,
          direction: float, limit: float, precision: float) -> tuple[float | None, int]:
    """The furthest value from p0 towards `limit` with the same binding rules, to `precision`.

    `same(p)` re-solves at p: None if the binding rules differ, else the solution's slacks and
    column values. Between changes of basis the solution moves on a straight line, so two
    solutions predict the next event (a slack or an amount reaching zero); the prediction is
    probed just before and just after, and a bisection takes over when it misses. Returns None
    when the rules are still the same at `limit`.
    """
    probes = 0

    def probe(p: float) -> np.ndarray | None:
        nonlocal probes
        probes += 1
        return same(p)

    def clamp(p: float) -> float:
        return limit if (p - limit) * direction > 0 else p

    if abs(p0 - limit) <= precision / 2:
        return None, probes
    inside, q_in = p0, q0
    beyond: float | None = None
    step = precision * 4
    prev: tuple[float, np.ndarray] | None = None
    events = 0
    while beyond is None and events < 8:
        if prev is None:  # a second point on the current piece of the path
            p = clamp(inside + direction * step)
            q = probe(p)
            if q is None:
                beyond = p
                break
            prev, inside, q_in = (inside, q_in), p, q
            if p == limit:
                return None, probes
        p_prev, q_prev = prev
        rate = (q_in - q_prev) / (inside - p_prev) * direction
        falling = (rate < -1e-12) & (q_in > 1e-7)
        reach = float(np.min(q_in[falling] / -rate[falling])) if falling.any() else math.inf
        event = clamp(inside + direction * max(reach, precision))
        events += 1
        before = clamp(event - direction * precision / 2)
        if (before - inside) * direction > precision / 4:
            q = probe(before)
            if q is None:
                beyond = before
                break
            inside, q_in = before, q
        if event == limit and abs(inside - limit) <= precision / 2:
            return None, probes
        after = clamp(event + direction * precision / 2)
        q = probe(after)
        if q is None:
            beyond = after
            break
        inside, q_in, prev = after, q, None
        if after == limit:
            return None, probes
    if beyond is None:
        if probe(limit) is not None:
            return None, probes
        beyond = limit
    while abs(beyond - inside) > precision:
        mid = (inside + beyond) / 2
        if probe(mid) is not None:
            inside = mid
        else:
            beyond = mid
    return inside, probes


def _path_point(b: _Rows, watched: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Where a solution stands: the slack of each watched rule, then every amount."""
    slack = (b.activity(values) - b.rhs)[watched] * np.where(b.sense[watched] == LE, -1.0, 1.0)
    return np.concatenate([slack, values])


def ranging(lp: LinearProgram, values: np.ndarray, options: SolveOptions | None = None,
            items: Sequence[tuple[str, str]] | None = None, threads: int | None = None
            ) -> list[Range]:
    """For each ceiling and each thematic priority's target: the interval of its amount (or
    share) over which re-solving the plan keeps the same set of binding rules.

    Each item's probes are re-solved warm on one solver instance, starting from the plan's own
    optimal basis; items run on `threads` threads (default `probe_threads`), with the same
    results whatever their number."""
    # the probes compare binding rules, which the goal levels decide: the linear stand-in of the
    # tie-breaks is enough there, and a fraction of the quadratic levels' time
    options = dataclasses.replace(options or SolveOptions(), quadratic=False)
    warm = _Warm(lp, options)
    status, linear, basis = warm.base(lp)
    if status == "optimal" and linear is not None:
        values = linear  # the same tie-break as the probes', so that paths compare
    plan = lp.plan
    if items is None:
        thematic = {p.code for p in plan.priorities if not p.support}
        items = ([("ceiling", label) for label, _, _ in plan.ceiling_periods()]
                 + [("target", t.code) for t in plan.targets
                    if t.selection.priorities is not None and t.selection.priorities <= thematic])
    base_set = binding_set(lp, values)
    rows = _Rows(lp)
    watched = rows.hard[rows.sense[rows.hard] != EQ]
    q0 = _path_point(rows, watched, values)

    def one(warm: _Warm, item: tuple[str, str]) -> Range:
        warm.start(lp, basis)
        kind, code = item
        if kind == "ceiling":
            value = next(amount for label, _, amount in plan.ceiling_periods() if label == code)
            parameter, name = "amount", f"ceiling[{code}]"
            source = plan.sources.get("financial_plan.revenue", "")
            domain, precision = (0.0, math.inf), max(1e-4 * abs(value), AMOUNT_STEP)
        else:
            t = next(t for t in plan.targets if t.code == code)
            parameter = "share" if t.share is not None else "amount"
            value = float(t.share if t.share is not None else t.amount or 0.0)
            name, source = t.name, plan.sources.get(f"rules.targets.{code}", "")
            domain = (0.0, 1.0) if parameter == "share" else (0.0, math.inf)
            precision = 1e-5 if parameter == "share" else max(1e-4 * abs(value), AMOUNT_STEP)

        def same(p: float) -> np.ndarray | None:
            variant = build(_variant(plan, kind, code, p, value))
            status, v = warm.solve(variant)
            if status != "optimal" or v is None or binding_set(variant, v) != base_set:
                return None
            return _path_point(_Rows(variant), watched, v)

        far = value * 4 + 1.0 if math.isinf(domain[1]) else domain[1]
        high, n_up = _edge(same, value, q0, 1.0, far, precision)
        warm.start(lp, basis)    # the other way from the plan's own optimum too
        low, n_down = _edge(same, value, q0, -1.0, domain[0], precision)
        return Range(kind, code, name, source, parameter, value,  # type: ignore[arg-type]
                     low, high, n_up + n_down)

    if threads is None:
        threads = probe_threads(lp, options, len(items))
    return on_instances(warm, lambda: _Warm(lp, options), list(items), one, threads)
