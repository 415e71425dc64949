"""The model's rows in the user's words: what a rule is called, where it was written, how an
amount is stated, and the sentences of a diagnosis (a conflict, a remedy).

Every phrase is built from the row's name, its source (file and key) and the plan's own names,
so that a message points at the line of the file the user has to change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from alloc.explain.diagnosis import Move
from alloc.explain.program import _Rows
from alloc.lp.build import LinearProgram
from alloc.lp.program import Row, RowHead
from alloc.model.domain import Plan

_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


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
    """The years of the period labelled `label` (a year, then a biennium, then the plan, as
    `Plan.periods` has them), () for none."""
    for y in plan.years:
        if str(y) == label:
            return (y,)
    if label in plan.biennia:
        return tuple(plan.biennia[label])
    if plan.years and label == f"{plan.years[0]}-{plan.years[-1]}":
        return tuple(plan.years)
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


def _words(plan: Plan, lp: LinearProgram, i: int, row: Row | RowHead | None = None) -> _Words:
    """What row i is about, in words (`row`: `lp.row(i)` or `lp.row_head(i)` when the caller has
    it already)."""
    row = lp.row_head(i) if row is None else row
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
        if any(words[i].noun == "ceiling" and (b.coefs(i) < 0).any() for i in shown_limits):
            # the row's bound is the ceiling's fixed part: the support costs earned are variables
            cap += " before the programme support costs earned"
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
