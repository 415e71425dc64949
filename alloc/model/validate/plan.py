"""financial-plan.toml [plan]: the plan's years and its biennia.

Every amount by year is read against these years, so without them validation cannot go on.
"""

from __future__ import annotations

import re
from typing import Any

from alloc.model.validate.fields import MISSING, Document, Fields, invisible, kind, span, years_text

FINANCIAL_PLAN_KEYS = ("plan", "revenue", "funds", "growth")
"""The tables of financial-plan.toml."""


def read_plan(doc: Document) -> tuple[tuple[int, ...], dict[str, tuple[int, ...]]]:
    """The plan's years (consecutive, in order; () if refused) and its biennia (label -> years)."""
    f = doc.fields(("financial_plan", "plan"), "plan")
    years = read_years(f)
    biennia = read_biennia(f, years)
    f.close()
    return years, biennia


def read_years(f: Fields) -> tuple[int, ...]:
    """The `years` of [plan]: consecutive calendar years in order; () if refused."""
    raw = f.raw("years", required=True, what="a list of years, e.g. [2024, 2025]")
    if raw is MISSING:
        return ()
    if (not isinstance(raw, list) or not raw
            or not all(isinstance(y, int) and not isinstance(y, bool) for y in raw)):
        f.doc.error(f.at("years"), "expected a list of years, e.g. [2024, 2025]")
    elif len(set(raw)) != len(raw) or sorted(raw) != raw:
        f.doc.error(f.at("years"), "years must be in order, each once")
    elif not all(1900 <= y <= 2200 for y in raw) or raw[-1] - raw[0] != len(raw) - 1:
        f.doc.error(f.at("years"), "expected consecutive calendar years")
    else:
        return tuple(raw)
    return ()


def read_biennia(f: Fields, years: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Biennia: two adjacent years each, together every year of the plan exactly once.

    Not given: the years two by two from the first, or none for an odd number of years.
    """
    doc = f.doc
    raw = f.raw("biennia")
    if raw is MISSING:
        if len(years) % 2:
            return {}
        return {f"{y}-{y + 1}": (y, y + 1) for y in years[::2]}
    if not isinstance(raw, dict):
        doc.error(f.at("biennia"), "expected a table label = [two adjacent years], e.g. "
                  "{ \"2024-2025\" = [2024, 2025], \"2026-2027\" = [2026, 2027] }")
        return {}
    plan = span(years)
    biennia: dict[str, tuple[int, ...]] = {}
    owner: dict[int, str] = {}
    before = len(doc.problems)
    for label, ys in raw.items():
        problem = _biennium_problem(str(label), ys, years, owner)
        if problem is not None:
            if problem:
                doc.error((*f.at("biennia"), str(label)), problem)
            continue
        owner.update(dict.fromkeys(ys, str(label)))
        biennia[str(label)] = tuple(ys)
    left = [y for y in years if y not in owner]
    if left and len(years) % 2 == 0 and len(doc.problems) == before:
        first = left[0] - (left[0] - years[0]) % 2
        doc.error(f.at("biennia"), f"{years_text(left)} {'is' if len(left) == 1 else 'are'} "
                  f"in no biennium: the biennia must cover every year of the plan ({plan}), "
                  f"two adjacent years each; add e.g. \"{first}-{first + 1}\" = "
                  f"[{first}, {first + 1}]")
    elif left and len(doc.problems) == before:
        doc.error(f.at("biennia"), f"{years_text(left)} {'is' if len(left) == 1 else 'are'} "
                  f"in no biennium: a plan of {len(years)} years ({plan}) cannot be split into "
                  "biennia of two adjacent years; give an even number of years, or remove "
                  "the biennia (then no rule may be per biennium)")
    return dict(sorted(biennia.items(), key=lambda kv: (min(kv[1]), kv[0])))


def _biennium_problem(label: str, ys: Any, years: tuple[int, ...],
                      owner: dict[int, str]) -> str | None:
    """What is wrong with one biennium, given the years of those accepted before it ("" when it
    is skipped without a word: the plan's years were refused); None when it is right."""
    if not isinstance(ys, list) or not all(isinstance(y, int) and not isinstance(y, bool)
                                           for y in ys):
        got = kind(ys) if not isinstance(ys, list) else "a list holding " + next(
            kind(y) for y in ys if not isinstance(y, int) or isinstance(y, bool))
        return f"expected a list of two adjacent years, e.g. [2024, 2025], got {got}"
    if not years:
        return ""
    outside = [y for y in ys if y not in years]
    if outside:
        verb = "is not a year" if len(outside) == 1 else "are not years"
        return (f"{years_text(outside)} {verb} of the plan ({span(years)}); a biennium is two "
                "adjacent years of the plan")
    if len(ys) != 2 or ys[1] != ys[0] + 1:
        shown = "[" + ", ".join(map(str, ys)) + "]"
        first = min(ys or years)
        first -= (first - years[0]) % 2  # the biennium of the plan that holds it
        if first + 1 not in years:
            first = years[0]
        return (f"{shown} is not a biennium: a biennium is two adjacent years in order, e.g. "
                f"[{first}, {first + 1}]")
    if not label or len(label) > 40 or any(invisible(ch) for ch in label):
        return ("a biennium's label is shown in the tables: give at most 40 characters without "
                "control characters, e.g. \"2024-2025\"")
    named = [int(t) for t in re.findall(r"(?<!\d)\d{4}(?!\d)", label)]
    wrong = [n for n in named if n not in ys]
    if wrong:
        return (f"the label '{label}' names {years_text(wrong)}, but the biennium holds {ys[0]} "
                f"and {ys[1]}; correct the label or the years")
    twice = [y for y in ys if y in owner]
    if twice:
        return (f"{years_text(twice)} {'is' if len(twice) == 1 else 'are'} already in the "
                f"biennium '{owner[twice[0]]}'; each year belongs to exactly one biennium")
    return None
