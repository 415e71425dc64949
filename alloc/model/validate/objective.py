"""rules.toml [budget] and [objective]: whether the regular budget must balance, per year or per
biennium; the tolerance that holds each goal-programming level for the next; and how costed
requirements are valued (tranches of falling value, weights per priority or per strategic goal)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from alloc.model.domain import Priority, Tranche, Valuation
from alloc.model.validate.fields import MISSING, Document, Fields, natural_key

CeilingPeriod = Literal["year", "biennium"]
MAX_WEIGHT = 1e6


@dataclass(frozen=True)
class Budget:
    balance: bool = True
    ceiling_period: CeilingPeriod = "year"


@dataclass(frozen=True)
class Objective:
    level_tolerance: float
    valuation: Valuation


def read_budget(doc: Document) -> Budget:
    f = doc.fields(("rules", "budget"), "budget", required=False)
    balance = f.boolean("balance", True)
    ceiling_period = cast(CeilingPeriod, f.choice("ceiling_period", ("year", "biennium"), "year"))
    f.close()
    return Budget(balance, ceiling_period)


def read_objective(doc: Document, priorities: tuple[Priority, ...]) -> Objective:
    """[objective]: level_tolerance (default 1e-6, at most 0.1), value_level (default 1),
    tranches, weights (per thematic priority or support line) and goal_weights."""
    f = doc.fields(("rules", "objective"), "objective", required=False)
    tolerance = f.number("level_tolerance", default=1e-6, hi=0.1, what="a tolerance")
    level = f.number("value_level", default=1, lo=1, hi=100, what="a level 1, 2, ...")
    if level is not None and level != int(level):
        doc.error(f.at("value_level"), "expected a whole number")
    tranches = _tranches(doc, f)
    weights, sources = _weights(doc, f, priorities)
    f.close()
    return Objective(1e-6 if tolerance is None else tolerance,
                     Valuation(tranches, weights, sources, int(level or 1)))


def _tranches(doc: Document, f: Fields) -> tuple[Tranche, ...]:
    """The tranches by falling factor (then as written): the order requirements are funded in."""
    raw = f.raw("tranches")
    if raw is MISSING:
        return ()
    out = []
    for k, (code, t) in enumerate(doc.keyed(("rules", "objective", "tranches"), "tranche")):
        name = t.text("name", default=code)
        factor = t.number("factor", required=True, lo=0.0, hi=MAX_WEIGHT,
                          what="a factor (the value of a franc of this tranche, per unit of weight)")
        t.close()
        if factor is not None:
            out.append((-factor, k, Tranche(code, name, factor)))
    return tuple(t for *_, t in sorted(out, key=lambda x: (x[0], x[1])))


def _weights(doc: Document, f: Fields, priorities: tuple[Priority, ...]
             ) -> tuple[dict[str, float], dict[str, str]]:
    """A weight per priority: its own, else through its goal shares from goal weights, else 1
    when neither table is given (a priority with neither, when one is, has no weight)."""
    codes = tuple(p.code for p in priorities)
    own = _number_table(doc, f, "weights", codes, "a thematic priority or support line")
    goal_codes = tuple(sorted({g for p in priorities for g in p.goal_shares}, key=natural_key))
    by_goal = _number_table(doc, f, "goal_weights", goal_codes, "a strategic goal")
    given = f.raw("weights") is not MISSING or f.raw("goal_weights") is not MISSING
    weights: dict[str, float] = {}
    sources: dict[str, str] = {}
    for p in priorities:
        if p.code in own:
            weights[p.code], sources[p.code] = own[p.code], "weights"
        elif by_goal and p.goal_shares:
            weights[p.code] = sum(share * by_goal.get(g, 0.0) for g, share in p.goal_shares.items())
            sources[p.code] = "goal weights"
        elif not given:
            weights[p.code], sources[p.code] = 1.0, "default"
    return weights, sources


def _number_table(doc: Document, f: Fields, key: str, codes: tuple[str, ...],
                  what: str) -> dict[str, float]:
    raw = f.raw(key)
    if raw is MISSING:
        return {}
    path = f.at(key)
    if not isinstance(raw, dict):
        doc.error(path, f"expected a table of {what} code = weight")
        return {}
    out = {}
    for code, value in raw.items():
        if code not in codes:
            doc.unknown_code((*path, code), code, codes, what)
            continue
        number = doc.check_number((*path, code), value, 0.0, MAX_WEIGHT, "a weight")
        if number is not None:
            out[code] = number
    return out
