"""Why a plan is infeasible: the rules that conflict and what to change, checked by re-solving.

One diagnoser for every command, in two modes:

- **full** (`alloc run`, `alloc explain`): an irreducible conflict (an elastic filter, then a
  deletion filter), each rule's role (a limit to raise or a requirement to lower), remedies that
  re-solves confirm to work and to be minimal (relaxing all their moves but any one leaves the
  plan infeasible), and, when one conflict is not all, a minimal repair of them all. It takes
  dozens of solves of copies of the LP.
- **cheap** (`alloc compare`, the variants of `alloc sweep`, and the fallback when the full one
  fails): one elastic solve of the hard rules, the total move minimised (ties broken toward the
  ceilings and envelopes). It names the rules that give way and by how much (rounded up to a
  thousandth), in the same words, without re-solving to check the amounts or that every rule
  named is needed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from alloc.errors import SolveError
from alloc.explain.diagnosis import Change, Conflict, ConflictRule, Diagnosis, Move, Remedy
from alloc.explain.program import (
    AMOUNT_STEP,
    SLACK_EPS,
    _Copy,
    _feasibility,
    _Rows,
    _solve,
)
from alloc.explain.words import (
    _conflict_message,
    _period,
    _remedy_text,
    _words,
)
from alloc.lp.build import EQ, GE, LE, RULE_GROUPS, Level, LinearProgram
from alloc.lp.solve import SolveOptions

DELETION_ORDER = ("stability", "cell", "committed", "bound", "envelope", "fund", "ceiling")
"""Which rules a conflict search tries to leave out first: a conflict told with the ceiling, the
envelopes and the funds reads better than one told with a hundred stability rows."""

CHEAP_ORDER = ("ceiling", "envelope", "bound", "committed", "fund", "cell", "stability")
"""Which rules the cheap mode moves first, among moves of the same total: the rules a council
decides (ceilings, envelopes, floors and caps, committed costs) before the funds' receipts
(pledges, not the organisation's to set) and the many fine-grained cell and stability rows."""
CHEAP_TILT = 1e-3
"""A unit move of a rule weighs 1 + CHEAP_TILT x its place in CHEAP_ORDER in the cheap mode's
one solve: enough to break ties, too little to change which total is least by more than 1%."""


def _rounded(amount: float, step: float, up: bool = False) -> float:
    """An amount to the nearest multiple of `step`, or the next one up (at least one step; a
    step of 0: the amount as it is). Noise below a billionth of a step is not rounded up."""
    if step <= 0:
        return amount
    units = amount / step
    n = math.ceil(units - 1e-9) if up else round(units)
    return round(max(n, 1) * step, 9)


class _Diagnoser:
    def __init__(self, lp: LinearProgram, options: SolveOptions):
        self.lp = lp
        self.plan = lp.plan
        self.options = options
        self.b = _Rows(lp)
        self.hard = self.b.hard
        self.solves = 0

    # -- primitives ----------------------------------------------------------------------------
    def relaxed(self, moves: Iterable[Move], rhs: np.ndarray | None = None) -> np.ndarray:
        out = (self.b.rhs if rhs is None else rhs).copy()
        for m in moves:
            out[m.row] = m.new_bound
        return out

    def feasible(self, rows: np.ndarray, rhs: np.ndarray) -> bool:
        self.solves += 1
        return _solve(_Copy(self.b, np.asarray(rows, np.int64), rhs), _feasibility(),
                      self.options).feasible

    def elastic(self, rows: np.ndarray, rhs: np.ndarray, elastic: Sequence[int],
                spread: bool = False, weights: np.ndarray | None = None
                ) -> dict[int, float] | None:
        """Smallest total slack on the `elastic` rows that makes `rows` feasible: slack per row
        (positive: raise the bound, negative: lower it), or None if no slack is enough.

        With `spread`, a second level shares the total out as evenly as the rules allow
        (relative to each bound), so that "lower these floors" does not pick one at random.
        `weights` (per row of the LP): the cost of a unit of slack on each row, else 1.
        """
        copy = _Copy(self.b, np.asarray(rows, np.int64), rhs)
        pos = {int(i): k for k, i in enumerate(copy.rows.tolist())}
        slack: dict[int, tuple[int, int]] = {}
        for i in elastic:
            k = pos[int(i)]
            over = under = -1
            if self.b.sense[i] in (LE, EQ):
                over = copy.column(f"over{i}")
                copy.attach.setdefault(k, []).append((over, -1.0))
            if self.b.sense[i] in (GE, EQ):
                under = copy.column(f"under{i}")
                copy.attach.setdefault(k, []).append((under, 1.0))
            slack[int(i)] = (over, under)
        cols = np.array([c for pair in slack.values() for c in pair if c >= 0], np.int64)
        costs = (np.ones(len(cols)) if weights is None else
                 np.array([weights[i] for i, pair in slack.items() for c in pair if c >= 0]))
        levels = [Level("slack", cols, costs, "total move")]
        if spread and len(slack) > 1:
            t = copy.column("spread")
            for i, (over, under) in slack.items():
                scale = max(abs(float(rhs[i])), 1.0)
                for c in (over, under):
                    if c >= 0:
                        copy.add_row(LE, 0.0, np.array([c, t]), np.array([1.0, -scale]))
            levels.append(Level("spread", np.array([t]), np.ones(1), "largest relative move"))
        self.solves += 1
        answer = _solve(copy, levels, self.options)
        if not answer.feasible or answer.values is None:
            return None
        v = answer.values
        return {i: (v[o] if o >= 0 else 0.0) - (v[u] if u >= 0 else 0.0)
                for i, (o, u) in slack.items()}

    def move(self, i: int, amount: float, rhs: np.ndarray | None = None) -> Move:
        row = self.lp.row(i)
        bound = float((self.b.rhs if rhs is None else rhs)[i])
        return Move(i, row.rule, row.name, row.source, row.text, row.sense, bound,
                    "raise" if amount > 0 else "lower", abs(float(amount)))

    def minimal(self, moves: list[Move], rows: np.ndarray, rhs: np.ndarray) -> list[Move] | None:
        """The moves rounded, checked to work, and stripped of any the others do without.

        Amounts are stated to a thousandth of the unit when that works, rounded up (a margin
        against solver tolerances) or else to the nearest; else to a millionth; else as the
        solver found them (an equality may have to land in a narrow window); else a thousandth
        more than needed.
        """
        found = None
        for step, up, extra in ((AMOUNT_STEP, True, 0.0), (AMOUNT_STEP, False, 0.0),
                                (1e-6, True, 0.0), (0.0, False, 0.0),
                                (AMOUNT_STEP, True, AMOUNT_STEP)):
            trial = [replace(m, amount=_rounded(m.amount, step, up) + extra) for m in moves]
            if self.feasible(rows, self.relaxed(trial, rhs)):
                found = trial
                break
        if found is None:
            return None
        moves = found
        for m in sorted(moves, key=lambda m: (m.amount, m.row)):
            trial = [x for x in moves if x is not m]
            if trial and self.feasible(rows, self.relaxed(trial, rhs)):
                moves = trial
        return sorted(moves, key=lambda m: m.row)

    def repair(self, rhs: np.ndarray, elastic: Sequence[int], spread: bool = False
               ) -> list[Move] | None:
        slack = self.elastic(self.hard, rhs, elastic, spread)
        if slack is None:
            return None
        moves = [self.move(i, s, rhs) for i, s in slack.items() if abs(s) > SLACK_EPS]
        if not moves:
            return [] if self.feasible(self.hard, rhs) else None
        return self.minimal(moves, self.hard, rhs)

    def conflict_rows(self, rhs: np.ndarray) -> list[int]:
        """An irreducible set of rules that cannot hold together (elastic, then deletion filter)."""
        candidates = self.hard.tolist()
        enforced: list[int] = []
        while True:
            taken = set(enforced)
            free = [i for i in candidates if i not in taken]
            slack = self.elastic(np.array(candidates), rhs, free)
            if slack is None:
                break
            taking = [i for i, s in slack.items() if abs(s) > SLACK_EPS]
            if not taking:
                return []
            enforced.extend(taking)
        order = {r: k for k, r in enumerate(DELETION_ORDER)}
        conflict = sorted(enforced, key=lambda i: (order.get(RULE_GROUPS[self.b.rule[i]], -1), i))
        for i in list(conflict):
            trial = [j for j in conflict if j != i]
            if trial and not self.feasible(np.array(sorted(trial)), rhs):
                conflict = trial
        return sorted(conflict)

    # -- the diagnosis -------------------------------------------------------------------------
    def run(self) -> Diagnosis:
        """One conflict, if its own remedies end the infeasibility; else one per move of a
        minimal repair of everything, conflicts of the same shape (a fund in every year) told
        once."""
        rhs = self.b.rhs
        if self.feasible(self.hard, rhs):
            return Diagnosis(self.plan.name, (), Remedy((), "nothing to change"))
        first = self.conflict_rows(rhs)
        if first:
            conflict = self.tell(first, [], [first])
            if conflict.remedies:
                return Diagnosis(self.plan.name, (conflict,), conflict.remedies[0])
        repair = self.repair(rhs, self.hard.tolist())
        if repair is None:
            raise SolveError("no relaxation of the rules makes the plan feasible")
        found: list[list[int]] = []
        for m in repair:
            if any(m.row in rows for rows in found):
                continue
            rows = self.conflict_rows(self.relaxed([x for x in repair if x is not m]))
            if rows and rows not in found:
                found.append(rows)
        groups: dict[tuple, list[list[int]]] = {}
        for rows in found:
            groups.setdefault(self.shape(rows), []).append(rows)
        told = [self.tell(sorted({i for rows in parts for i in rows}), repair, parts)
                for parts in groups.values()]
        return Diagnosis(self.plan.name, tuple(told),
                         Remedy(tuple(repair), _remedy_text(self.plan, self.lp, repair)))

    def shape(self, rows: list[int]) -> tuple:
        """What a conflict is made of, the periods left out: conflicts of one shape read as one."""
        return tuple(sorted({(_words(self.plan, self.lp, i).noun, self.lp.row_sources[i])
                             for i in rows}))

    def roles(self, parts: list[list[int]], rhs: np.ndarray) -> dict[int, Change]:
        """Per rule of a conflict: which way it would have to move if it alone gave way (within
        its own irreducible part: a fund short in four years is four parts)."""
        out: dict[int, Change] = {}
        for rows in parts:
            for i in rows:
                slack = self.elastic(np.array(rows), rhs, [i])
                s = slack.get(i, 0.0) if slack else 0.0
                if abs(s) > SLACK_EPS:
                    out[i] = "raise" if s > 0 else "lower"
                else:
                    out[i] = "lower" if self.b.sense[i] == GE else "raise"
        return out

    def tell(self, rows: list[int], repair: list[Move], parts: list[list[int]]) -> Conflict:
        """The conflict in words, with its remedies: the limits raised, or the requirements
        lowered (each checked on the whole plan, the repair's other moves applied), or the
        repair's own moves on these rules when neither side can end it alone."""
        plan, lp = self.plan, self.lp
        context = [m for m in repair if m.row not in rows]
        rhs = self.relaxed(context)
        roles = self.roles(parts, rhs)
        limits = [i for i in rows if roles[i] == "raise"]
        needs = [i for i in rows if roles[i] == "lower"]
        remedies: list[list[Move]] = []
        for group in (limits, needs):
            if group:
                found = self.repair(rhs, group, spread=True)
                if found:
                    remedies.append(found)
        own = sorted((m for m in repair if m.row in rows), key=lambda m: m.row)
        if not remedies and own:
            remedies.append(own)
        words = {i: _words(plan, lp, i) for i in rows}
        period = _period(plan, sorted({y for w in words.values() for y in w.years}))
        rules = tuple(ConflictRule(i, r.rule, r.name, r.source, r.text, r.sense, float(rhs[i]),
                                   "limit" if roles[i] == "raise" else "requirement")
                      for i, r in ((i, lp.row(i)) for i in rows))
        texts = [Remedy(tuple(r), _remedy_text(plan, lp, r)) for r in remedies]
        message = _conflict_message(plan, lp, self.b, words, limits, needs, rhs, period,
                                    remedies)
        return Conflict(rules, period, tuple(texts), tuple(context), message)

    def cheap(self) -> Diagnosis:
        """One elastic solve of the hard rules: the rules that give way by the least total
        (ties broken by CHEAP_ORDER), in the user's words, the amounts rounded up to a
        thousandth. No re-solve checks that the amounts work or that every rule named is
        needed."""
        rank = {group: k for k, group in enumerate(CHEAP_ORDER)}
        tilt = np.array([1.0 + CHEAP_TILT * rank.get(RULE_GROUPS[r], len(rank))
                         for r in self.b.rule.tolist()])
        slack = self.elastic(self.hard, self.b.rhs, self.hard.tolist(), weights=tilt)
        if slack is None:
            raise SolveError("no relaxation of the rules makes the plan feasible")
        moves = [replace(m, amount=_rounded(m.amount, AMOUNT_STEP, up=True))
                 for m in (self.move(i, s) for i, s in slack.items() if abs(s) > SLACK_EPS)]
        if not moves:
            return Diagnosis(self.plan.name, (), Remedy((), "nothing to change"), cheap=True)
        plan, lp = self.plan, self.lp
        remedy = Remedy(tuple(moves), _remedy_text(plan, lp, moves))
        period = _period(plan, sorted({y for m in moves for y in _words(plan, lp, m.row).years}))
        rules = tuple(ConflictRule(m.row, m.rule, m.name, m.source, m.text, m.sense, m.bound,
                                   "limit" if m.change == "raise" else "requirement")
                      for m in moves)
        message = (f"the rules cannot all hold; to end it, {remedy.text} (a quick diagnosis: one "
                   "solve, not checked to be minimal)")
        return Diagnosis(plan.name, (Conflict(rules, period, (remedy,), (), message),), remedy,
                         cheap=True)


def diagnose_infeasible(lp: LinearProgram, options: SolveOptions | None = None, *,
                        cheap: bool = False) -> Diagnosis:
    """Why the plan's rules cannot all hold: the conflicts in the user's words, each with ways
    out that a re-solve confirms, and one minimal repair of them all.

    `cheap`: a fast answer where one is wanted (compare, sweep variants): one solve, the rules
    that give way and by how much, nothing re-solved to check it. Raises `SolveError` when the
    solver fails (or no relaxation of the rules is enough).
    """
    diagnoser = _Diagnoser(lp, options or SolveOptions())
    return diagnoser.cheap() if cheap else diagnoser.run()
