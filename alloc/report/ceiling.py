"""The ceiling as every output shows it: its total and named parts (`CeilingParts`), in whole
units that agree with the published tables.

The whole-unit ceiling of a year is the one the reconciliation table publishes (its ceiling rows,
rounded with the allocation so that the balance is exact); the parts are rounded to add up to it
(largest remainders). So the terminal, the Summary sheet, the Markdown and the explanation print
the same whole numbers, and run.json and constraints.csv the same amounts unrounded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from alloc.lp.solution import REVENUE_WORDS, SUPPORT_WORDS, CeilingParts, Solution
from alloc.report.rounding import RoundingError, largest_remainder, round_half_up
from alloc.report.tables import CEILING, Table, figure, reconciliation

__all__ = ["equation", "period_equations", "published", "published_parts", "record", "tenths",
           "whole_parts"]


def whole_parts(parts: CeilingParts, total: int | None = None) -> list[tuple[str, int]]:
    """The named parts in whole units adding up to `total` (default: the total rounded half up)."""
    named = parts.named()
    total = round_half_up(parts.total) if total is None else total
    try:
        whole = largest_remainder([a for _, a in named], total)
    except RoundingError:  # a total a hair off a whole number: the largest part takes the unit
        whole = [round_half_up(a) for _, a in named]
        big = max(range(len(whole)), key=lambda i: abs(named[i][1]))
        whole[big] += total - sum(whole)
    return list(zip([n for n, _ in named], whole, strict=True))


def tenths(parts: CeilingParts) -> tuple[float, list[tuple[str, float]]]:
    """The total and the named parts to a tenth of a unit, adding up (as the rules state them)."""
    named = parts.named()
    total = round_half_up(parts.total * 10)
    try:
        rounded = largest_remainder([a * 10 for _, a in named], total)
    except RoundingError:  # as in whole_parts
        rounded = [round_half_up(a * 10) for _, a in named]
        big = max(range(len(rounded)), key=lambda i: abs(named[i][1]))
        rounded[big] += total - sum(rounded)
    return total / 10, [(n, v / 10) for (n, _), v in zip(named, rounded, strict=True)]


def published(solution: Solution, rec: Table | None = None) -> dict[str, int]:
    """Whole-unit ceiling per year as the reconciliation table publishes it."""
    rec = rec if rec is not None else reconciliation(solution)
    rows = list(dict(rec.row_groups)[CEILING])
    return {str(y): int(sum(figure(rec.rounded, r, str(y)) for r in rows))
            for y in solution.plan.years}


def published_parts(solution: Solution, years: Sequence[int], rec: Table | None = None
                    ) -> list[tuple[str, int]]:
    """The named parts of the ceiling of `years` in whole units as the reconciliation and the
    financial plan publish them (its rounded rows: revenue lines, each growth rule or cut, the
    support costs earned): they add up to `published`'s ceiling, line for line."""
    rec = rec if rec is not None else reconciliation(solution)
    frame, cols = rec.rounded, [str(y) for y in years]

    def rows(prefix: str) -> int:
        return int(sum(figure(frame, r, c) for r in rec.rows if r.startswith(prefix) for c in cols))

    parts = solution.ceiling_parts(tuple(years))
    out = [(REVENUE_WORDS, rows("revenue:"))]
    out += [(words, rows(f"adjustment:{code}")) for code, words, _ in parts.adjustments]
    if parts.earns_support_costs:
        out.append((SUPPORT_WORDS, rows("support_costs:")))
    return out


def _number(x: float, decimals: int) -> str:
    return f"{x:,.{decimals}f}"


def equation(total: float, parts: list[tuple[str, float]] | list[tuple[str, int]],
             decimals: int = 0) -> str:
    """'179,066 = revenue lines 178,030 + programme support costs earned ... 1,036'."""
    terms = []
    for k, (name, amount) in enumerate(parts):
        if k == 0:
            terms.append(f"{name} {_number(amount, decimals)}")
        else:
            terms.append(f"{'-' if amount < 0 else '+'} {name} {_number(abs(amount), decimals)}")
    return f"{_number(total, decimals)} = " + " ".join(terms)


def period_equations(solution: Solution, whole: Mapping[str, int] | None = None
                     ) -> dict[str, str]:
    """Per ceiling period (a year, or a biennium where the plan sets the ceiling per biennium):
    '179,066 = revenue lines 178,030 + ...', in the tables' whole units (the sum of the years'
    published ceilings; computed from the reconciliation when not given)."""
    plan = solution.plan
    whole = whole if whole is not None else published(solution)
    out = {}
    for label, ys, _ in plan.ceiling_periods():
        total = sum(whole[str(y)] for y in ys)
        parts = published_parts(solution, ys)
        if sum(a for _, a in parts) != total:   # a reconciliation that says it could not agree
            parts = whole_parts(solution.ceiling_parts(ys, label), total)
        out[label] = equation(total, parts)
    return out


def record(solution: Solution) -> dict[str, dict]:
    """run.json's "ceiling" block: per year, the total and its parts, unrounded."""
    out = {}
    for y in solution.plan.years:
        p = solution.ceiling_parts(y)
        out[str(y)] = {
            "total": round(p.total, 6) + 0.0,
            "revenue": round(p.revenue, 6) + 0.0,
            "adjustments": [{"code": code, "name": words, "amount": round(a, 6) + 0.0}
                            for code, words, a in p.adjustments],
            "support_costs_earned": round(p.support_costs_earned, 6) + 0.0,
            "fixed": round(p.fixed, 6) + 0.0,
        }
    return out
