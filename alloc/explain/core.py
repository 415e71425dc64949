"""Why this number: infeasibility diagnoses, shadow prices, ranging and room for manoeuvre.

Every answer here comes from solving copies of the built LP (rows kept or dropped, bounds moved,
slack columns added, objectives bounded) through `alloc.lp.solve.solve_raw`, so this module knows no
solver and no PuLP. Each claim it makes is one that a re-solve confirms:

- a diagnosis names rules with amounts; relaxing those rules by those amounts makes the plan
  feasible, and relaxing all of them but any one does not (the repair is minimal);
- a shadow price is the dual at the final goal-programming level (the last level of targets; the
  tie-break toward the reference distribution is not a goal and is not priced), with the earlier
  levels held at their optimum;
- a range is where the set of binding rules, found by re-solving, stays the same;
- a room for manoeuvre is the smallest and largest amount a priority or entity can get while every
  target level stays within a tolerance of its optimum.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from alloc.errors import SolveError
from alloc.lp.build import (
    EQ,
    GE,
    LE,
    RULE_GROUPS,
    Lazy,
    Level,
    LinearProgram,
    build,
)
from alloc.lp.solve import SolveOptions, solve_raw
from alloc.model.domain import CeilingAdjustment, Plan

if TYPE_CHECKING:
    import pandas as pd

SOFT_RULES = ("target", "reference", "level")
"""Rule groups that cannot make a plan infeasible: their deviation columns absorb any gap."""
TIE_BREAK = "reference"
"""The last level: distance to the reference distribution. It breaks ties; it is not a goal."""
DELETION_ORDER = ("stability", "cell", "committed", "bound", "envelope", "fund", "ceiling")
"""Which rules a conflict search tries to leave out first: a conflict told with the ceiling, the
envelopes and the funds reads better than one told with a hundred stability rows."""
AMOUNT_STEP = 1e-3
"""Amounts are stated to a thousandth of the unit (a franc in CHF thousands)."""
SLACK_EPS = 5e-7
"""Slack below this (in the plan's unit) is solver noise, not a move."""
DEFAULT_TOLERANCE = 0.01

Change = Literal["raise", "lower"]


# --- copies of the LP ---------------------------------------------------------------------------

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
        soft = [RULE_GROUPS.index(r) for r in SOFT_RULES]
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


def _normalised(name: str, cols: np.ndarray, coefs: np.ndarray, text: str = ""
                ) -> tuple[Level, float]:
    """A level whose largest cost is 1, and the factor that takes its duals back to `coefs`.

    Why: what a solver is handed is then the level itself, so its duals need no guessing.
    """
    scale = float(np.abs(coefs).max()) if len(coefs) else 0.0
    scale = scale if scale > 0 else 1.0
    return Level(name, np.asarray(cols, np.int64), np.asarray(coefs, float) / scale, text), scale


# --- infeasibility: repairs and conflicts -------------------------------------------------------

@dataclass(frozen=True)
class Move:
    """One rule relaxed: its bound raised or lowered by an amount."""

    row: int
    rule: str
    name: str
    source: str
    text: str
    sense: str
    bound: float
    change: Change
    amount: float

    @property
    def new_bound(self) -> float:
        return self.bound + (self.amount if self.change == "raise" else -self.amount)

    def record(self) -> dict:
        return {"rule": self.rule, "name": self.name, "source": self.source, "text": self.text,
                "sense": self.sense, "bound": _num(self.bound), "change": self.change,
                "amount": self.amount + 0.0, "new_bound": _num(self.new_bound)}


@dataclass(frozen=True)
class Remedy:
    """Moves that, together with the context of their conflict, make the plan feasible."""

    moves: tuple[Move, ...]
    text: str

    def record(self) -> dict:
        return {"text": self.text, "moves": [m.record() for m in self.moves]}


@dataclass(frozen=True)
class ConflictRule:
    row: int
    rule: str
    name: str
    source: str
    text: str
    sense: str
    bound: float
    role: Literal["limit", "requirement"]
    """A limit would have to be raised to end the conflict, a requirement lowered."""

    def record(self) -> dict:
        return {"rule": self.rule, "name": self.name, "source": self.source, "text": self.text,
                "sense": self.sense, "bound": _num(self.bound), "role": self.role}


@dataclass(frozen=True)
class Conflict:
    """Rules that cannot hold together, and the ways out of the conflict.

    Each remedy, applied with the `context` (the repair's moves on rules outside this conflict,
    which deal with the other conflicts), makes the plan feasible, and is minimal.
    """

    rules: tuple[ConflictRule, ...]
    period: str
    remedies: tuple[Remedy, ...]
    context: tuple[Move, ...]
    message: str

    def record(self) -> dict:
        return {"message": self.message, "period": self.period,
                "rules": [r.record() for r in self.rules],
                "remedies": [r.record() for r in self.remedies],
                "context": [m.record() for m in self.context]}


@dataclass(frozen=True)
class Diagnosis:
    """Why a plan is infeasible, in the user's words, and a repair that is checked to work."""

    scenario: str
    conflicts: tuple[Conflict, ...]
    repair: Remedy
    """All conflicts at once: the smallest total move (weighted), reduced to a minimal set."""

    @property
    def message(self) -> str:
        if not self.conflicts:
            return "no conflict found: the rules can all hold"
        lines = [c.message for c in self.conflicts]
        if len(self.conflicts) > 1:
            lines.append("Together: " + self.repair.text + ".")
        return "\n".join(lines)

    def record(self) -> dict:
        return {"scenario": self.scenario, "status": "infeasible", "message": self.message,
                "conflicts": [c.record() for c in self.conflicts],
                "repair": self.repair.record()}

    def moves(self) -> list[dict]:
        """The repair's moves as flat records (what run.json lists as conflicts)."""
        return [{"rule": m.rule, "name": m.name, "source": m.source, "text": m.text,
                 "change": m.change, "amount": m.amount + 0.0} for m in self.repair.moves]


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
                spread: bool = False) -> dict[int, float] | None:
        """Smallest total slack on the `elastic` rows that makes `rows` feasible: slack per row
        (positive: raise the bound, negative: lower it), or None if no slack is enough.

        With `spread`, a second level shares the total out as evenly as the rules allow
        (relative to each bound), so that "lower these floors" does not pick one at random.
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
        levels = [Level("slack", cols, np.ones(len(cols)), "total move")]
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
                repair = conflict.remedies[0]
                return Diagnosis(self.plan.name, (conflict,), repair)
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


def diagnose_infeasible(lp: LinearProgram, options: SolveOptions | None = None) -> Diagnosis:
    """Why the plan's rules cannot all hold: the conflicts in the user's words, each with ways
    out that a re-solve confirms, and one minimal repair of them all."""
    return _Diagnoser(lp, options or SolveOptions()).run()


# --- words ----------------------------------------------------------------------------------------

_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _num(x: float) -> float:
    return round(float(x), 6) + 0.0


def _rounded(amount: float, step: float, up: bool = False) -> float:
    """An amount to the nearest multiple of `step`, or the next one up (at least one step; a
    step of 0: the amount as it is). Noise below a billionth of a step is not rounded up."""
    if step <= 0:
        return amount
    units = amount / step
    n = math.ceil(units - 1e-9) if up else round(units)
    return round(max(n, 1) * step, 9)


def amount_text(x: float) -> str:
    """14,400 or 14,399.5: thousands separated, no trailing zeros; to a millionth when an amount
    is not a whole thousandth (a move that had to be stated more finely)."""
    places = 3 if abs(x * 1000 - round(x * 1000)) < 1e-6 else 6
    text = f"{x:,.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _join(items: Sequence[str]) -> str:
    items = list(dict.fromkeys(items))
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _period(plan: Plan, years: Sequence[int]) -> str:
    ys = tuple(sorted(years))
    if not ys:
        return "the plan"
    if len(ys) == 1:
        return str(ys[0])
    if ys == tuple(plan.years):
        return f"{ys[0]}-{ys[-1]}"
    for label, members in plan.biennia.items():
        if tuple(sorted(members)) == ys:
            return label
    return _join([str(y) for y in ys])


def _years(plan: Plan, label: str) -> tuple[int, ...]:
    for kind in ("year", "biennium", "plan"):
        for lab, ys in plan.periods(kind):  # type: ignore[arg-type]
            if lab == label:
                return tuple(ys)
    return ()


def short_source(source: str) -> str:
    """'file: key (changed by other-file)': the files that changed it named once, not each key."""
    head, sep, rest = source.partition(" (changed by ")
    if not sep:
        return source
    files = list(dict.fromkeys(part.split(": ", 1)[0] for part in rest.rstrip(")").split("; ")))
    return f"{head} (changed by {', '.join(files)})"


_NAME = re.compile(r"^(\w+)\[(.*)\]$")


@dataclass(frozen=True)
class _Words:
    noun: str
    plural: str
    subject: str
    """'on TP1', "of BR", "'WRC-27'" ... ('' for the ceiling)."""
    when: str
    """The period the rule is about, as its name says it (a year, a biennium, the plan)."""
    prep: str
    """'for' (the ceiling for 2026) or 'in' (the floor on TP1 in 2026)."""
    key: str
    """Where the user wrote the rule: file and key."""
    years: tuple[int, ...] = ()
    priorities: frozenset[str] | None = None

    def full(self, when: bool = True) -> str:
        parts = [self.noun, self.subject, f"{self.prep} {self.when}" if when and self.when else ""]
        return " ".join(p for p in parts if p)


def _words(plan: Plan, lp: LinearProgram, i: int) -> _Words:
    row = lp.row(i)
    match = _NAME.match(row.name)
    kind, args = (match.group(1), match.group(2).split(",")) if match else (row.rule, [""])
    key = short_source(row.source)

    def made(noun: str, plural: str, subject: str, when: str, prep: str = "in",
             priorities: frozenset[str] | None = None) -> _Words:
        return _Words(noun, plural, subject, when, prep, key, _years(plan, when), priorities)

    if kind == "ceiling":
        return made("ceiling", "ceilings", "", args[0], "for")
    if kind.startswith("envelope"):
        noun = "minimum envelope" if kind.endswith("min") else "envelope"
        return made(noun, noun + "s", f"of {args[0]}", args[-1], "for")
    if kind == "committed":
        c = next((c for c in plan.commitments if c.code == args[0]), None)
        noun = "cap" if row.sense == "<=" else "committed cost"
        return made(noun, noun + "s", f"'{c.name if c else args[0]}'", args[-1])
    if kind == "bound":
        b = next((b for b in plan.bounds if b.code == args[0]), None)
        noun = "floor" if row.sense == ">=" else "cap"
        sel = b.selection if b else None
        label = args[1] if len(args) > 1 else ""
        if (sel is not None and sel.entities is None and sel.outputs is None
                and sel.priorities is not None):
            return made(noun, noun + "s", "on " + _join(sorted(sel.priorities)), label,
                        priorities=frozenset(sel.priorities))
        return made(noun, noun + "s", f"'{b.name if b else args[0]}'", label)
    if kind == "fund":
        f = next((f for f in plan.funds if f.code == args[0]), None)
        noun = "expected receipts to spend" if row.sense == "==" else "expected receipts"
        return made(noun, noun, f"of '{f.name if f else args[0]}'", args[-1])
    if kind.startswith("cell"):
        noun = "cell minimum" if kind.endswith("min") else "cell maximum"
        return made(noun, noun + "s", f"of {args[0]}", args[-1])
    if kind.startswith("stability"):
        return made("stability rule", "stability rules", f"for {args[0]}/{args[1]}", args[-1])
    return made("rule", "rules", row.name, "")


def _subjects(subjects: Sequence[str]) -> str:
    """'on TP1, TP2 and TP3': subjects sharing a first word joined once."""
    subjects = list(dict.fromkeys(subjects))
    heads = {s.split(" ", 1)[0] for s in subjects}
    if len(subjects) > 1 and len(heads) == 1 and all(" " in s for s in subjects):
        head = heads.pop()
        return f"{head} " + _join([s.split(" ", 1)[1] for s in subjects])
    return _join(subjects)


def _phrase(plan: Plan, words: Sequence[_Words], period: str) -> tuple[str, bool]:
    """'the floors on the five thematic priorities and the ceiling for 2026-2027'; plural?"""
    parts = []
    plural = False
    by_noun: dict[str, list[_Words]] = {}
    for w in words:
        by_noun.setdefault(w.noun, []).append(w)
    for noun, group in by_noun.items():
        subjects = list(dict.fromkeys(w.subject for w in group))
        whens = list(dict.fromkeys(w.when for w in group if w.when))
        when = (f" {group[0].prep} {_join(whens)}"
                if whens and (group[0].prep == "for" or whens != [period]) else "")
        many = len(group) > 1
        plural = plural or many
        name = group[0].plural if many else noun
        if len(subjects) == 1:
            parts.append(" ".join(p for p in ("the", name, subjects[0]) if p) + when)
            continue
        thematic = {p.code for p in plan.priorities if not p.support}
        sets = [w.priorities for w in group]
        if all(s is not None and len(s) == 1 for s in sets):
            covered = set().union(*(s for s in sets if s is not None))
            if covered == thematic and len(thematic) > 1:
                count = (_NUMBERS[len(thematic)] if len(thematic) < len(_NUMBERS)
                         else str(len(thematic)))
                parts.append(f"the {name} on the {count} thematic priorities{when}")
                continue
        parts.append(f"the {name} {_subjects(subjects)}{when}")
    return _join(parts), plural or len(parts) > 1


def _remedy_text(plan: Plan, lp: LinearProgram, moves: Sequence[Move]) -> str:
    """'raise the ceiling for 2026-2027 [file: key] by 14,400' or 'lower these floors: ...'."""
    if not moves:
        return "nothing to change"
    words = {m.row: _words(plan, lp, m.row) for m in moves}
    parts = []
    for change in ("raise", "lower"):
        group = [m for m in moves if m.change == change]
        if not group:
            continue
        if len(group) == 1:
            w = words[group[0].row]
            parts.append(f"{change} the {w.full()} [{w.key}] by {amount_text(group[0].amount)}")
            continue
        nouns = {words[m.row].noun for m in group}
        whens = {words[m.row].when for m in group}
        if len(nouns) == 1:
            w0 = words[group[0].row]
            subjects = {words[m.row].subject for m in group}
            items = []
            for m in group:
                w = words[m.row]
                label = " ".join(p for p in (w.subject if len(subjects) > 1 else "",
                                             f"{w.prep} {w.when}" if len(whens) > 1 else "") if p)
                items.append(f"{label or w.subject or w.when} [{w.key}] by {amount_text(m.amount)}")
            w0 = replace(w0, plural=w0.plural + (f" {w0.subject}" if len(subjects) == 1
                                                  and w0.subject else ""))
            total = sum(m.amount for m in group)
            parts.append(f"{change} these {w0.plural} by {amount_text(total)} in total: "
                         + "; ".join(items))
        else:
            items = [f"the {words[m.row].full()} [{words[m.row].key}] by {amount_text(m.amount)}"
                     for m in group]
            parts.append(f"{change} these rules: " + "; ".join(items))
    hints = list(dict.fromkeys(h for m in moves if (h := _hint(lp, m.row))))
    return ", and ".join(parts) + "".join(f" ({h})" for h in hints)


def _hint(lp: LinearProgram, i: int) -> str:
    row = lp.row(i)
    if row.rule == "fund" and len(row.cols) == 0:
        return ("no cell of the mandate is in the fund's earmark: widen the earmark, add a cell "
                "to the mandate, or set must_spend = false")
    return ""


def _conflict_message(plan: Plan, lp: LinearProgram, b: _Rows, words: Mapping[int, _Words],
                      limits: list[int], needs: list[int], rhs: np.ndarray, period: str,
                      remedies: list[list[Move]]) -> str:
    """'The floors ... need X (unit) in P but the ceiling for P is Y: raise ... or lower ...'."""
    unit = plan.unit
    ways = " or ".join(_remedy_text(plan, lp, r) for r in remedies)
    raised = next((r for r in remedies if all(m.change == "raise" and m.row in limits
                                              for m in r)), None)
    lowered = next((r for r in remedies if all(m.change == "lower" and m.row in needs
                                               for m in r)), None)
    # tell the conflict with the rules its remedies move; the others stay in the record
    shown_limits = [m.row for m in raised] if raised else limits
    shown_needs = [m.row for m in lowered] if lowered else needs
    need_words, need_plural = _phrase(plan, [words[i] for i in shown_needs], period)
    limit_words, limit_plural = _phrase(plan, [words[i] for i in shown_limits], period)
    plain = lambda i: rhs[i] > 0 and bool((b.coefs(i) > 0).any())  # noqa: E731
    if needs and raised is not None and all(plain(i) for i in shown_limits):
        allowed = float(sum(rhs[i] for i in shown_limits))
        needed = allowed + sum(m.amount for m in raised)
        stated = float(sum(rhs[i] for i in shown_needs))
        others = (", with the other rules," if not all(plain(i) for i in shown_needs)
                  or abs(stated - needed) > 0.5 else "")
        verb = "need" if need_plural else "needs"
        cap = (f"add up to {amount_text(allowed)}" if limit_plural
               else f"is {amount_text(allowed)}")
        head = (f"{_capital(need_words)} {verb} {amount_text(needed)} ({unit}) in {period}{others}"
                f" but {limit_words} {cap}")
    elif needs and not limits and all(len(b.cols(i)) == 0 for i in needs):
        head = f"{_capital(need_words)} cannot be spent: nothing in the mandate can take the money"
    else:
        listed = _join([p for p in (need_words, limit_words) if p])
        verb = "cannot hold" if len(words) == 1 else "cannot all hold"
        head = f"{_capital(listed)} {verb} in {period}"
    return f"{head}: {ways}." if ways else f"{head}."


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- shadow prices at the final goal-programming level ------------------------------------------

@dataclass(frozen=True)
class Prices:
    """Duals of every row at the final goal-programming level, earlier levels held at their optimum.

    `prices[i]` is the change of that level's objective per unit added to row i's bound (NaN for
    rows of the tie-break level, which is not priced).
    """

    level: str
    level_text: str
    objective: float
    prices: np.ndarray
    degenerate: bool
    """More rules and zero amounts are tight than the LP has columns: duals are not unique."""
    failed: str = ""
    """Why there are no prices (the pricing solve failed), else empty."""


def final_goal_level(lp: LinearProgram) -> int:
    """Index of the last level of targets (the tie-break level only when there is no other)."""
    goals = [k for k, level in enumerate(lp.levels) if level.name != TIE_BREAK]
    return goals[-1] if goals else len(lp.levels) - 1


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
        if level.name == TIE_BREAK:
            continue
        z = float(objectives[level.name])
        _bound_level(copy, level, z + tolerance * abs(z) + absolute)


def _rows_for(b: _Rows, lp: LinearProgram, k: int) -> np.ndarray:
    return b.not_tie_break if lp.levels[k].name != TIE_BREAK else np.arange(b.n_rows)


def shadow_prices(lp: LinearProgram, objectives: Mapping[str, float],
                  options: SolveOptions | None = None) -> Prices:
    """Prices at the final goal-programming level: one solve of that level alone, with the
    earlier levels bounded by their optima (as the solver held them)."""
    options = options or SolveOptions()
    b = _Rows(lp)
    k = final_goal_level(lp)
    level = lp.levels[k]
    rows = _rows_for(b, lp, k)
    copy = _Copy(b, rows, b.rhs)
    _held(copy, lp, objectives, k, lp.plan.level_tolerance, lp.plan.level_tolerance)
    normal, scale = _normalised(level.name, level.cols, level.coefs)
    answer = _solve(copy, [normal], options)
    if not answer.feasible or answer.values is None or answer.duals is None:
        raise SolveError(f"the final goal-programming level could not be priced ({answer.status})")
    prices = np.full(b.n_rows, np.nan)
    prices[rows] = np.asarray(answer.duals[: len(rows)]) * scale
    prices[np.abs(prices) < 1e-12] = 0.0
    values = answer.values
    objective = float(level.coefs @ values[level.cols])
    return Prices(level.name, level.text, objective, prices,
                  _degenerate(b, copy, values))


def _degenerate(b: _Rows, copy: _Copy, values: np.ndarray) -> bool:
    """A vertex with more tight constraints than columns: its duals are one choice among many."""
    rows = copy.rows
    activity = b.activity(values)[rows]
    rhs = b.rhs[rows]
    tight_rows = int(np.sum((b.sense[rows] == EQ)
                            | (np.abs(activity - rhs) <= 1e-7 * np.maximum(1.0, np.abs(rhs)))))
    used = set(b.index[np.concatenate([np.arange(b.start[i], b.start[i + 1]) for i in rows])
                       ].tolist()) if len(rows) else set()
    for sense, r, cols, coefs in copy.extra:
        act = float(coefs @ values[cols])
        tight_rows += int(sense == EQ or abs(act - r) <= 1e-7 * max(1.0, abs(r)))
        used.update(cols.tolist())
    used_cols = np.array(sorted(used), np.int64)
    tight_cols = int(np.sum(np.abs(values[used_cols]) <= 1e-9))
    return tight_rows + tight_cols > len(used_cols)


def binding(sense: str, rule: str, bound: float, slack: float) -> bool:
    """A hard rule with no room left (equalities always); targets are goals, never binding."""
    if rule in SOFT_RULES:
        return False
    return sense == "==" or abs(slack) <= 1e-6 * max(1.0, abs(bound))


# --- room for manoeuvre ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Room:
    """The smallest and largest total (all funds, all years) within tolerance of the optimum."""

    kind: Literal["priority", "entity", "cell"]
    code: str
    name: str
    amount: float
    low: float
    high: float

    @property
    def forced(self) -> bool:
        return self.high - self.low <= max(AMOUNT_STEP, 1e-6 * abs(self.high))


def objective_allowance(objective: float, tolerance: float, held: float | None = None) -> float:
    """How far a goal level may rise: `tolerance` of its optimum (plus solver noise), and for a
    level before the last at least the bound the solve itself held it to (`held`), so that the
    solution found is always inside the room."""
    allowed = objective + tolerance * abs(objective) + 1e-9 * max(1.0, abs(objective))
    return allowed if held is None else max(allowed, held)


def _group_cols(lp: LinearProgram, kind: str, code: str) -> np.ndarray:
    mandate = lp.plan.mandate
    if kind == "cell":
        chosen = np.array(["/".join(m.cell) == code for m in mandate], dtype=bool)
    else:
        k = {"entity": 0, "priority": 1}[kind]
        chosen = np.array([m.cell[k] == code for m in mandate], dtype=bool)
    if not len(chosen):
        return np.zeros(0, np.int64)
    return np.flatnonzero(chosen[lp.cell])


def flexibility(lp: LinearProgram, objectives: Mapping[str, float], values: np.ndarray | None,
                tolerance: float = DEFAULT_TOLERANCE, options: SolveOptions | None = None,
                items: Sequence[tuple[str, str]] | None = None) -> list[Room]:
    """Per thematic priority and entity (or the `items` given as (kind, code)): the range of its
    total while every target level stays within `tolerance` of its optimum.

    `values` are the solution's column values (for the amount it got), or None.
    """
    options = options or SolveOptions()
    plan = lp.plan
    b = _Rows(lp)
    if items is None:
        items = ([("priority", p.code) for p in plan.priorities if not p.support]
                 + [("entity", e.code) for e in plan.entities])
    names = {**{("priority", p.code): p.name for p in plan.priorities},
             **{("entity", e.code): e.name for e in plan.entities}}
    rows = b.not_tie_break
    goals = [lv for lv in lp.levels if lv.name != TIE_BREAK]
    out = []
    for kind, code in items:
        cols = _group_cols(lp, kind, code)
        amount = float(np.sum(values[cols])) if values is not None else math.nan
        ends = []
        for sign in (1.0, -1.0):
            copy = _Copy(b, rows, b.rhs)
            for k, level in enumerate(goals):
                z = float(objectives[level.name])
                held = (z * (1 + plan.level_tolerance) + plan.level_tolerance
                        if k < len(goals) - 1 else None)
                _bound_level(copy, level, objective_allowance(z, tolerance, held))
            answer = _solve(copy, [Level("room", cols, np.full(len(cols), sign), "")], options)
            if not answer.feasible or answer.values is None:
                raise SolveError(f"room for manoeuvre of {code}: the solver said {answer.status}")
            ends.append(float(np.sum(answer.values[cols])))
        low, high = ends
        out.append(Room(kind, code, names.get((kind, code), code), amount, min(low, high),  # type: ignore[arg-type]
                        max(low, high)))
    return out


# --- ranging: where the set of binding rules stays the same ---------------------------------------

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
    targets = tuple(replace(t, **({"share": value} if t.share is not None else {"amount": value}))
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
            items: Sequence[tuple[str, str]] | None = None) -> list[Range]:
    """For each ceiling and each thematic priority's target: the interval of its amount (or
    share) over which re-solving the plan keeps the same set of binding rules."""
    options = options or SolveOptions()
    plan = lp.plan
    if items is None:
        thematic = {p.code for p in plan.priorities if not p.support}
        items = ([("ceiling", label) for label, _, _ in plan.ceiling_periods()]
                 + [("target", t.code) for t in plan.targets
                    if t.selection.priorities is not None and t.selection.priorities <= thematic])
    base_set = binding_set(lp, values)
    rows = _Rows(lp)
    watched = rows.hard[rows.sense[rows.hard] != EQ]
    out = []
    for kind, code in items:
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

        def same(p: float, kind: str = kind, code: str = code, value: float = value
                 ) -> np.ndarray | None:
            variant = build(_variant(plan, kind, code, p, value))
            status, _, v, _ = solve_raw(variant, options)
            if status != "optimal" or v is None or binding_set(variant, v) != base_set:
                return None
            return _path_point(_Rows(variant), watched, v)

        q0 = _path_point(rows, watched, values)
        far = value * 4 + 1.0 if math.isinf(domain[1]) else domain[1]
        high, n_up = _edge(same, value, q0, 1.0, far, precision)
        low, n_down = _edge(same, value, q0, -1.0, domain[0], precision)
        out.append(Range(kind, code, name, source, parameter, value,  # type: ignore[arg-type]
                         low, high, n_up + n_down))
    return out


# --- the constraint table, a cell, the whole explanation ------------------------------------------

def _unit_one(unit: str) -> str:
    return "one " + (unit[:-1] if unit.endswith("s") else unit)


def _what(plan: Plan, lp: LinearProgram, i: int) -> str:
    """'of ceiling for 2024', 'on the floor on TP3 in 2026': what one more unit is added to."""
    row = lp.row(i)
    if row.rule == "target":
        match = _NAME.match(row.name)
        code, label = [*match.group(2).split(","), ""][:2] if match else [row.name, ""]
        return f"on the target {code} for {label}"
    w = _words(plan, lp, i)
    if w.noun == "ceiling":
        return f"of ceiling for {w.when}"
    if w.noun.startswith("expected receipts"):
        return f"of expected receipts {w.subject} in {w.when}"
    return f"on the {w.full()}"


def rule_sentence(plan: Plan, lp: LinearProgram, i: int, rule: str, price: float,
                  is_binding: bool, slack: float, objective: str) -> str:
    """A plain sentence for one rule at the optimum: binding or not, and what it costs."""
    unit = plan.unit
    if rule not in SOFT_RULES and not is_binding:
        return f"Not binding: {amount_text(abs(slack))} {unit} to spare."
    head = "Target" if rule == "target" else "Binding"
    if not np.isfinite(price):
        return f"{head}; its shadow price could not be computed."
    what = f"each extra {_unit_one(unit)[4:]} {_what(plan, lp, i)}"
    if abs(price) < 1e-9:
        return f"{head}, but {what} would not change {objective}."
    verb = "reduce" if price < 0 else "increase"
    return f"{head}: {what} would {verb} {objective} by {abs(price):.4g}."


CONSTRAINT_CSV = ["rule", "name", "source", "activity", "bound", "slack", "shadow_price"]


def constraint_table(lp: LinearProgram, constraints: pd.DataFrame, prices: Prices
                     ) -> pd.DataFrame:
    """Every rule of the solution (`Solution.constraints`) with its price at the final
    goal-programming level, whether it binds, and a sentence; in the model's order."""
    import pandas as pd

    rows = np.flatnonzero(lp.rules != RULE_GROUPS.index(TIE_BREAK))
    names = constraints["name"].tolist()
    if len(rows) != len(names) or (len(rows) and (lp.row_names[int(rows[0])] != names[0]
                                                  or lp.row_names[int(rows[-1])] != names[-1])):
        where = {name: i for i, name in enumerate(lp.row_names)}
        rows = np.array([where[n] for n in names], dtype=np.int64)
    frame = constraints.reset_index(drop=True).copy()
    frame["shadow_price"] = prices.prices[rows]
    frame["binding"] = [binding(s, r, b, sl) for s, r, b, sl in
                        zip(frame["sense"], frame["rule"], frame["bound"], frame["slack"],
                            strict=True)]
    objective = prices.level_text
    objective = objective if objective.startswith("the ") else "the " + objective
    frame["sentence"] = [rule_sentence(lp.plan, lp, int(i), r, float(p), bool(bd), float(sl),
                                       objective)
                         for i, r, p, bd, sl in zip(rows, frame["rule"], frame["shadow_price"],
                                                    frame["binding"], frame["slack"], strict=True)]
    for column in ("activity", "bound", "slack"):
        frame[column] = frame[column].astype(float).round(6) + 0.0
    frame["shadow_price"] = frame["shadow_price"].astype(float).round(9) + 0.0
    return pd.DataFrame(frame)


@dataclass(frozen=True)
class CellStory:
    """What determines one cell's amount: the binding rules and the targets it counts in."""

    cell: str
    amounts: tuple[tuple[int, str, float], ...]
    """(year, fund, amount) of the solution."""
    room: Room
    rules: tuple[dict, ...]
    """Binding rules the cell counts in, with price and sentence."""
    targets: tuple[dict, ...]


def explain_cell(lp: LinearProgram, table: pd.DataFrame, values: np.ndarray,
                 objectives: Mapping[str, float], cell: str, tolerance: float = DEFAULT_TOLERANCE,
                 options: SolveOptions | None = None) -> CellStory:
    """The cell's amounts, its room for manoeuvre, and the rules and targets that set them."""
    b = _Rows(lp)
    cols = _group_cols(lp, "cell", cell)
    plan = lp.plan
    amounts = tuple((int(lp.year[c]), plan.fund_codes[int(lp.fund[c])], float(values[c]))
                    for c in cols.tolist() if values[c] > 5e-7)
    (room,) = flexibility(lp, objectives, values, tolerance, options, [("cell", cell)])
    room = replace(room, name=cell)
    touching: set[int] = set()
    mine = set(cols.tolist())
    for i in range(b.n_rows):
        c, a = b.cols(i), b.coefs(i)
        if any(int(j) in mine and v > 0 for j, v in zip(c.tolist(), a.tolist(), strict=True)):
            touching.add(i)
    names = lp.row_names
    by_name = table.set_index("name")
    rules, targets = [], []
    for i in sorted(touching):
        name = names[i]
        if name not in by_name.index:
            continue
        r = by_name.loc[name]
        record = {"name": name, "rule": r["rule"], "source": r["source"], "text": r["text"],
                  "shadow_price": float(r["shadow_price"]), "sentence": r["sentence"]}
        if r["rule"] == "target":
            targets.append(record)
        elif bool(r["binding"]):
            rules.append(record)
    rules.sort(key=lambda r: -abs(r["shadow_price"]))
    return CellStory(cell, amounts, room, tuple(rules), tuple(targets))


@dataclass(frozen=True)
class Explanation:
    """Why the numbers of an optimal solution are what they are."""

    prices: Prices
    table: pd.DataFrame
    """`constraint_table`: every rule, its price, whether it binds, a sentence."""
    tolerance: float
    rooms: tuple[Room, ...] = ()
    ranges: tuple[Range, ...] = ()
    cell: CellStory | None = None

    @property
    def note(self) -> str:
        """What the prices are, said once wherever they are shown."""
        text = (f"Shadow prices are taken at the final goal-programming level ({self.prices.level}:"
                f" {self.prices.level_text}), with earlier levels held at their optimum; the "
                "tie-break toward the reference distribution is not priced. A price is the change"
                " of that objective per unit added to the rule's bound.")
        if self.prices.failed:
            text += f" No prices this time: {self.prices.failed}."
        if self.prices.degenerate:
            text += (" The optimum is degenerate: more rules are tight than needed to fix it, so"
                     " these prices are one valid set among several, and a price may hold in one"
                     " direction only.")
        return text


def explain(lp: LinearProgram, constraints: pd.DataFrame, objectives: Mapping[str, float],
            options: SolveOptions | None = None, tolerance: float = DEFAULT_TOLERANCE,
            deep: bool = False, cell: str | None = None) -> Explanation:
    """Prices and the constraint table; with `deep`, ranging and room for manoeuvre too (they
    re-solve the plan many times); with `cell`, that cell's story."""
    options = options or SolveOptions()
    try:
        prices = shadow_prices(lp, objectives, options)
    except SolveError as exc:  # the allocation stands; only its prices are missing
        k = final_goal_level(lp)
        level = lp.levels[k]
        prices = Prices(level.name, level.text, math.nan, np.full(lp.n_rows, np.nan), False,
                        str(exc))
    table = constraint_table(lp, constraints, prices)
    if not (deep or cell):
        return Explanation(prices, table, tolerance)
    status, _, values, _ = solve_raw(lp, options)
    if status != "optimal" or values is None:
        raise SolveError(f"the plan could not be solved again to explain it ({status})")
    rooms = tuple(flexibility(lp, objectives, values, tolerance, options)) if deep else ()
    ranges = tuple(ranging(lp, values, options)) if deep else ()
    story = (explain_cell(lp, table, values, objectives, cell, tolerance, options)
             if cell else None)
    return Explanation(prices, table, tolerance, rooms, ranges, story)
