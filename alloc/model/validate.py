"""Validation: a resolved scenario document becomes a `Plan`, or every problem is reported at once.

Each problem names the file and the field as the user wrote them, says what was expected, and
suggests the closest valid key or code when one was misspelt.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from alloc.errors import InputError, Problem
from alloc.model.domain import (
    REGULAR,
    SUPPORT_OUTPUT,
    AllocationTarget,
    Bound,
    CeilingAdjustment,
    Cell,
    Commitment,
    Entity,
    Envelope,
    Fund,
    Goal,
    MandateCell,
    Outcome,
    Output,
    Plan,
    Priority,
    RevenueLine,
    Selection,
    Stability,
    StrategicTarget,
    SupportServices,
)
from alloc.model.scenario import INVISIBLE, Path_, Resolved
from alloc.suggest import closest

MAX_AMOUNT = 1e9
"""Largest amount accepted, in the plan's unit (thousands): a trillion francs is a typing error, not
a budget. Amounts alloc computes (units x value, the ceiling, escalated references) obey it too."""
DEFAULT_UNIT = "CHF thousands"
SHARE_TOLERANCE = 1e-6
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
MISSING: Any = object()
REVENUE_GROUPS = ("assessed", "cost_recovery", "interest", "reserve", "other")
PERIODS = ("year", "biennium", "plan")


def natural_key(code: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", code)]


class Fields:
    """Typed access to one table of the document; problems recorded, unknown keys flagged."""

    def __init__(self, v: Validator, path: Path_, table: object, what: str):
        self.v = v
        self.path = path
        self.ok = isinstance(table, dict)
        if not self.ok:
            v.error(path, f"expected a table ({what}), got {_kind(table)}")
        self.table: dict = table if isinstance(table, dict) else {}
        self.allowed: list[str] = []

    def at(self, key: str) -> Path_:
        return (*self.path, key)

    def raw(self, key: str, required: bool = False, what: str = "a value") -> Any:
        self.allowed.append(key)
        if key not in self.table:
            if required and self.ok:
                self.v.error(self.at(key), f"missing; expected {what}")
            return MISSING
        return self.table[key]

    def text(self, key: str, required: bool = False, default: str = "") -> str:
        value = self.raw(key, required, "text in quotes")
        if value is MISSING:
            return default
        if not isinstance(value, str):
            self.v.error(self.at(key), f"expected text in quotes, got {_kind(value)}")
            return default
        return value

    def number(self, key: str, *, required: bool = False, default: Any = None, lo: float = 0.0,
               hi: float = MAX_AMOUNT, what: str | None = None) -> Any:
        what = what or f"an amount in {self.v.unit}"
        value = self.raw(key, required, what)
        if value is MISSING:
            return default
        return self.v.check_number(self.at(key), value, lo, hi, what)

    def share(self, key: str, required: bool = False) -> float | None:
        return self.number(key, required=required, hi=1.0, what="a share between 0 and 1")

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is MISSING:
            return default
        if not isinstance(value, bool):
            self.v.error(self.at(key), f"expected true or false, got {_kind(value)}")
            return default
        return value

    def choice(self, key: str, options: Iterable[str], default: str) -> str:
        options = tuple(options)
        value = self.raw(key)
        if value is MISSING:
            return default
        if value not in options:
            hint = closest(str(value), options)
            self.v.error(self.at(key), f"expected one of {', '.join(options)}, got {value!r}"
                         + (f"; did you mean '{hint}'?" if hint else ""))
            return default
        return value

    def per_year(self, key: str, years: Iterable[int], *, required: bool = False,
                 lo: float = 0.0, hi: float = MAX_AMOUNT, what: str | None = None,
                 every_year: bool = False) -> dict[int, float] | None:
        """One number for every year, or a table keyed by year.

        With `every_year`, a table must give every year of the plan (money that feeds the ceiling
        or a fund: a year left out would silently count as nothing); without it, a year left out
        means "no rule that year" (docs/model-format.md says which keys are which).
        """
        what = what or f"an amount in {self.v.unit}"
        years = tuple(years)
        value = self.raw(key, required, f"{what}, one number or a table by year")
        if value is MISSING:
            return None
        if not isinstance(value, dict):
            number = self.v.check_number(self.at(key), value, lo, hi, what)
            return None if number is None else {y: number for y in years}
        out: dict[int, float] = {}
        for k, item in value.items():
            year = int(k) if str(k).isdigit() else None
            if year not in years:
                self.v.error((*self.at(key), str(k)),
                             f"'{k}' is not a year of the plan ({', '.join(map(str, years))})")
                continue
            number = self.v.check_number((*self.at(key), str(k)), item, lo, hi, what)
            if number is not None:
                out[year] = number
        given = {int(k) for k in value if str(k).isdigit()}
        missing = [y for y in years if y not in given]
        if every_year and missing:
            self.v.missing_years(self.at(key), missing, years)
        return out

    def codes(self, key: str, known: Iterable[str], what: str) -> frozenset[str] | None:
        value = self.raw(key)
        if value is MISSING:
            return None
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            self.v.error(self.at(key), f"expected a code of {what} or a non-empty list of them")
            return None
        known = tuple(known)
        for item in items:
            if item not in known:
                self.v.unknown_code(self.at(key), item, known, what)
        return frozenset(items)

    def selection(self, plan: _Framework) -> Selection:
        return Selection(
            entities=self.codes("entity", plan.entity_codes, "an entity"),
            priorities=self.codes("priority", plan.priority_codes, "a priority or support line"),
            outputs=self.codes("output", plan.output_codes, "an output"),
        )

    def funds(self, key: str, fund_codes: tuple[str, ...], default: str) -> tuple[str, ...]:
        value = self.raw(key)
        if value is MISSING:
            value = default
        groups = {"regular": (REGULAR,), "extrabudgetary": fund_codes[1:], "all": fund_codes}
        if isinstance(value, str) and value in groups:
            return groups[value]
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            self.v.error(self.at(key), "expected regular, extrabudgetary, all or a list of fund codes")
            return fund_codes
        for item in items:
            if item not in fund_codes:
                self.v.unknown_code(self.at(key), item, fund_codes, "a fund")
        return tuple(f for f in fund_codes if f in items)

    def close(self) -> None:
        for key in self.table:
            if key not in self.allowed:
                hint = closest(str(key), self.allowed)
                self.v.error(self.at(str(key)), "unknown key"
                             + (f"; did you mean '{hint}'?" if hint else ".")
                             + f" Expected one of: {', '.join(self.allowed)}.")


class _Framework:
    def __init__(self) -> None:
        self.entity_codes: tuple[str, ...] = ()
        self.priority_codes: tuple[str, ...] = ()
        self.thematic_codes: tuple[str, ...] = ()
        self.output_codes: tuple[str, ...] = ()
        self.goal_codes: tuple[str, ...] = ()


class Validator:
    def __init__(self, resolved: Resolved):
        self.r = resolved
        self.problems: list[Problem] = []
        self.unit = DEFAULT_UNIT
        """The model's unit, for messages: read first, from model.toml."""

    def error(self, path: Path_, message: str) -> None:
        self.problems.append(self.r.problem(path, message))

    def check_number(self, path: Path_, value: Any, lo: float, hi: float, what: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(path, f"expected {what}, got {_kind(value)}")
            return None
        value = float(value)
        if value < lo:
            self.error(path, f"expected {what}, got {value:g}: must be at least {lo:g}")
            return None
        if value > hi:
            self.error(path, f"expected {what}, got {value:g}: must be at most {hi:g}"
                       + (f"; is it in {self.unit}?" if hi == MAX_AMOUNT else ""))
            return None
        return value

    def missing_years(self, path: Path_, missing: list[int], years: tuple[int, ...]) -> None:
        """A table by year that leaves out years of the plan, and where the plan's years are set."""
        listed = _years_text(missing)
        here = self.r.source(path).file
        src = self.r.source(("financial_plan", "plan", "years"))
        where = (f", set in {src.file}: {src.field(('financial_plan', 'plan', 'years'))}"
                 if src.file != here else "")
        self.error(path, f"has no entry for {listed}, {'a year' if len(missing) == 1 else 'years'} "
                   f"of the plan ({_span(years)}{where}); a table by year must give every "
                   f"year: add {missing[0]} = ... (and any other year missing), or give one number "
                   "for every year")

    def too_large(self, path: Path_, amount: float, year: int, what: str, check: str) -> None:
        """An amount alloc computes from the input that is beyond the sanity bound."""
        self.error(path, f"{what} comes to {amount:,.0f} {self.unit} in {year}, more than the "
                   f"limit of {MAX_AMOUNT:,.0f}; check {check}")

    def unknown_code(self, path: Path_, code: str, known: Iterable[str], what: str) -> None:
        known = tuple(known)
        hint = closest(code, known)
        self.error(path, f"'{code}' is not {what} of the model"
                   + (f"; did you mean '{hint}'?" if hint else ".")
                   + (f" Known: {', '.join(known)}." if 0 < len(known) <= 30 else "")
                   + (" The model has none." if not known else ""))

    def table(self, path: Path_, required: bool = True) -> dict:
        node: Any = self.r.doc
        for part in path:
            node = node.get(part, MISSING) if isinstance(node, dict) else MISSING
        if node is MISSING:
            if required:
                self.error(path, "missing table")
            return {}
        if not isinstance(node, dict):
            self.error(path, f"expected a table, got {_kind(node)}")
            return {}
        return node

    def keyed(self, path: Path_, what: str, required: bool = True) -> list[tuple[str, Fields]]:
        """The entries of a table of codes (e.g. entities.BR), in a stable order."""
        table = self.table(path, required)
        if required and not table and path_exists(self.r.doc, path):
            self.error(path, f"is empty; expected at least one {what}")
        out = []
        for code, body in table.items():
            if not CODE.match(str(code)):
                self.error((*path, str(code)), "a code must start with a letter or digit and hold "
                           "only letters, digits, '.', '-' and '_' (at most 40)")
                continue
            out.append((str(code), Fields(self, (*path, str(code)), body, what)))
        return out

    def run(self) -> Plan:
        r = self.r
        meta = Fields(self, ("model",), self.table(("model",)), "model")
        title = meta.text("title", required=True)
        unit = meta.text("unit", default=DEFAULT_UNIT)
        if not re.match(r"^[A-Z]{3} thousands$", unit):
            self.error(("model", "unit"), f"expected a currency code and 'thousands', such as "
                       f"\"CHF thousands\" or \"USD thousands\"; got '{unit}'. alloc works in "
                       "thousands: convert the amounts if they are in units")
        else:
            self.unit = unit
        inputs_date = self._date(meta, "inputs_date")
        meta.text("description")
        meta.close()

        fw = _Framework()
        entities = self._entities(fw)
        goals = self._goals(fw)
        priorities = self._priorities(fw)
        outputs = self._outputs(fw)
        years, biennia = self._years()
        if not years:
            raise InputError(self.problems)
        revenue = self._revenue(years)
        adjustments, envelope_cut = self._growth(years, revenue, fw)
        funds = self._funds(fw, years)
        fund_codes = (REGULAR, *(f.code for f in funds))
        mandate = self._mandate(fw, years)
        budget = Fields(self, ("rules", "budget"), self.table(("rules", "budget"), False), "budget")
        balance = budget.boolean("balance", True)
        ceiling_period = budget.choice("ceiling_period", ("year", "biennium"), "year")
        budget.close()
        ceilings = {y: sum(line.amounts.get(y, 0.0) for line in revenue)
                    + sum(a.amounts.get(y, 0.0) for a in adjustments) for y in years}
        envelopes = self._envelopes(fw, years, ceilings, envelope_cut)
        commitments = self._commitments(fw, years, fund_codes)
        bounds = self._bounds(fw, fund_codes)
        stability = self._stability(fw, mandate)
        targets = self._targets(fw, fund_codes)
        objective = Fields(self, ("rules", "objective"),
                           self.table(("rules", "objective"), False), "objective")
        tolerance = objective.number("level_tolerance", default=1e-6, hi=0.1, what="a tolerance")
        objective.close()
        support_services = self._support_services(priorities)
        rules = Fields(self, ("rules",), self.table(("rules",)), "rules")
        for key in ("budget", "envelopes", "committed", "bounds", "stability", "targets",
                    "objective", "support_distribution"):
            rules.raw(key)
        rules.close()
        self._cross_checks(mandate, commitments, targets, bounds, fw)
        self._biennia_needed(years, biennia, [
            (("rules", "budget", "ceiling_period"), ceiling_period),
            *((("rules", "bounds", b.code, "period"), b.period) for b in bounds),
            *((("rules", "targets", t.code, "period"), t.period) for t in targets)])
        if self.problems:
            raise InputError(self.problems)
        return Plan(
            name=r.name, model=r.model, title=r.title or title, unit=unit,
            inputs_date=inputs_date, scenario_chain=r.chain, entities=entities, goals=goals,
            priorities=priorities, outputs=outputs, years=years, biennia=biennia,
            revenue=revenue, adjustments=adjustments, funds=funds, mandate=mandate, envelopes=envelopes,
            commitments=commitments, bounds=bounds, stability=stability, targets=targets,
            balance_budget=balance, ceiling_period=ceiling_period,  # type: ignore[arg-type]
            level_tolerance=tolerance, support_services=support_services,
            overrides=tuple(r.overrides),
            input_files=dict(sorted(r.files.items())),
            sources=self._sources(mandate),
        )

    def _date(self, f: Fields, key: str) -> str:
        """A real calendar date, as YYYY-MM-DD text (a TOML date such as 2024-01-31 works too)."""
        value = f.raw(key, required=True, what="a date YYYY-MM-DD in quotes, e.g. \"2024-01-31\"")
        if value is MISSING:
            return ""
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value.isoformat()
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            self.error(f.at(key), f"expected a date YYYY-MM-DD in quotes, e.g. \"2024-01-31\", got "
                       f"{_kind(value)}")
            return ""
        try:
            date = datetime.date.fromisoformat(value)
        except ValueError as exc:
            self.error(f.at(key), f"'{value}' is not a real date ({exc}); expected YYYY-MM-DD, "
                       "e.g. \"2024-01-31\"")
            return ""
        if not 1900 <= date.year <= 2200:
            self.error(f.at(key), f"'{value}' is not a plausible date (year {date.year}); expected "
                       "a year between 1900 and 2200")
            return ""
        return value

    def _sources(self, mandate: tuple[MandateCell, ...]) -> dict[str, str]:
        """Where each rule, fund and cell was written, for reports and diagnoses."""
        out = {}

        def note(path: Path_, key: str | None = None, nested: bool = True) -> None:
            src = self.r.source(path)
            text = f"{src.file}: {src.field(path)}"
            if nested:
                changed = sorted({f"{o.file}: {o.field(p)}" for p, o in self.r.origins.items()
                                  if p[: len(path)] == path and len(p) > len(path) and o != src})
                if changed:
                    text += f" (changed by {'; '.join(changed)})"
            out[key or ".".join(path)] = text

        for group in ("envelopes", "committed", "bounds", "targets"):
            for code in self.table(("rules", group), required=False):
                note(("rules", group, code))
        note(("rules", "stability"))
        note(("financial_plan", "revenue"))
        for code in self.table(("financial_plan", "funds"), required=False):
            note(("financial_plan", "funds", code))
        rows = self.table(("mandate",), required=False)
        wildcards = [r for r in rows if "*" in r.split("/")][::-1]
        for m in mandate:
            key = "/".join(m.cell)
            row = key if key in rows else next((r for r in wildcards if _matches(r, m.cell)), key)
            note(("mandate", row), f"mandate.{key}", nested=False)
        return dict(sorted(out.items()))

    # -- framework --------------------------------------------------------------------------
    def _ordered(self, items: list[tuple[str, Fields]]) -> list[tuple[str, Fields, int]]:
        out = []
        for code, f in items:
            order = f.number("order", default=0, lo=-1e6, hi=1e6, what="an order number")
            out.append((code, f, 0 if order is None else order))  # None: refused, reported
        return sorted(out, key=lambda t: (t[2], natural_key(t[0])))

    def _entities(self, fw: _Framework) -> tuple[Entity, ...]:
        out = []
        for code, f, _ in self._ordered(self.keyed(("framework", "entities"), "entity")):
            out.append(Entity(code, f.text("name", required=True)))
            f.close()
        fw.entity_codes = tuple(e.code for e in out)
        return tuple(out)

    def _goals(self, fw: _Framework) -> tuple[Goal, ...]:
        out = []
        for code, f, _ in self._ordered(self.keyed(("framework", "goals"), "strategic goal")):
            name = f.text("name", required=True)
            f.text("statement")
            targets = []
            raw = f.raw("targets")
            if raw is not MISSING:
                if not isinstance(raw, dict):
                    self.error(f.at("targets"), "expected a table of target code = \"name\"")
                else:
                    for tcode, tname in sorted(raw.items(), key=lambda kv: natural_key(kv[0])):
                        if not isinstance(tname, str):
                            self.error((*f.at("targets"), tcode), "expected the target's name")
                        else:
                            targets.append(StrategicTarget(tcode, tname))
            f.close()
            out.append(Goal(code, name, tuple(targets)))
        fw.goal_codes = tuple(g.code for g in out)
        return tuple(out)

    def _priorities(self, fw: _Framework) -> tuple[Priority, ...]:
        thematic = []
        for code, f, _ in self._ordered(self.keyed(("framework", "priorities"), "thematic priority")):
            name = f.text("name", required=True)
            outcomes = []
            raw = f.raw("outcomes")
            if raw is not MISSING:
                if not isinstance(raw, dict):
                    self.error(f.at("outcomes"), "expected a table of outcome number = \"text\"")
                else:
                    for ocode, text in sorted(raw.items(), key=lambda kv: natural_key(kv[0])):
                        if not isinstance(text, str):
                            self.error((*f.at("outcomes"), ocode), "expected the outcome's text")
                        else:
                            outcomes.append(Outcome(ocode, text))
            shares = self._goal_shares(f, fw)
            f.close()
            thematic.append(Priority(code, name, False, tuple(outcomes), shares))
        support = []
        for code, f, _ in self._ordered(self.keyed(("framework", "support"), "support line",
                                                   required=False)):
            support.append(Priority(code, f.text("name", required=True), True))
            f.close()
        seen: dict[str, str] = {}
        for p in (*thematic, *support):
            if p.code in seen or p.code == SUPPORT_OUTPUT:
                where = ("framework", "support" if p.support else "priorities", p.code)
                self.error(where, f"code '{p.code}' is already used"
                           + (" by a thematic priority" if p.code in seen else " (reserved)")
                           + "; codes of priorities and support lines must differ")
            seen[p.code] = p.code
        fw.thematic_codes = tuple(p.code for p in thematic)
        fw.priority_codes = tuple(p.code for p in (*thematic, *support))
        return (*thematic, *support)

    def _goal_shares(self, f: Fields, fw: _Framework) -> dict[str, float]:
        raw = f.raw("goal_shares", required=bool(fw.goal_codes),
                    what="a table goal = share, adding up to 1")
        if raw is MISSING:
            return {}
        if not isinstance(raw, dict):
            self.error(f.at("goal_shares"), "expected a table goal = share, adding up to 1")
            return {}
        shares = {}
        for goal, value in raw.items():
            if goal not in fw.goal_codes:
                self.unknown_code((*f.at("goal_shares"), goal), goal, fw.goal_codes, "a goal")
                continue
            number = self.check_number((*f.at("goal_shares"), goal), value, 0.0, 1.0,
                                       "a share between 0 and 1")
            if number is not None:
                shares[goal] = number
        if len(shares) == len(raw) and abs(sum(shares.values()) - 1.0) > SHARE_TOLERANCE:
            self.error(f.at("goal_shares"), f"the shares add up to {sum(shares.values()):.6g}, "
                       "expected 1; correct them so that the priority is fully assigned")
        return dict(sorted(shares.items(), key=lambda kv: fw.goal_codes.index(kv[0])))

    def _outputs(self, fw: _Framework) -> tuple[Output, ...]:
        out = []
        for code, f, _ in self._ordered(self.keyed(("framework", "outputs"), "output")):
            if code == SUPPORT_OUTPUT:
                self.error(f.path, "'support' is reserved for support lines; choose another code")
            out.append(Output(code, f.text("name", required=True)))
            f.close()
        fw.output_codes = (*(o.code for o in out), SUPPORT_OUTPUT)
        fw_sections = Fields(self, ("framework",), self.table(("framework",)), "framework")
        for key in ("entities", "goals", "priorities", "outputs", "support"):
            fw_sections.raw(key)
        fw_sections.close()
        return tuple(out)

    # -- financial plan ---------------------------------------------------------------------
    def _years(self) -> tuple[tuple[int, ...], dict[str, tuple[int, ...]]]:
        f = Fields(self, ("financial_plan", "plan"), self.table(("financial_plan", "plan")), "plan")
        raw = f.raw("years", required=True, what="a list of years, e.g. [2024, 2025]")
        years: tuple[int, ...] = ()
        if raw is not MISSING:
            if (not isinstance(raw, list) or not raw
                    or not all(isinstance(y, int) and not isinstance(y, bool) for y in raw)):
                self.error(f.at("years"), "expected a list of years, e.g. [2024, 2025]")
            elif len(set(raw)) != len(raw) or sorted(raw) != raw:
                self.error(f.at("years"), "years must be in order, each once")
            elif not all(1900 <= y <= 2200 for y in raw) or raw[-1] - raw[0] != len(raw) - 1:
                self.error(f.at("years"), "expected consecutive calendar years")
            else:
                years = tuple(raw)
        biennia = self._biennia(f, years)
        f.close()
        top = Fields(self, ("financial_plan",), self.table(("financial_plan",)), "financial plan")
        for key in ("plan", "revenue", "funds", "growth"):
            top.raw(key)
        top.close()
        return years, biennia

    def _biennia(self, f: Fields, years: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
        """Biennia: two adjacent years each, together every year of the plan exactly once."""
        raw = f.raw("biennia")
        if raw is MISSING:
            if len(years) % 2:
                return {}
            return {f"{y}-{y + 1}": (y, y + 1) for y in years[::2]}
        if not isinstance(raw, dict):
            self.error(f.at("biennia"), "expected a table label = [two adjacent years], e.g. "
                       "{ \"2024-2025\" = [2024, 2025], \"2026-2027\" = [2026, 2027] }")
            return {}
        plan = _span(years)
        biennia: dict[str, tuple[int, ...]] = {}
        owner: dict[int, str] = {}
        before = len(self.problems)
        for label, ys in raw.items():
            path = (*f.at("biennia"), str(label))
            if not isinstance(ys, list) or not all(isinstance(y, int) and not isinstance(y, bool)
                                                   for y in ys):
                got = _kind(ys) if not isinstance(ys, list) else "a list holding " + next(
                    _kind(y) for y in ys if not isinstance(y, int) or isinstance(y, bool))
                self.error(path, f"expected a list of two adjacent years, e.g. [2024, 2025], got "
                           f"{got}")
                continue
            if not years:
                continue
            outside = [y for y in ys if y not in years]
            if outside:
                verb = "is not a year" if len(outside) == 1 else "are not years"
                self.error(path, f"{_years_text(outside)} {verb} of the plan ({plan}); a biennium "
                           "is two adjacent years of the plan")
                continue
            if len(ys) != 2 or ys[1] != ys[0] + 1:
                shown = "[" + ", ".join(map(str, ys)) + "]"
                first = min(ys or years)
                first -= (first - years[0]) % 2  # the biennium of the plan that holds it
                if first + 1 not in years:
                    first = years[0]
                self.error(path, f"{shown} is not a biennium: a biennium is two adjacent years in "
                           f"order, e.g. [{first}, {first + 1}]")
                continue
            if not label or len(label) > 40 or any(_invisible(ch) for ch in label):
                self.error(path, "a biennium's label is shown in the tables: give at most 40 "
                           "characters without control characters, e.g. \"2024-2025\"")
                continue
            named = [int(t) for t in re.findall(r"(?<!\d)\d{4}(?!\d)", label)]
            wrong = [n for n in named if n not in ys]
            if wrong:
                self.error(path, f"the label '{label}' names {_years_text(wrong)}, but the biennium "
                           f"holds {ys[0]} and {ys[1]}; correct the label or the years")
                continue
            twice = [y for y in ys if y in owner]
            if twice:
                self.error(path, f"{_years_text(twice)} {'is' if len(twice) == 1 else 'are'} "
                           f"already in the biennium '{owner[twice[0]]}'; each year belongs to "
                           "exactly one biennium")
                continue
            owner.update(dict.fromkeys(ys, str(label)))
            biennia[str(label)] = tuple(ys)
        left = [y for y in years if y not in owner]
        if left and len(years) % 2 == 0 and len(self.problems) == before:
            first = left[0] - (left[0] - years[0]) % 2
            self.error(f.at("biennia"), f"{_years_text(left)} {'is' if len(left) == 1 else 'are'} "
                       f"in no biennium: the biennia must cover every year of the plan ({plan}), "
                       f"two adjacent years each; add e.g. \"{first}-{first + 1}\" = "
                       f"[{first}, {first + 1}]")
        elif left and len(self.problems) == before:
            self.error(f.at("biennia"), f"{_years_text(left)} {'is' if len(left) == 1 else 'are'} "
                       f"in no biennium: a plan of {len(years)} years ({plan}) cannot be split into "
                       "biennia of two adjacent years; give an even number of years, or remove "
                       "the biennia (then no rule may be per biennium)")
        return dict(sorted(biennia.items(), key=lambda kv: (min(kv[1]), kv[0])))

    def _revenue(self, years: tuple[int, ...]) -> tuple[RevenueLine, ...]:
        out = []
        rank: dict[str, tuple] = {}
        for code, f, order in self._ordered(self.keyed(("financial_plan", "revenue"), "revenue line")):
            name = f.text("name", required=True)
            group = f.choice("group", REVENUE_GROUPS, "other")
            units = f.per_year("units", years, hi=1e6, what="a number of contributory units",
                               every_year=True)
            unit_value = f.number("unit_value_chf", hi=1e9, what="the value of one unit in CHF")
            currency = self.unit.split()[0]
            other_value = f.number("unit_value", hi=1e9,
                                   what=f"the value of one unit in {currency} (not thousands)")
            value_key = "unit_value_chf" if unit_value is not None else "unit_value"
            if unit_value is not None and other_value is not None:
                self.error(f.at("unit_value"), "give unit_value_chf or unit_value, not both")
            elif unit_value is not None and currency != "CHF":
                self.error(f.at("unit_value_chf"), f"the model is in {self.unit}: give unit_value, "
                           f"the value of one unit in {currency}, not unit_value_chf")
            unit_value = other_value if unit_value is None else unit_value
            amounts = f.per_year("amount", years, every_year=True)
            source = f.text("source")
            receives = f.boolean("receives_support_costs", False)
            f.close()
            if units is not None or unit_value is not None:
                if amounts is not None:
                    self.error(f.at("amount"), "give either amount, or units and unit_value_chf")
                if units is None or unit_value is None:
                    self.error(f.path, "a line in units needs both units and unit_value_chf")
                    continue
                amounts = {y: u * unit_value / 1000.0 for y, u in units.items()}
                big = [y for y, a in amounts.items() if a > MAX_AMOUNT]
                if big:
                    self.too_large(f.path, amounts[big[0]], big[0],
                                   f"units x {value_key} / 1000", f"units ({units[big[0]]:g}) and "
                                   f"{value_key} ({unit_value:g}, the value of one unit in "
                                   f"{currency}, not thousands)")
                    continue
            elif amounts is None:
                if "amount" not in f.table:
                    self.error(f.path, f"missing amount ({self.unit} per year) or units and "
                               "unit_value_chf")
                continue
            out.append(RevenueLine(code, name, group, amounts, units, unit_value, source, receives))
            rank[code] = (REVENUE_GROUPS.index(group), order, natural_key(code))
        if sum(line.receives_support_costs for line in out) > 1:
            self.error(("financial_plan", "revenue"), "only one revenue line may have "
                       "receives_support_costs = true")
        for y in years:
            total = sum(line.amounts.get(y, 0.0) for line in out)
            if total > MAX_AMOUNT:
                self.too_large(("financial_plan", "revenue"), total, y, "the sum of the revenue "
                               "lines", f"that every amount is in {self.unit}")
                break
        return tuple(sorted(out, key=lambda line: rank[line.code]))

    def _growth(self, years: tuple[int, ...], revenue: tuple[RevenueLine, ...],
                fw: _Framework) -> tuple[tuple[CeilingAdjustment, ...], dict[str, float]]:
        """Growth rules and cuts as ceiling adjustments (and envelope cuts), stated per year."""
        table = self.table(("financial_plan", "growth"), required=False)
        if not table or not years:
            return (), {}
        f = Fields(self, ("financial_plan", "growth"), table, "growth rules")
        rule = f.choice("rule", ("none", "zero_nominal", "zero_real"), "none")
        income = {y: sum(line.amounts.get(y, 0.0) for line in revenue) for y in years}
        reference = f.number("reference", default=income[years[0]])
        if reference is None:  # refused above; go on with the default to find other problems
            reference = income[years[0]]
        inflation = f.per_year("inflation", years, hi=1.0, what="an inflation rate, e.g. 0.02",
                               every_year=True)
        cut = f.share("cut")
        cut_envelopes = f.codes("cut_envelopes", fw.entity_codes, "an entity")
        f.close()
        if rule == "zero_real" and "inflation" not in f.table:
            self.error(f.at("inflation"), "zero real growth needs an inflation rate per year")
        if rule != "zero_real" and "inflation" in f.table:
            self.error(f.at("inflation"), "an inflation rate is only used with rule = \"zero_real\"")
        if cut_envelopes is not None and cut is None:
            self.error(f.at("cut_envelopes"), "give the cut (a share) to apply to these envelopes")
        adjustments = []
        level = dict(income)
        if rule == "zero_nominal":
            level = dict.fromkeys(years, reference)
            name = f"Zero nominal growth: ceiling held at {reference:,.0f}"
        elif rule == "zero_real":
            factor, level = 1.0, {}
            for y in years:
                factor *= 1.0 + (inflation or {}).get(y, 0.0)
                level[y] = reference * factor
            big = [y for y in years if level[y] > MAX_AMOUNT]
            if big:
                self.too_large(f.at("reference"), level[big[0]], big[0], "the reference escalated "
                               "by inflation", "reference and inflation (a rate, 0.02 for 2%)")
            name = f"Zero real growth: {reference:,.0f} escalated by inflation"
        if rule != "none":
            adjustments.append(CeilingAdjustment(rule, name, {y: level[y] - income[y] for y in years}))
        envelope_cut: dict[str, float] = {}
        if cut is not None and cut_envelopes is None:
            adjustments.append(CeilingAdjustment(
                "cut", f"Cut of {cut:.1%} of the ceiling", {y: -cut * level[y] for y in years}))
        elif cut is not None and cut_envelopes is not None:
            envelope_cut = dict.fromkeys(sorted(cut_envelopes), cut)
        return tuple(adjustments), envelope_cut

    def _funds(self, fw: _Framework, years: tuple[int, ...]) -> tuple[Fund, ...]:
        out = []
        for code, f in self.keyed(("financial_plan", "funds"), "fund", required=False):
            if code == REGULAR:
                self.error(f.path, "'regular' is the regular budget; give the fund another code")
            name = f.text("name", required=True)
            pledges = f.per_year("pledge", years, required=True, every_year=True) or {}
            rate = f.share("receipt_rate", required=True)
            raw = f.raw("earmark")
            earmark = Selection()
            if raw is not MISSING:
                ef = Fields(self, f.at("earmark"), raw, "earmark")
                earmark = Selection(
                    ef.codes("entities", fw.entity_codes, "an entity"),
                    ef.codes("priorities", fw.priority_codes, "a priority or support line"),
                    ef.codes("outputs", fw.output_codes, "an output"),
                )
                ef.close()
            must_spend = f.boolean("must_spend", False)
            psc = f.share("support_cost_rate") or 0.0
            source = f.text("source")
            spread = f.number("receipt_rate_spread", hi=0.5,
                              what="a standard deviation of the receipt rate, e.g. 0.1")
            f.close()
            out.append(Fund(code, name, pledges, 1.0 if rate is None else rate, earmark,
                            must_spend, psc, source, spread))
        return tuple(sorted(out, key=lambda fund: natural_key(fund.code)))

    # -- mandate ----------------------------------------------------------------------------
    def _mandate(self, fw: _Framework, years: tuple[int, ...]) -> tuple[MandateCell, ...]:
        table = self.table(("mandate",))
        if not table:
            self.error(("mandate",), "the mandate lists no cell; add rows entity,priority,output")
        cells: dict[Cell, MandateCell] = {}
        for key, body in sorted(table.items(), key=lambda kv: "*" not in kv[0].split("/")):
            path = ("mandate", key)
            parts = key.split("/")
            if len(parts) != 3:
                self.error(path, f"'{key}' should be ENTITY/PRIORITY/OUTPUT")
                continue
            f = Fields(self, path, body if body is not None else {}, "mandate cell")
            lo = f.per_year("min", years)
            hi = f.per_year("max", years)
            f.text("note")
            f.close()
            axes = []
            for part, codes, what, column in (
                (parts[0], fw.entity_codes, "an entity", "entity"),
                (parts[1], fw.thematic_codes if parts[1] == "*" else fw.priority_codes,
                 "a priority or support line", "priority"),
                (parts[2], fw.output_codes[:-1] if parts[2] == "*" else fw.output_codes,
                 "an output", "output"),
            ):
                if part == "*":
                    axes.append(codes)
                elif part not in codes:
                    self.unknown_code((*path, column), part, codes, what)
                    axes.append(())
                else:
                    axes.append((part,))
            matched = 0
            for e in axes[0]:
                for p in axes[1]:
                    for o in axes[2]:
                        support = p not in fw.thematic_codes
                        if support != (o == SUPPORT_OUTPUT):
                            if "*" not in parts:
                                self.error(path, "support lines use the output 'support' and "
                                           "thematic priorities a product or service offering")
                            continue
                        matched += 1
                        cell = Cell(e, p, o)
                        for y in years:
                            if lo and hi and y in lo and y in hi and lo[y] > hi[y] + 1e-9:
                                self.error(path, f"min {lo[y]:g} is above max {hi[y]:g} in {y}")
                        cells[cell] = MandateCell(cell, lo or {}, hi or {})
            if not matched and "*" in parts and all(axes):
                self.error(path, f"'{key}' matches no cell: '*' in the priority column means the "
                           "thematic priorities, which use product and service offerings; name "
                           "support lines one by one with the output 'support'")
        return tuple(cells[c] for c in sorted(cells, key=self._cell_order(fw)))

    @staticmethod
    def _cell_order(fw: _Framework) -> Callable[[Cell], tuple[int, int, int]]:
        e = {c: i for i, c in enumerate(fw.entity_codes)}
        p = {c: i for i, c in enumerate(fw.priority_codes)}
        o = {c: i for i, c in enumerate(fw.output_codes)}
        return lambda cell: (e[cell.entity], p[cell.priority], o[cell.output])

    # -- rules ------------------------------------------------------------------------------
    def _envelopes(self, fw: _Framework, years: tuple[int, ...], ceilings: Mapping[int, float],
                   cuts: Mapping[str, float]) -> tuple[Envelope, ...]:
        out = []
        codes = list(self.table(("rules", "envelopes"), required=False))
        for entity in cuts:
            if entity not in codes:
                self.error(("financial_plan", "growth", "cut_envelopes"),
                           f"{entity} has no envelope in rules.envelopes to cut")
        for code, f in self.keyed(("rules", "envelopes"), "envelope", required=False):
            if code not in fw.entity_codes:
                self.unknown_code(f.path, code, fw.entity_codes, "an entity")
            fixed = f.per_year("fixed", years, every_year=True)
            lo = f.per_year("min", years) or {}
            hi = f.per_year("max", years) or {}
            lo_share = f.share("min_share")
            hi_share = f.share("max_share")
            f.close()
            if fixed is not None:
                if lo or hi or lo_share is not None or hi_share is not None:
                    self.error(f.at("fixed"), "fixed replaces min and max; give one or the other")
                lo, hi = dict(fixed), dict(fixed)
            for y in years:
                if lo_share is not None:
                    lo[y] = max(lo.get(y, 0.0), lo_share * ceilings[y])
                if hi_share is not None:
                    hi[y] = min(hi.get(y, float("inf")), hi_share * ceilings[y])
                if y in lo and y in hi and lo[y] > hi[y] + 1e-9:
                    key = "min" if "min" in f.table else "min_share"
                    self.error(f.at(key), f"the minimum {lo[y]:,.1f} is above the maximum "
                               f"{hi[y]:,.1f} in {y}")
            cut = 1.0 - cuts.get(code, 0.0)
            out.append(Envelope(code, {y: v * cut for y, v in sorted(lo.items())},
                                {y: v * cut for y, v in sorted(hi.items())}))
        rank = {code: i for i, code in enumerate(fw.entity_codes)}
        return tuple(sorted(out, key=lambda e: (rank.get(e.entity, len(rank)), e.entity)))

    def _commitments(self, fw: _Framework, years: tuple[int, ...],
                     fund_codes: tuple[str, ...]) -> tuple[Commitment, ...]:
        out = []
        for code, f in self.keyed(("rules", "committed"), "committed cost", required=False):
            name = f.text("name", default=code)
            selection = f.selection(fw)
            amounts = f.per_year("amount", years, required=True) or {}
            kind = f.choice("kind", ("minimum", "exact", "cap"), "minimum")
            funds = f.funds("funds", fund_codes, "all")
            f.close()
            out.append(Commitment(code, name, selection, amounts, kind, funds))  # type: ignore[arg-type]
        return tuple(sorted(out, key=lambda c: natural_key(c.code)))

    def _bounds(self, fw: _Framework, fund_codes: tuple[str, ...]) -> tuple[Bound, ...]:
        out = []
        for code, f in self.keyed(("rules", "bounds"), "bound", required=False):
            name = f.text("name", default=code)
            selection = f.selection(fw)
            period = f.choice("period", PERIODS, "year")
            funds = f.funds("funds", fund_codes, "all")
            lo, hi = f.number("min"), f.number("max")
            lo_share, hi_share = f.share("min_share"), f.share("max_share")
            f.close()
            if not any(k in f.table for k in ("min", "max", "min_share", "max_share")):
                self.error(f.path, "a bound needs min, max, min_share or max_share")
            if lo is not None and hi is not None and lo > hi:
                self.error(f.path, f"min {lo:g} is above max {hi:g}")
            if lo_share is not None and hi_share is not None and lo_share > hi_share:
                self.error(f.path, f"min_share {lo_share:g} is above max_share {hi_share:g}")
            out.append(Bound(code, name, selection, period, funds, lo, hi, lo_share, hi_share))  # type: ignore[arg-type]
        return tuple(sorted(out, key=lambda b: natural_key(b.code)))

    def _stability(self, fw: _Framework, mandate: tuple[MandateCell, ...]) -> Stability | None:
        table = self.table(("rules", "stability"), required=False)
        previous_table = self.table(("previous_allocation",), required=False)
        previous: dict[tuple[str, str], float] = {}
        pairs = {(m.cell.entity, m.cell.priority) for m in mandate}
        for key, body in previous_table.items():
            path = ("previous_allocation", key)
            parts = key.split("/")
            f = Fields(self, path, body, "previous allocation")
            amount = f.number("amount", required=True)
            f.close()
            if len(parts) != 2:
                self.error(path, f"'{key}' should be ENTITY/PRIORITY")
                continue
            if parts[0] not in fw.entity_codes:
                self.unknown_code((*path, "entity"), parts[0], fw.entity_codes, "an entity")
            elif parts[1] not in fw.priority_codes:
                self.unknown_code((*path, "priority"), parts[1], fw.priority_codes, "a priority")
            elif (parts[0], parts[1]) not in pairs:
                self.error(path, f"{parts[0]} has no cell for {parts[1]} in the mandate; remove "
                           "the row or add the cell")
            elif amount is not None:
                previous[(parts[0], parts[1])] = amount
        if not table:
            return None
        f = Fields(self, ("rules", "stability"), table, "stability")
        max_change = f.number("max_change", required=True, hi=10.0, what="a fraction, e.g. 0.25")
        f.close()
        if not previous_table:
            self.error(("rules", "stability"), "stability needs the previous allocation: add "
                       "previous-allocation.csv to the model or remove [stability]")
        return Stability(max_change or 0.0, dict(sorted(previous.items())))

    def _targets(self, fw: _Framework, fund_codes: tuple[str, ...]) -> tuple[AllocationTarget, ...]:
        out = []
        for code, f in self.keyed(("rules", "targets"), "target", required=False):
            name = f.text("name", default=code)
            selection = f.selection(fw)
            period = f.choice("period", PERIODS, "plan")
            funds = f.funds("funds", fund_codes, "all")
            level = f.number("level", default=1, lo=1, hi=100, what="a level 1, 2, ...")
            if level is not None and level != int(level):
                self.error(f.at("level"), "expected a whole number")
            short = f.number("shortfall_weight", default=1.0, hi=1e6, what="a weight")
            excess = f.number("excess_weight", default=1.0, hi=1e6, what="a weight")
            amount = f.number("amount")
            share = f.share("share")
            f.close()
            if ("amount" in f.table) == ("share" in f.table):
                self.error(f.at("share") if "share" in f.table else f.path,
                           "a target needs either amount or share, not both")
            out.append(AllocationTarget(code, name, selection, period, funds, int(level or 1),  # type: ignore[arg-type]
                                        short or 0.0, excess or 0.0, amount, share))
        return tuple(sorted(out, key=lambda t: (t.level, natural_key(t.code))))

    def _support_services(self, priorities: tuple[Priority, ...]) -> SupportServices:
        support = tuple(p.code for p in priorities if p.support)
        thematic = tuple(p.code for p in priorities if not p.support)
        f = Fields(self, ("rules", "support_distribution"),
                   self.table(("rules", "support_distribution"), required=False), "support distribution")
        order = f.raw("order")
        if order is MISSING:
            order = list(support)
        elif not isinstance(order, list) or sorted(order) != sorted(support):
            self.error(f.at("order"), "expected every support line once, in the order they are "
                       f"closed: {', '.join(support)}")
            order = list(support)
        services: dict[str, dict[str, float]] = {}
        raw = f.raw("services")
        if raw is not MISSING:
            table = Fields(self, f.at("services"), raw, "services")
            for s in support:
                row = table.raw(s)
                if row is MISSING:
                    continue
                rf = Fields(self, table.at(s), row,
                            f"shares of {s} used by other support lines or thematic priorities")
                served = [t for t in (*support, *thematic) if t != s]
                shares = {t: v for t in served if (v := rf.share(t)) is not None}
                rf.close()
                if sum(shares.values()) > 1 + SHARE_TOLERANCE:
                    self.error(table.at(s), f"the shares add up to {sum(shares.values()):.6g}; "
                               "they must not exceed 1")
                services[s] = shares
            table.close()
        f.close()
        return SupportServices(tuple(order), services)

    def _biennia_needed(self, years: tuple[int, ...], biennia: Mapping[str, tuple[int, ...]],
                        periods: Iterable[tuple[Path_, str]]) -> None:
        """A rule per biennium needs biennia: a plan of an odd number of years has none, and its
        rules would silently apply to no year at all."""
        if biennia:
            return
        for path, period in periods:
            if period == "biennium":
                self.error(path, f"is per biennium, but the plan ({_span(years)}, {len(years)} "
                           f"year{'s' if len(years) != 1 else ''}) has no biennia: biennia are two "
                           "adjacent years that together cover the plan, so it needs an even "
                           f"number of years (add {years[-1] + 1}"
                           + (f" or drop {years[-1]}" if len(years) > 1 else "")
                           + "); or use period 'year' or 'plan'")

    def _cross_checks(self, mandate: tuple[MandateCell, ...], commitments: tuple[Commitment, ...],
                      targets: tuple[AllocationTarget, ...], bounds: tuple[Bound, ...],
                      fw: _Framework) -> None:
        cells = [m.cell for m in mandate]
        known = (set(fw.entity_codes), set(fw.priority_codes), set(fw.output_codes))
        for group, items in (("committed", commitments), ("targets", targets), ("bounds", bounds)):
            for item in items:
                sel = item.selection
                axes = (sel.entities, sel.priorities, sel.outputs)
                if any(codes is not None and not codes <= k for codes, k in zip(axes, known, strict=True)):
                    continue
                if cells and not any(item.selection.admits(c) for c in cells):
                    self.error(("rules", group, item.code),
                               f"selects no cell of the mandate ({item.selection.describe()}); "
                               "add the cell to mandate.csv or correct the selection")
        covered = {c.priority for c in cells}
        for p in fw.priority_codes:
            if cells and p not in covered:
                self.error(("mandate",), f"no entity delivers '{p}': add at least one cell for it")


def _matches(row_key: str, cell: Cell) -> bool:
    parts = row_key.split("/")
    return len(parts) == 3 and all(p in ("*", c) for p, c in zip(parts, cell, strict=True))


def path_exists(doc: dict, path: Path_) -> bool:
    node: Any = doc
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _span(years: tuple[int, ...]) -> str:
    """The plan's years as a span: 2024-2027 (or 2024 alone)."""
    if not years:
        return ""
    return str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"


def _years_text(years: list[int]) -> str:
    """2026; 2026 and 2027; 2024, 2026 and 2027."""
    text = [str(y) for y in years]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in INVISIBLE


def _kind(value: Any) -> str:
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


def validate(resolved: Resolved) -> Plan:
    """The resolved scenario as a `Plan`; raises InputError listing every problem found."""
    return Validator(resolved).run()
