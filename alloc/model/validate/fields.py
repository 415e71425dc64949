"""What every part of validation shares: the document, its problems, and typed readers of its tables.

A `Document` is the resolved scenario being read plus the one list of problems that every part adds
to, so that all problems are reported at once. `Fields` reads one table of it: numbers, shares,
amounts per year, codes, selections of cells, fund groups; each refusal is recorded with the file
and field as the user wrote them (`Resolved.problem`), and keys nobody asked for are flagged, with
the closest known key suggested.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from alloc.errors import Problem
from alloc.model.domain import REGULAR, Selection
from alloc.model.scenario import INVISIBLE, OriginsBelow, Path_, Resolved
from alloc.suggest import closest

MAX_AMOUNT = 1e9
"""Largest amount accepted, in the plan's unit (thousands): a trillion francs is a typing error, not
a budget. Amounts alloc computes (units x value, the ceiling, escalated references) obey it too."""
DEFAULT_UNIT = "CHF thousands"
SHARE_TOLERANCE = 1e-6
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
PERIODS = ("year", "biennium", "plan")
"""What a bound or a target may be per."""


MISSING: Any = object()
"""Returned by `Fields.raw` for a key that is not there."""


def natural_key(code: str) -> list[int | str]:
    """Sort key of a code with numbers in it: P2 before P10."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", code)]


@dataclass(frozen=True)
class Codes:
    """The framework's codes, which funds, rules and the mandate refer to (in the model's order)."""

    entities: tuple[str, ...] = ()
    goals: tuple[str, ...] = ()
    thematic: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    """Thematic priorities, then support lines."""
    outputs: tuple[str, ...] = ()
    """The outputs, then `SUPPORT_OUTPUT`, the pseudo-output of support lines."""


class Document:
    """The resolved scenario being validated and the problems found in it so far.

    The parts of validation share one Document and so one list of problems. `unit` is the model's
    unit as messages name it; `in_unit` gives the same document once model.toml has said it.
    """

    def __init__(self, resolved: Resolved, unit: str = DEFAULT_UNIT,
                 problems: list[Problem] | None = None, below: list[OriginsBelow] | None = None):
        self.resolved = resolved
        self.unit = unit
        self.problems: list[Problem] = [] if problems is None else problems
        self._below: list[OriginsBelow] = [] if below is None else below
        """The origins indexed, made at the first problem (most documents have none)."""

    def in_unit(self, unit: str) -> Document:
        """The same document and list of problems, with messages in `unit`."""
        return Document(self.resolved, unit, self.problems, self._below)

    def error(self, path: Path_, message: str) -> None:
        if not self._below:
            self._below.append(OriginsBelow(self.resolved.origins))
        self.problems.append(self.resolved.problem(path, message, self._below[0]))

    def check_number(self, path: Path_, value: Any, lo: float, hi: float, what: str) -> float | None:
        """`value` as a float within [lo, hi], or None with the problem recorded."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(path, f"expected {what}, got {kind(value)}")
            return None
        number = float(value)
        if number < lo:
            self.error(path, f"expected {what}, got {number:g}: must be at least {lo:g}")
            return None
        if number > hi:
            self.error(path, f"expected {what}, got {number:g}: must be at most {hi:g}"
                       + (f"; is it in {self.unit}?" if hi == MAX_AMOUNT else ""))
            return None
        return number

    def missing_years(self, path: Path_, missing: list[int], years: tuple[int, ...]) -> None:
        """A table by year that leaves out years of the plan, and where the plan's years are set."""
        listed = years_text(missing)
        here = self.resolved.source(path).file
        src = self.resolved.source(("financial_plan", "plan", "years"))
        where = (f", set in {src.file}: {src.field(('financial_plan', 'plan', 'years'))}"
                 if src.file != here else "")
        self.error(path, f"has no entry for {listed}, {'a year' if len(missing) == 1 else 'years'} "
                   f"of the plan ({span(years)}{where}); a table by year must give every "
                   f"year: add {missing[0]} = ... (and any other year missing), or give one number "
                   "for every year")

    def too_large(self, path: Path_, amount: float, year: int, what: str, check: str) -> None:
        """An amount alloc computes from the input that is beyond the sanity bound."""
        self.error(path, f"{what} comes to {amount:,.0f} {self.unit} in {year}, more than the "
                   f"limit of {MAX_AMOUNT:,.0f}; check {check}")

    def unknown_code(self, path: Path_, code: str, known: Iterable[str], what: str) -> None:
        known = tuple(known)
        hint = _closest_code(code, known)
        self.error(path, f"'{code}' is not {what} of the model"
                   + (f"; did you mean '{hint}'?" if hint else ".")
                   + (f" Known: {', '.join(known)}." if 0 < len(known) <= 30 else "")
                   + (" The model has none." if not known else ""))

    def table(self, path: Path_, required: bool = True) -> dict[str, Any]:
        """The table at `path`; {} (with a problem if it had to be there) when it is not one."""
        node: Any = self.resolved.doc
        for part in path:
            node = node.get(part, MISSING) if isinstance(node, dict) else MISSING
        if node is MISSING:
            if required:
                self.error(path, "missing table")
            return {}
        if not isinstance(node, dict):
            self.error(path, f"expected a table, got {kind(node)}")
            return {}
        return node

    def fields(self, path: Path_, what: str, required: bool = True) -> Fields:
        """The table at `path` as Fields."""
        return Fields(self, path, self.table(path, required), what)

    def keyed(self, path: Path_, what: str, required: bool = True) -> list[tuple[str, Fields]]:
        """The entries of a table of codes (e.g. entities.BR), in the document's order."""
        table = self.table(path, required)
        if required and not table and path_exists(self.resolved.doc, path):
            self.error(path, f"is empty; expected at least one {what}")
        out = []
        for code, body in table.items():
            if not CODE.match(str(code)):
                self.error((*path, str(code)), "a code must start with a letter or digit and hold "
                           "only letters, digits, '.', '-' and '_' (at most 40)")
                continue
            out.append((str(code), Fields(self, (*path, str(code)), body, what)))
        return out

    def ordered(self, path: Path_, what: str, required: bool = True) -> list[tuple[str, Fields, float]]:
        """The entries of a table of codes by their `order` key, then by code (P2 before P10)."""
        out = []
        for code, f in self.keyed(path, what, required):
            order = f.number("order", default=0, lo=-1e6, hi=1e6, what="an order number")
            out.append((code, f, 0 if order is None else order))  # None: refused, reported
        return sorted(out, key=lambda t: (t[2], natural_key(t[0])))

    def known_keys(self, path: Path_, keys: Iterable[str], what: str) -> None:
        """Flag the keys of the (required) table at `path` that are not `keys`."""
        f = self.fields(path, what)
        for key in keys:
            f.raw(key)
        f.close()


class Fields:
    """Typed access to one table of the document; problems recorded, unknown keys flagged."""

    def __init__(self, doc: Document, path: Path_, table: object, what: str):
        self.doc = doc
        self.path = path
        self.ok = isinstance(table, dict)
        if not self.ok:
            doc.error(path, f"expected a table ({what}), got {kind(table)}")
        self.table: dict[str, Any] = table if isinstance(table, dict) else {}
        self.allowed: list[str] = []

    def at(self, key: str) -> Path_:
        return (*self.path, key)

    def raw(self, key: str, required: bool = False, what: str = "a value") -> Any:
        """The value as written, or MISSING; the key is known from now on."""
        self.allowed.append(key)
        if key not in self.table:
            if required and self.ok:
                self.doc.error(self.at(key), f"missing; expected {what}")
            return MISSING
        return self.table[key]

    def text(self, key: str, required: bool = False, default: str = "") -> str:
        value = self.raw(key, required, "text in quotes")
        if value is MISSING:
            return default
        if not isinstance(value, str):
            self.doc.error(self.at(key), f"expected text in quotes, got {kind(value)}")
            return default
        return value

    def number(self, key: str, *, required: bool = False, default: float | None = None,
               lo: float = 0.0, hi: float = MAX_AMOUNT, what: str | None = None) -> float | None:
        """A number within [lo, hi]; `default` when not given, None when refused."""
        what = what or f"an amount in {self.doc.unit}"
        value = self.raw(key, required, what)
        if value is MISSING:
            return default
        return self.doc.check_number(self.at(key), value, lo, hi, what)

    def share(self, key: str, required: bool = False) -> float | None:
        return self.number(key, required=required, hi=1.0, what="a share between 0 and 1")

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is MISSING:
            return default
        if not isinstance(value, bool):
            self.doc.error(self.at(key), f"expected true or false, got {kind(value)}")
            return default
        return value

    def choice(self, key: str, options: Iterable[str], default: str) -> str:
        options = tuple(options)
        value = self.raw(key)
        if value is MISSING:
            return default
        if value not in options:
            hint = closest(str(value), options)
            self.doc.error(self.at(key), f"expected one of {', '.join(options)}, got {value!r}"
                           + (f"; did you mean '{hint}'?" if hint else ""))
            return default
        return str(value)

    def per_year(self, key: str, years: Iterable[int], *, required: bool = False,
                 lo: float = 0.0, hi: float = MAX_AMOUNT, what: str | None = None,
                 every_year: bool = False) -> dict[int, float] | None:
        """One number for every year, or a table keyed by year; None when not given or refused.

        With `every_year`, a table must give every year of the plan (money that feeds the ceiling
        or a fund: a year left out would silently count as nothing); without it, a year left out
        means "no rule that year" (docs/model-format.md says which keys are which).
        """
        what = what or f"an amount in {self.doc.unit}"
        years = tuple(years)
        value = self.raw(key, required, f"{what}, one number or a table by year")
        if value is MISSING:
            return None
        if not isinstance(value, dict):
            number = self.doc.check_number(self.at(key), value, lo, hi, what)
            return None if number is None else {y: number for y in years}
        out: dict[int, float] = {}
        for k, item in value.items():
            year = int(k) if str(k).isdecimal() else None  # not isdigit: int('²') fails
            if year is None or year not in years:
                self.doc.error((*self.at(key), str(k)),
                               f"'{k}' is not a year of the plan ({', '.join(map(str, years))})")
                continue
            number = self.doc.check_number((*self.at(key), str(k)), item, lo, hi, what)
            if number is not None:
                out[year] = number
        given = {int(k) for k in value if str(k).isdecimal()}
        missing = [y for y in years if y not in given]
        if every_year and missing:
            self.doc.missing_years(self.at(key), missing, years)
        return out

    def codes(self, key: str, known: Iterable[str], what: str) -> frozenset[str] | None:
        """A code or a non-empty list of codes, each checked against `known`; None if not given."""
        value = self.raw(key)
        if value is MISSING:
            return None
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            self.doc.error(self.at(key), f"expected a code of {what} or a non-empty list of them")
            return None
        known = tuple(known)
        for item in items:
            if item not in known:
                self.doc.unknown_code(self.at(key), item, known, what)
        return frozenset(items)

    def selection(self, codes: Codes) -> Selection:
        """The cells a rule applies to: its entity, priority and output keys."""
        return Selection(
            entities=self.codes("entity", codes.entities, "an entity"),
            priorities=self.codes("priority", codes.priorities, "a priority or support line"),
            outputs=self.codes("output", codes.outputs, "an output"),
        )

    def funds(self, key: str, fund_codes: tuple[str, ...], default: str) -> tuple[str, ...]:
        """regular, extrabudgetary, all or a list of fund codes, as fund codes in the plan's order."""
        value = self.raw(key)
        if value is MISSING:
            value = default
        groups = {"regular": (REGULAR,), "extrabudgetary": fund_codes[1:], "all": fund_codes}
        if isinstance(value, str) and value in groups:
            return groups[value]
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            self.doc.error(self.at(key), "expected regular, extrabudgetary, all or a list of fund "
                           "codes")
            return fund_codes
        for item in items:
            if item not in fund_codes:
                self.doc.unknown_code(self.at(key), item, fund_codes, "a fund")
        return tuple(f for f in fund_codes if f in items)

    def close(self) -> None:
        """Flag every key of the table that no reader asked for."""
        for key in self.table:
            if key not in self.allowed:
                hint = closest(str(key), self.allowed)
                self.doc.error(self.at(str(key)), "unknown key"
                               + (f"; did you mean '{hint}'?" if hint else ".")
                               + f" Expected one of: {', '.join(self.allowed)}.")


@functools.lru_cache(maxsize=256)
def _closest_code(code: str, known: tuple[str, ...]) -> str | None:
    """`closest`, once per code: a code renamed in the framework but not in a large mandate is
    reported on thousands of rows, and each suggestion compares it with every known code."""
    return closest(code, known)


def path_exists(doc: dict[str, Any], path: Path_) -> bool:
    node: Any = doc
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def span(years: tuple[int, ...]) -> str:
    """The plan's years as a span: 2024-2027 (or 2024 alone)."""
    if not years:
        return ""
    return str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"


def years_text(years: list[int]) -> str:
    """2026; 2026 and 2027; 2024, 2026 and 2027."""
    text = [str(y) for y in years]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


def invisible(ch: str) -> bool:
    """A character that does not show as itself (a control, a bidi override)."""
    return unicodedata.category(ch) in INVISIBLE


def kind(value: Any) -> str:
    """What a value is, as a message says it: "text ('ten')", "a number (5)", "a table"."""
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value:g})"
    if isinstance(value, str):
        return f"text ('{value[:40]}')"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return f"a date or time ({value.isoformat()}), not in quotes"
    return type(value).__name__
