"""Random models that are feasible by construction, as real model folders in alloc's file format.

Why: the invariants of the allocation (ceiling, envelopes, earmarks, ...) must hold on every model a
user may write, not just on the reference model. A random model is only useful if the LP must have
an answer, so the generator first draws a *witness* allocation (non-negative amounts on admissible
cells, years and funds, respecting earmarks) and then derives every number of the model from it,
so that the witness keeps every rule, mostly with slack, sometimes exactly:

- the ceiling from the witness's regular spending less the programme support costs its fund
  spending earns (equal when balanced, above otherwise), through revenue lines (some in
  contributory units), a growth rule or a cut;
- envelopes (possibly cut), committed costs, bounds, cell bounds around the witness's amounts and
  shares; the previous allocation near the witness, with a `max_change` that covers its spread;
- pledges x receipt rates at or above what the witness spends from each fund, support costs
  included.

Targets are soft, so they are drawn freely. Some of the model is written by the scenario (or its
parent) instead of the model folder: whole rules, revenue lines, funds, mandate rows, previous
amounts, and true values over decoys the model holds (a wrong balance flag, a wrong revenue figure,
an impossible bound or mandate cell that the scenario removes). A scenario merge that drops or
misplaces a key makes the LP infeasible or moves the ceiling, and the tests see it.

Besides the files, a `GeneratedModel` carries the rules in plain form (`Limit`, `TargetSpec`): the
tests recompute every rule from these, never from alloc's `Plan`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd
from hypothesis import strategies as st

REGULAR = "regular"
"""The regular budget's fund code, as the file format reserves it."""
SUPPORT = "support"
"""The output code of support lines, as the file format reserves it."""

Cell = tuple[str, str, str]
Key = tuple[str, str, str, int, str]
"""An allocation entry: entity, priority, output, year, fund."""
Sense = Literal["<=", ">=", "=="]
T = TypeVar("T")
COLUMNS = ["entity", "priority", "output", "year", "fund", "amount"]


# --- the rules in plain form, for the tests to recompute -----------------------------------------

@dataclass(frozen=True)
class Sel:
    """A selection of cells; None on an axis means every code."""

    entities: frozenset[str] | None = None
    priorities: frozenset[str] | None = None
    outputs: frozenset[str] | None = None

    def admits(self, cell: Cell) -> bool:
        return all(codes is None or code in codes
                   for code, codes in zip(cell, (self.entities, self.priorities, self.outputs),
                                          strict=True))

    def mask(self, frame: pd.DataFrame) -> pd.Series:
        m = pd.Series(True, index=frame.index)
        for column, codes in (("entity", self.entities), ("priority", self.priorities),
                              ("output", self.outputs)):
            if codes is not None:
                m &= frame[column].isin(list(codes))
        return m


def total(frame: pd.DataFrame, sel: Sel, years: Iterable[int], funds: Iterable[str]) -> float:
    """Spending of some funds on a selection over some years."""
    m = sel.mask(frame) & frame["year"].isin(list(years)) & frame["fund"].isin(list(funds))
    return float(frame.loc[m, "amount"].sum())


@dataclass(frozen=True)
class Limit:
    """A hard rule: sum over funds of weight x spending on (sel, years, fund) <sense> amount.

    Weights are 1 unless given (a fund's direct spending plus support costs weighs 1 + rate; in
    the ceiling, support costs earned count -rate). With `share` set, the right-hand side is share
    x all spending of the same funds and years (min_share/max_share bounds). `rule` is the rule
    group as alloc names it.
    """

    rule: str
    name: str
    sel: Sel
    years: tuple[int, ...]
    funds: tuple[str, ...]
    sense: Sense
    amount: float = 0.0
    share: float | None = None
    weights: tuple[float, ...] | None = None

    def weight(self, fund: str) -> float:
        return 1.0 if self.weights is None else self.weights[self.funds.index(fund)]

    def sides(self, frame: pd.DataFrame) -> tuple[float, float]:
        lhs = sum(self.weight(f) * total(frame, self.sel, self.years, [f]) for f in self.funds)
        if self.share is None:
            return lhs, self.amount
        return lhs, self.share * total(frame, Sel(), self.years, self.funds)

    def excess(self, frame: pd.DataFrame) -> float:
        """By how much the rule is broken (<= 0 when it holds)."""
        lhs, rhs = self.sides(frame)
        return {"<=": lhs - rhs, ">=": rhs - lhs, "==": abs(lhs - rhs)}[self.sense]


@dataclass(frozen=True)
class TargetSpec:
    """A goal-programming target: soft, so only the objective depends on it."""

    code: str
    sel: Sel
    groups: tuple[tuple[int, ...], ...]
    """The periods: one group of years per period."""
    funds: tuple[str, ...]
    level: int
    shortfall_weight: float
    excess_weight: float
    amount: float | None = None
    share: float | None = None


@dataclass(frozen=True, repr=False)
class GeneratedModel:
    """A generated model: its files, its rules in plain form, and the witness that keeps them."""

    name: str
    scenario: str
    entities: tuple[str, ...]
    thematic: tuple[str, ...]
    support: tuple[str, ...]
    outputs: tuple[str, ...]
    years: tuple[int, ...]
    periods: Mapping[str, tuple[tuple[int, ...], ...]]
    cells: tuple[Cell, ...]
    funds: tuple[str, ...]
    """Extrabudgetary fund codes."""
    earmarks: Mapping[str, Sel]
    support_cost_rates: Mapping[str, float]
    available: Mapping[tuple[str, int], float]
    """Per (fund, year), as targets are scaled by: the fixed ceiling (revenue, growth rule, cut)
    for the regular budget; pledge x rate / (1 + support cost rate) for a fund."""
    balance: bool
    ceiling_period: str
    limits: tuple[Limit, ...]
    targets: tuple[TargetSpec, ...]
    level_tolerance: float
    witness: Mapping[Key, float]
    files: Mapping[str, str]
    """Path relative to the project folder -> text."""
    encoding: tuple[str, str] = ("", "\n")
    """Byte-order mark and line ending the files are written with."""
    features: tuple[str, ...] = ()
    """What this model exercises (for `hypothesis.event`, to show the generator's coverage)."""
    requirements: Mapping[tuple[Cell, int, str], tuple[float, float]] = dataclasses.field(
        default_factory=dict)
    """Costed requirements in plain form: (cell, year, tranche) -> (amount, value per unit)."""

    def __repr__(self) -> str:
        body = "\n".join(f"--- {path}\n{text}" for path, text in self.files.items())
        return f"GeneratedModel(scenario={self.scenario!r}); files:\n{body}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis prints a falsifying example with this: the files, enough to reproduce it."""
        printer.text(repr(self))

    @property
    def fund_codes(self) -> tuple[str, ...]:
        return (REGULAR, *self.funds)

    def ceiling(self, year: int) -> float:
        """The fixed ceiling of a year (support costs earned come on top)."""
        return self.available[(REGULAR, year)]

    def admits(self, fund: str, cell: Cell) -> bool:
        return fund == REGULAR or self.earmarks[fund].admits(cell)

    def witness_frame(self) -> pd.DataFrame:
        rows = [(*k, v) for k, v in self.witness.items() if v > 0]
        return pd.DataFrame(rows, columns=COLUMNS).astype({"year": np.int64, "amount": float})

    def write(self, root: Path) -> None:
        """Write the model folder and the scenario file(s) under a project folder."""
        bom, newline = self.encoding
        for relative, text in self.files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes((bom + text.replace("\n", newline)).encode("utf-8"))


# --- TOML and CSV writing ------------------------------------------------------------------------

class Inline(dict):
    """A table written inline (`{ 2024 = 1, 2025 = 2 }`) rather than as a [section]."""


def _key(key: object) -> str:
    text = str(key)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        assert math.isfinite(value)
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def toml(doc: Mapping[str, object], path: tuple[str, ...] = ()) -> str:
    """TOML text of a document: plain dicts become [sections], `Inline` dicts inline tables."""
    scalars = {k: v for k, v in doc.items() if not (isinstance(v, dict) and not isinstance(v, Inline))}
    tables = {k: v for k, v in doc.items() if k not in scalars}
    out = []
    if path and (scalars or not tables):
        out.append("[" + ".".join(_key(p) for p in path) + "]")
    out.extend(f"{_key(k)} = {_value(v)}" for k, v in scalars.items())
    if out:
        out.append("")
    for k, v in tables.items():
        assert isinstance(v, dict)
        out.append(toml(v, (*path, str(k))))
    return "\n".join(out)


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else float(x)


def _csv_cell(x: object) -> str:
    if x is None:
        return ""
    if isinstance(x, int | float):
        return str(_number(x))
    return str(x)


def _put(doc: dict, path: Sequence[str], value: object) -> None:
    """Set a value at a path of nested tables, making the tables on the way."""
    for part in path[:-1]:
        doc = doc.setdefault(part, {})
    doc[path[-1]] = value


# --- the generator -------------------------------------------------------------------------------

CodeStyle = Literal["plain", "natural", "punct", "shared"]
GrowthMode = Literal["none", "cut", "zero_nominal", "zero_real", "cut_envelopes"]


def _codes(style: CodeStyle, axis: str, n: int) -> list[str]:
    """Codes of an axis: a few styles, to exercise natural order, quoting and shared codes."""
    natural = [1, 10, 2, 11, 3]
    prefix = {"entity": "E", "priority": "TP", "support": "EN", "output": "PS", "fund": "F"}[axis]
    if style == "plain":
        return [f"{prefix}{i + 1}" for i in range(n)]
    if style == "natural":
        return [f"{prefix}{natural[i]}" for i in range(n)]
    if style == "punct":
        return [{"entity": f"e-{i + 1}", "priority": f"{i + 1}.1", "support": f"en_{i + 1}",
                 "output": f"ps.{i + 1}", "fund": f"trust-{i + 1}.a"}[axis] for i in range(n)]
    # shared: the same codes on different axes (an entity, a priority, an output, a fund "A1")
    return [f"{'B' if axis == 'support' else 'A'}{i + 1}" for i in range(n)]


def _floor6(x: float) -> float:
    return math.floor(x * 1e6) / 1e6


def _ceil6(x: float) -> float:
    return math.ceil(x * 1e6) / 1e6


class _Builder:
    """Draws one model: structure, witness, then every rule from the witness."""

    def __init__(self, draw: st.DrawFn, requirements: bool = False):
        self.draw = draw
        self.limits: list[Limit] = []
        self.with_requirements = requirements

    # -- drawing helpers --------------------------------------------------------------------------
    def flag(self, p_true: float = 0.5) -> bool:
        """A coin; hypothesis shrinks it to False, so the rarer feature is the True side."""
        if p_true >= 0.5:
            return self.draw(st.booleans())
        return self.draw(st.integers(0, round(1 / p_true) - 1)) == 1

    def pick(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(list(options)))

    def subset(self, pool: Sequence[T], min_size: int = 1, max_size: int | None = None) -> list[T]:
        return self.draw(st.lists(st.sampled_from(list(pool)), min_size=min_size, max_size=max_size,
                                  unique=True))

    def slack(self) -> float:
        """How far a rule sits from the witness: 0 makes it bind."""
        return self.pick([0.0, 0.1, 0.5])

    @property
    def fund_codes(self) -> tuple[str, ...]:
        return (REGULAR, *self.funds)

    # -- structure --------------------------------------------------------------------------------
    def structure(self) -> None:
        self.style: CodeStyle = self.pick(["plain", "natural", "punct", "shared"])
        self.entities = _codes(self.style, "entity", self.draw(st.integers(1, 5)))
        self.thematic = _codes(self.style, "priority", self.draw(st.integers(1, 5)))
        self.support = _codes(self.style, "support", self.draw(st.integers(0, 3)))
        self.outputs = _codes(self.style, "output", self.draw(st.integers(1, 4)))
        self.funds = _codes(self.style, "fund", self.draw(st.integers(0, 3)))
        start = self.draw(st.integers(2020, 2030))
        # whole biennia: a plan of 2 or 4 years (an odd plan has no biennia, tested apart)
        self.years = tuple(range(start, start + 2 * self.draw(st.integers(1, 2))))
        # biennia: the default (consecutive pairs) or the same pairs stated, under any label
        self.explicit_biennia = self.flag()
        groups = [self.years[i:i + 2] for i in range(0, len(self.years), 2)]
        self.biennia = {(f"b{g[0]}" if self.explicit_biennia and self.flag() else f"{g[0]}-{g[-1]}"): g
                        for g in groups}
        self.periods = {"year": tuple((y,) for y in self.years), "biennium": tuple(groups),
                        "plan": (self.years,)}

        pairs = [(e, o) for e in self.entities for o in self.outputs]
        cells: set[Cell] = set()
        for p in self.thematic:
            for e, o in self.subset(pairs, 1, 4):
                cells.add((e, p, o))
        for s in self.support:
            for e in self.subset(self.entities, 1, 3):
                cells.add((e, s, SUPPORT))
        order = {c: i for i, c in enumerate([*self.thematic, *self.support, *self.outputs, SUPPORT])}
        self.cells = sorted(cells, key=lambda c: (self.entities.index(c[0]), order[c[1]],
                                                  order[c[2]]))

        self.earmarks: dict[str, Sel] = {}
        self.earmark_files: dict[str, Inline | None] = {}
        for f in self.funds:
            kind = self.pick(["none", "earmark", "empty"])
            if kind != "earmark":
                self.earmarks[f] = Sel()
                self.earmark_files[f] = Inline() if kind == "empty" else None
                continue
            axes: list[frozenset[str] | None] = []
            body = Inline()
            for key, pool in (("entities", self.entities),
                              ("priorities", [*self.thematic, *self.support]),
                              ("outputs", [*self.outputs, SUPPORT])):
                if self.flag():
                    codes = self.subset(pool, 1, 3)
                    axes.append(frozenset(codes))
                    body[key] = codes
                else:
                    axes.append(None)
            self.earmarks[f] = Sel(*axes)
            self.earmark_files[f] = body

    # -- witness ----------------------------------------------------------------------------------
    def witness(self) -> None:
        high = self.pick([10, 1000, 50_000])
        amount = st.one_of(st.just(0), st.integers(1, high))
        self.w: dict[Key, float] = {}
        unused = {f for f in self.funds if self.flag(0.25)}
        for cell in self.cells:
            for y in self.years:
                self.w[(*cell, y, REGULAR)] = float(self.draw(amount))
                for f in self.funds:
                    if self.earmarks[f].admits(cell):
                        self.w[(*cell, y, f)] = 0.0 if f in unused else float(self.draw(amount))
        # programme support costs: a rate on a fund's direct spending, earned by the regular budget
        self.psc = {f: (self.pick([0.13, 0.07, 0.125, 0.25]) if self.flag(0.25) else 0.0)
                    for f in self.funds}
        for y in self.years:
            short = self.earned(y) - self.spent(Sel(), [y], [REGULAR])
            if short > 0:
                # the regular budget spends at least what support costs bring in
                self.w[(*self.cells[0], y, REGULAR)] += math.ceil(short)

    def spent(self, sel: Sel, years: Iterable[int], funds: Iterable[str]) -> float:
        """The witness's spending (plain Python: pandas here makes shrinking crawl)."""
        years, funds = set(years), set(funds)
        return sum(v for (e, p, o, y, f), v in self.w.items()
                   if y in years and f in funds and sel.admits((e, p, o)))

    def earned(self, year: int) -> float:
        return sum(rate * self.spent(Sel(), [year], [f]) for f, rate in self.psc.items() if rate)

    def per_year(self, values: Mapping[int, float]) -> object:
        """One number when every year has the same value (sometimes), else a table by year."""
        vals = [values.get(y) for y in self.years]
        if len(values) == len(self.years) and len(set(vals)) == 1 and self.flag():
            return _number(vals[0])  # type: ignore[arg-type]
        return Inline({str(y): _number(v) for y, v in values.items()})

    # -- financial plan ---------------------------------------------------------------------------
    def ceiling(self) -> None:
        """The fixed ceiling per year, and how the files state it (revenue, growth rule, cut)."""
        self.balance = self.flag()
        self.ceiling_period = self.pick(["year", "biennium"])
        modes: list[GrowthMode] = ["none", "cut", "cut_envelopes"]
        if not self.balance:
            modes += ["zero_nominal", "zero_real"]
        self.growth: GrowthMode = self.pick(modes) if self.flag() else "none"
        cuts = [0.05, 0.1, 0.25]
        if self.growth == "none":
            self.cut = 0.0
        elif self.growth in ("cut", "cut_envelopes"):
            self.cut = self.pick(cuts)
        else:
            self.cut = self.pick(cuts) if self.flag() else 0.0
        keep = 1.0 - (self.cut if self.growth in ("cut", "zero_nominal", "zero_real") else 0.0)
        # what the fixed ceiling must at least cover: regular spending less support costs earned
        need = {y: self.spent(Sel(), [y], [REGULAR]) - self.earned(y) for y in self.years}
        self.growth_doc: dict = {}
        ceiling: dict[int, float] = {}
        if self.growth in ("zero_nominal", "zero_real"):
            inflation = {y: self.pick([0.0, 0.01, 0.02, 0.035]) for y in self.years}
            factor, level = 1.0, {}
            for y in self.years:
                factor *= 1.0 + (inflation[y] if self.growth == "zero_real" else 0.0)
                level[y] = factor
            reference = float(math.ceil(max(need[y] / (level[y] * keep) for y in self.years)))
            reference += self.draw(st.integers(0, 3000))
            for y in self.years:
                ceiling[y] = reference * level[y] - self.cut * reference * level[y]
            self.growth_doc = {"rule": self.growth, "reference": _number(reference)}
            if self.growth == "zero_real":
                self.growth_doc["inflation"] = self.per_year(inflation)
            # the revenue lines no longer set the ceiling: any figures will do
            income = {y: float(self.draw(st.integers(0, 10_000))) for y in self.years}
        else:
            for group in self.periods[self.ceiling_period]:
                amount = sum(need[y] for y in group)
                if not self.balance:
                    amount += self.draw(st.integers(0, 5000))
                # spread the period's ceiling over its years, not necessarily as the witness does
                rest = amount
                for y in group[:-1]:
                    share = (float(self.draw(st.integers(0, math.floor(rest))))
                             if self.ceiling_period == "biennium" and self.flag() else
                             min(rest, need[y]))
                    ceiling[y] = share
                    rest -= share
                ceiling[group[-1]] = rest
            income = {y: ceiling[y] / keep for y in self.years}
            if self.growth == "cut":
                ceiling = {y: income[y] - self.cut * income[y] for y in self.years}
        if self.cut and self.growth != "cut_envelopes":
            self.growth_doc["cut"] = self.cut
        self.ceilings = ceiling
        self.income = income
        psc_funds = [f for f in self.funds if self.psc[f]]
        self.limits.extend(
            Limit("ceiling", f"ceiling {g[0]}-{g[-1]}", Sel(), g, (REGULAR, *psc_funds),
                  "==" if self.balance else "<=", sum(ceiling[y] for y in g),
                  weights=(1.0, *(-self.psc[f] for f in psc_funds)))
            for g in self.periods[self.ceiling_period])

    def revenue(self) -> dict:
        """Revenue lines adding up to the income of each year; some in contributory units."""
        remaining = dict(self.income)
        lines: dict[str, dict] = {}
        self.decoy_revenue: tuple[str, str, object] | None = None
        groups = ["assessed", "cost_recovery", "interest", "reserve", "other"]
        n_lines = self.draw(st.integers(1, 4))
        for i in range(n_lines):
            code = f"rev_{i + 1}"
            body: dict = {"name": f"Revenue line {i + 1}", "group": self.pick(groups)}
            last = i == n_lines - 1
            if not last and self.flag():
                # units x unit_value_chf / 1000, chosen to come to whole CHF thousands: either
                # whole units of any value, or sixteenths of a unit worth a multiple of CHF 16 000
                if self.flag():
                    value = self.draw(st.integers(1, 400_000))
                    units_per_step = 1000 // math.gcd(value, 1000)
                    step, most_steps = units_per_step * value // 1000, 10**6 // units_per_step
                    units_of = float(units_per_step)
                else:
                    value = 16_000 * self.draw(st.integers(1, 25))
                    step, most_steps, units_of = value // 16_000, 16 * 10**6, 1 / 16
                most = {y: min(int(remaining[y] // step), most_steps) for y in self.years}
                if self.flag():
                    k = self.draw(st.integers(0, min(most.values())))
                    steps = dict.fromkeys(self.years, k)
                else:
                    steps = {y: self.draw(st.integers(0, most[y])) for y in self.years}
                units = {y: k * units_of for y, k in steps.items()}
                for y in self.years:
                    assert units[y] * value / 1000.0 == steps[y] * step
                    remaining[y] -= steps[y] * step
                body["units"] = self.per_year(units)
                body["unit_value_chf"] = value
                if self.decoy_revenue is None and self.flag(0.25):
                    self.decoy_revenue = (code, "unit_value_chf", value * 2 + 1)
            else:
                amounts = ({y: remaining[y] for y in self.years} if last else
                           {y: float(self.draw(st.integers(0, math.floor(remaining[y]))))
                            for y in self.years})
                for y in self.years:
                    remaining[y] -= amounts[y]
                body["amount"] = self.per_year(amounts)
                if self.decoy_revenue is None and body["amount"] != {} and self.flag(0.25):
                    true = body["amount"]
                    decoy = (Inline({k: v + 777 for k, v in true.items()})
                             if isinstance(true, dict) else true + 777)
                    self.decoy_revenue = (code, "amount", decoy)
            if self.flag(0.25):
                body["source"] = "generated"
            lines[code] = body
        assert all(v == 0 for v in remaining.values())
        return lines

    def fund_table(self) -> dict:
        out: dict = {}
        for f in self.funds:
            psc = self.psc[f]
            spend = {y: self.spent(Sel(), [y], [f]) for y in self.years}
            cost = {y: spend[y] * (1.0 + psc) for y in self.years}
            must_spend = self.flag(0.25)
            if must_spend:
                rate = self.pick([1.0, 0.5, 0.25])
                pledge = {y: cost[y] / rate for y in self.years}
            else:
                rate = self.pick([1.0, 0.9, 0.85, 0.6, 1 / 3, *([0.0] if not any(spend.values())
                                                               else [])])
                pledge = {}
                for y in self.years:
                    p = float(math.ceil(cost[y] / rate)) if rate else 0.0
                    p += self.draw(st.integers(0, 2000)) if self.flag() else 0
                    while p * rate < cost[y]:
                        p += 1
                    pledge[y] = p
            for y in self.years:
                self.available[(f, y)] = pledge[y] * rate / (1.0 + psc)
                self.limits.append(Limit("fund", f"fund {f} {y}", Sel(), (y,), (f,),
                                         "==" if must_spend else "<=", pledge[y] * rate,
                                         weights=(1.0 + psc,)))
            body: dict = {"name": f"Fund {f}", "pledge": self.per_year(pledge),
                          "receipt_rate": rate}
            if self.earmark_files[f] is not None:
                body["earmark"] = self.earmark_files[f]
            if must_spend or self.flag():
                body["must_spend"] = must_spend
            if psc or self.flag(0.25):
                body["support_cost_rate"] = psc
            out[f] = body
        return out

    # -- rules ------------------------------------------------------------------------------------
    def selection(self) -> tuple[Sel, dict]:
        """A selection around a random mandate cell (so it selects at least one), and its keys."""
        cell = self.pick(self.cells)
        pools = (self.entities, [*self.thematic, *self.support], [*self.outputs, SUPPORT])
        axes: list[frozenset[str] | None] = []
        keys: dict = {}
        for key, code, pool in zip(("entity", "priority", "output"), cell, pools, strict=True):
            mode = self.pick(["all", "one", "some"])
            if mode == "all":
                axes.append(None)
                continue
            codes = [code] if mode == "one" else [code, *(c for c in self.subset(pool, 0, 2)
                                                          if c != code)]
            axes.append(frozenset(codes))
            keys[key] = codes[0] if len(codes) == 1 and self.flag() else codes
        return Sel(*axes), keys

    def funds_choice(self) -> tuple[tuple[str, ...], object]:
        """Which funds a rule counts, and how the file says it (None: the key left out)."""
        how = self.pick(["all", "regular", "extrabudgetary", None, "list"])
        if how == "regular":
            return (REGULAR,), how
        if how == "extrabudgetary":
            return tuple(self.funds), how
        if how == "list":
            codes = self.subset(self.fund_codes, 1)
            return tuple(codes), codes
        return self.fund_codes, how

    def envelopes(self) -> dict:
        """Envelopes around the witness's regular spending per entity; some of them cut."""
        out: dict = {}
        chosen = self.subset(self.entities, 0)
        cutting = self.growth == "cut_envelopes"
        if cutting and not chosen:
            chosen = [self.entities[0]]
        cut_entities = (self.subset(chosen, 1) if cutting else [])
        if cutting:
            self.growth_doc["cut"] = self.cut
            self.growth_doc["cut_envelopes"] = cut_entities
        for e in chosen:
            keep = 1.0 - self.cut if e in cut_entities else 1.0
            spend = {y: self.spent(Sel(frozenset([e])), [y], [REGULAR]) for y in self.years}
            mode = self.pick(["amounts", "shares", "fixed", "mixed"])
            s = self.slack()
            body: dict = {}
            lo: dict[int, float] = {}
            hi: dict[int, float] = {}
            if mode == "fixed":
                body["fixed"] = self.per_year({y: v / keep for y, v in spend.items()})
                lo = {y: v / keep for y, v in spend.items()}
                hi = dict(lo)
            else:
                amounts = mode in ("amounts", "mixed")
                shares = mode in ("shares", "mixed")
                if amounts and self.flag():
                    if self.flag():
                        body["min"] = math.floor(min(spend.values()) * (1 - s))
                        lo = dict.fromkeys(self.years, float(body["min"]))
                    else:
                        lo = {y: float(math.floor(spend[y] * (1 - s))) for y in self.subset(self.years)}
                        body["min"] = Inline({str(y): _number(v) for y, v in lo.items()})
                if amounts and (self.flag() or not body):
                    if self.flag():
                        body["max"] = math.ceil(max(spend.values()) * (1 + s) / keep)
                        hi = dict.fromkeys(self.years, float(body["max"]))
                    else:
                        hi = {y: float(math.ceil(spend[y] * (1 + s) / keep))
                              for y in self.subset(self.years)}
                        body["max"] = Inline({str(y): _number(v) for y, v in hi.items()})
                ratios = [spend[y] / self.ceilings[y] if self.ceilings[y] > 0 else
                          (math.inf if spend[y] else 0.0) for y in self.years]
                if shares and self.flag():
                    lo_share = _floor6(min(min(ratios), 1.0) * (1 - s))
                    body["min_share"] = lo_share
                    for y in self.years:
                        lo[y] = max(lo.get(y, 0.0), lo_share * self.ceilings[y])
                if shares and max(ratios) / keep <= 1.0 and (self.flag() or not body):
                    hi_share = min(1.0, _ceil6(max(ratios) * (1 + s) / keep))
                    body["max_share"] = hi_share
                    for y in self.years:
                        hi[y] = min(hi.get(y, math.inf), hi_share * self.ceilings[y])
                if not body:
                    body["min"] = 0
                    lo = dict.fromkeys(self.years, 0.0)
            for y in self.years:
                for side, bound, sense in (("min", lo, ">="), ("max", hi, "<=")):
                    if y in bound:
                        self.limits.append(Limit("envelope", f"envelope {e} {y} {side}",
                                                 Sel(frozenset([e])), (y,), (REGULAR,), sense,
                                                 bound[y] * keep))
            out[e] = body
        return out

    def committed(self) -> dict:
        out: dict = {}
        for i in range(self.draw(st.integers(0, 3))):
            code = f"commit_{i + 1}"
            sel, keys = self.selection()
            funds, funds_key = self.funds_choice()
            kind = self.pick(["minimum", "exact", "cap"])
            spend = {y: self.spent(sel, [y], funds) for y in self.years}
            u = self.pick([0.0, 0.5, 1.0])

            def rule(v: float, kind: str = kind, u: float = u) -> float:
                """A minimum at or under the witness's spending, a cap at or over it."""
                return {"minimum": float(math.floor(v * u)), "cap": float(math.ceil(v * (1 + u))),
                        "exact": v}[kind]

            if self.flag() and (kind != "exact" or len(set(spend.values())) == 1):
                one = (min if kind == "minimum" else max)(rule(v) for v in spend.values())
                amounts = dict.fromkeys(self.years, one)
                amount_key: object = _number(one)
            else:
                amounts = {y: rule(spend[y]) for y in self.subset(self.years)}
                amount_key = Inline({str(y): _number(v) for y, v in amounts.items()})
            body = {"name": f"Committed cost {i + 1}", **keys, "amount": amount_key}
            if kind != "minimum" or self.flag():
                body["kind"] = kind
            if funds_key is not None:
                body["funds"] = funds_key
            sense: Sense = {"minimum": ">=", "exact": "==", "cap": "<="}[kind]  # type: ignore[assignment]
            self.limits.extend(Limit("committed", f"committed {code} {y}", sel, (y,), funds, sense, a)
                               for y, a in amounts.items())
            out[code] = body
        return out

    def bounds(self) -> dict:
        out: dict = {}
        for i in range(self.draw(st.integers(0, 3))):
            code = f"bound_{i + 1}"
            sel, keys = self.selection()
            funds, funds_key = self.funds_choice()
            period = self.pick(["year", "biennium", "plan", None])
            groups = self.periods[period or "year"]
            s = self.slack()
            values = [self.spent(sel, g, funds) for g in groups]
            bases = [self.spent(Sel(), g, funds) for g in groups]
            ratios = [v / b for v, b in zip(values, bases, strict=True) if b > 0] or [0.0]
            body: dict = {"name": f"Bound {i + 1}", **keys}
            for side in self.subset(["min", "max", "min_share", "max_share"], 1):
                if side == "min":
                    body["min"] = value = float(math.floor(min(values) * (1 - s)))
                elif side == "max":
                    body["max"] = value = float(math.ceil(max(values) * (1 + s)))
                elif side == "min_share":
                    body["min_share"] = value = _floor6(min(ratios) * (1 - s))
                else:
                    body["max_share"] = value = min(1.0, _ceil6(max(ratios) * (1 + s)))
                sense: Sense = ">=" if side.startswith("min") else "<="
                share = side.endswith("share")
                self.limits.extend(
                    Limit("bound", f"bound {code} {g[0]}-{g[-1]} {side}", sel, g, funds, sense,
                          0.0 if share else value, value if share else None) for g in groups)
            if period is not None:
                body["period"] = period
            if funds_key is not None:
                body["funds"] = funds_key
            out[code] = body
        return out

    def cell_bounds(self) -> dict[Cell, tuple[float | None, float | None]]:
        """Yearly min/max (all funds) on some cells, as mandate.csv gives them."""
        out: dict[Cell, tuple[float | None, float | None]] = {}
        for cell in self.subset(self.cells, 0, 4) if self.flag() else []:
            spend = [self.spent(Sel(*(frozenset([c]) for c in cell)), [y], self.fund_codes)
                     for y in self.years]
            s = self.slack()
            lo = float(math.floor(min(spend) * (1 - s))) if self.flag() else None
            hi = float(math.ceil(max(spend) * (1 + s))) if self.flag() or lo is None else None
            out[cell] = (lo, hi)
        return out

    def add_cell_limits(self, cell: Cell, lo: float | None, hi: float | None) -> None:
        sel = Sel(*(frozenset([c]) for c in cell))
        for y in self.years:
            for side, value, sense in (("min", lo, ">="), ("max", hi, "<=")):
                if value is not None:
                    self.limits.append(Limit("cell", f"cell {'/'.join(cell)} {y} {side}", sel,
                                             (y,), self.fund_codes, sense, value))  # type: ignore[arg-type]

    def stability(self) -> tuple[dict | None, dict[tuple[str, str], float]]:
        """[stability] (or None) and the previous allocation (maybe given without stability)."""
        pairs = sorted({(c[0], c[1]) for c in self.cells})
        if not self.flag():
            return None, {}
        chosen = self.subset(pairs, 1)
        spend = {pair: [self.spent(Sel(frozenset([pair[0]]), frozenset([pair[1]])), [y], [REGULAR])
                        for y in self.years] for pair in chosen}
        previous: dict[tuple[str, str], float] = {}
        need = 0.0
        for pair, values in spend.items():
            prev = float(round(sum(values) / len(values))) if self.flag() else values[0]
            if prev == 0:
                if any(values):
                    continue  # no max_change can let a zero previous grow
                change = 0.0
            else:
                change = max(abs(v - prev) for v in values) / prev
            if change > 9.0:
                continue
            previous[pair] = prev
            need = max(need, change)
        if not previous:
            return None, {}
        if self.flag(0.25):
            return None, previous  # a previous allocation only for the reference distribution
        max_change = min(10.0, math.ceil((need * (1 + self.slack()) + 1e-6) * 1e4) / 1e4)
        for (e, p), prev in previous.items():
            sel = Sel(frozenset([e]), frozenset([p]))
            for y in self.years:
                self.limits.append(Limit("stability", f"stability {e}/{p} {y} low", sel, (y,),
                                         (REGULAR,), ">=", prev * (1 - max_change)))
                self.limits.append(Limit("stability", f"stability {e}/{p} {y} high", sel, (y,),
                                         (REGULAR,), "<=", prev * (1 + max_change)))
        return {"max_change": max_change}, previous

    def targets(self) -> tuple[dict, list[TargetSpec]]:
        out: dict = {}
        specs: list[TargetSpec] = []
        resources = sum(self.available.values())
        for i in range(self.draw(st.integers(0, 4))):
            code = f"target_{i + 1}"
            sel, keys = self.selection()
            funds, funds_key = self.funds_choice()
            period = self.pick(["plan", "year", "biennium", None])
            level = self.draw(st.integers(1, 3))
            short = self.pick([1.0, 0.5, 2.0, 0.0])
            excess = self.pick([0.5, 1.0, 0.0])
            body: dict = {"name": f"Target {i + 1}", **keys}
            amount: float | None = None
            share: float | None = None
            if self.flag():
                share = body["share"] = self.draw(st.integers(0, 1000)) / 1000
            else:
                amount = float(self.draw(st.integers(0, max(1, int(2 * resources)))))
                body["amount"] = _number(amount)
            if period is not None:
                body["period"] = period
            if funds_key is not None:
                body["funds"] = funds_key
            if level != 1 or self.flag():
                body["level"] = level
            body["shortfall_weight"] = short
            body["excess_weight"] = excess
            out[code] = body
            specs.append(TargetSpec(code, sel, self.periods[period or "plan"], funds, level, short,
                                    excess, amount, share))
        return out, specs

    def requirements(self) -> tuple[dict, list[dict], dict[tuple[Cell, int, str], tuple[float, float]]]:
        """[objective] tables (tranches, weights) and rows of requirements.csv, on some cells.

        Requirements are soft (a funded part is at most the requirement and at most what the
        cell is given), so any amounts keep the model feasible: they are drawn around the
        witness's spending (half to twice it), so that some cells are short and some have money
        beyond their requirements. Values fall from one tranche to the next (weight x factor, or
        a value column that keeps falling); weights from a small set, so that ties are common.
        """
        factors = {"core": 1.0, "current": self.pick([1.0, 0.6, 0.5]), "enhanced": 0.3}
        tranches = list(factors)[: self.draw(st.integers(1, 3))]
        weights = {p: self.pick([1.0, 2.0, 0.5, 0.0]) for p in [*self.thematic, *self.support]}
        objective = {"tranches": {t: {"name": f"Tranche {t}", "factor": factors[t]}
                                  for t in tranches},
                     "weights": weights}
        rows: list[dict] = []
        plain: dict[tuple[Cell, int, str], tuple[float, float]] = {}
        for cell in self.subset(self.cells, 1, None):
            every_year = self.flag(0.25)
            for y in (self.years[:1] if every_year else self.years):
                spent = sum(self.spent(Sel(frozenset([cell[0]]), frozenset([cell[1]]),
                                           frozenset([cell[2]])), [yy], self.fund_codes)
                            for yy in ([y] if not every_year else self.years[:1]))
                total = max(1.0, round(spent * self.pick([0.5, 1.0, 1.5, 2.0])))
                value = None if self.flag() else float(self.pick([3, 2, 1]))
                for t in tranches:
                    amount = float(max(1, round(total / len(tranches))))
                    row: dict = {"entity": cell[0], "priority": cell[1], "output": cell[2],
                                 "tranche": t, "year": "*" if every_year else y,
                                 "amount": _number(amount)}
                    unit = weights[cell[1]] * factors[t]
                    if value is not None:
                        unit = value
                        row["value"] = _number(value)
                        value = value / 2
                    rows.append(row)
                    for yy in (self.years if every_year else [y]):
                        plain[(cell, yy, t)] = (amount, unit)
        return objective, rows, plain

    # -- files ------------------------------------------------------------------------------------
    def mandate_rows(self, bounds: dict[Cell, tuple[float | None, float | None]]) -> list[tuple]:
        """Rows of mandate.csv: wildcard rows where they cover cells exactly, else one per cell."""
        cells = set(self.cells)
        covered: set[Cell] = set()
        rows: list[tuple] = []
        if self.flag():
            patterns = []
            for e in ["*", *self.entities]:
                for p in ["*", *self.thematic]:
                    for o in ["*", *self.outputs]:
                        if "*" in (e, p, o):
                            patterns.append((e, p, o))
                for s in self.support:
                    if e == "*":
                        patterns.append((e, s, SUPPORT))
            for e, p, o in self.draw(st.permutations(patterns)):
                expand = {(ee, pp, oo)
                          for ee in (self.entities if e == "*" else [e])
                          for pp in (self.thematic if p == "*" else [p])
                          for oo in (self.outputs if o == "*" else [o])}
                if expand <= cells and not expand & covered and not expand & set(bounds):
                    covered |= expand
                    rows.append((e, p, o, None, None, f"covers {len(expand)} cells"))
        for cell in self.cells:
            if cell not in covered:
                lo, hi = bounds.get(cell, (None, None))
                if cell in bounds:
                    self.add_cell_limits(cell, lo, hi)
                rows.append((*cell, lo, hi, "" if self.flag() else f"cell {'/'.join(cell)}"))
        return self.draw(st.permutations(rows))

    @staticmethod
    def csv(columns: list[str], rows: Iterable[Mapping[str, object]]) -> str:
        lines = [",".join(columns)]
        lines.extend(",".join(_csv_cell(row.get(c)) for c in columns) for row in rows)
        return "\n".join(lines) + "\n"

    def build(self) -> GeneratedModel:
        self.structure()
        self.witness()
        self.ceiling()
        self.available: dict[tuple[str, int], float] = {
            (REGULAR, y): self.ceilings[y] for y in self.years}
        revenue = self.revenue()
        funds = self.fund_table()
        envelopes = self.envelopes()
        committed = self.committed()
        bounds = self.bounds()
        stability, previous = self.stability()
        targets, target_specs = self.targets()
        rows = self.mandate_rows(self.cell_bounds())
        name, scenario = "gen", "case"
        witness = pd.DataFrame([(*k, v) for k, v in self.w.items()], columns=COLUMNS)
        features = [f"growth: {self.growth}", f"balance: {self.balance}",
                    f"ceiling period: {self.ceiling_period}", f"funds: {len(self.funds)}",
                    f"years: {len(self.years)}", f"codes: {self.style}"]
        features += [label for label, present in (
            ("support costs", any(self.psc.values())),
            ("earmarked fund", any(e != Sel() for e in self.earmarks.values())),
            ("must_spend fund", any(lim.rule == "fund" and lim.sense == "==" for lim in self.limits)),
            ("stability", stability is not None), ("previous allocation", bool(previous)),
            ("wildcard mandate rows", any("*" in r[:3] for r in rows)),
            ("cell bounds", any(lim.rule == "cell" for lim in self.limits)),
            ("envelopes", bool(envelopes)), ("committed costs", bool(committed)),
            ("bounds", bool(bounds)), ("share bound", any(lim.share is not None
                                                          for lim in self.limits)),
            ("targets on several levels", len({t.level for t in target_specs}) > 1),
            ("binding rules (slack 0)", any(lim.rule != "ceiling" and lim.excess(witness) > -1e-9
                                            for lim in self.limits)),
        ) if present]

        model_doc = {"title": "Generated model", "inputs_date": "2024-01-31",
                     "description": "Random model, feasible by construction (tests/strategies.py)"}
        if self.flag():
            model_doc["unit"] = "CHF thousands"
        goals = ["G1", "G2"][: self.draw(st.integers(1, 2))]
        framework: dict = {
            "entities": {e: {"name": f"Entity {e}", **({"order": len(self.entities) - i}
                                                       if self.style == "natural" else {})}
                         for i, e in enumerate(self.entities)},
            "goals": {g: {"name": f"Goal {g}", "targets": Inline({f"{g[1]}.1": "A target"})}
                      for g in goals},
            "priorities": {p: {"name": f"Priority {p}",
                               "goal_shares": Inline({"G1": 1.0} if len(goals) == 1 else
                                                     {"G1": 0.25, "G2": 0.75}),
                               "outcomes": Inline({"1": "An outcome"})} for p in self.thematic},
            "outputs": {o: {"name": f"Output {o}"} for o in self.outputs},
        }
        if self.support:
            framework["support"] = {s: {"name": f"Support line {s}"} for s in self.support}

        plan: dict = {"years": list(self.years)}
        if self.explicit_biennia:
            plan["biennia"] = Inline({k: list(v) for k, v in self.biennia.items()})
        financial: dict = {"plan": plan, "revenue": revenue}
        if funds:
            financial["funds"] = funds
        if self.growth_doc:
            financial["growth"] = self.growth_doc
        budget: dict = {}
        if not self.balance or self.flag():
            budget["balance"] = self.balance
        if self.ceiling_period != "year" or self.flag():
            budget["ceiling_period"] = self.ceiling_period
        rules: dict = {"budget": budget}
        for key, table in (("envelopes", envelopes), ("committed", committed), ("bounds", bounds),
                           ("stability", stability), ("targets", targets)):
            if table:
                rules[key] = table
        level_tolerance = 1e-6
        if self.flag(0.25):
            level_tolerance = self.pick([1e-6, 1e-4, 0.0])
            rules["objective"] = {"level_tolerance": level_tolerance}
        requirement_rows: list[dict] = []
        requirements: dict[tuple[Cell, int, str], tuple[float, float]] = {}
        if self.with_requirements:
            objective, requirement_rows, requirements = self.requirements()
            rules.setdefault("objective", {}).update(objective)
            features.append("requirements")
        columns = ["entity", "priority", "output", "min", "max", "note"]
        mandate = {"/".join(r[:3]): dict(zip(columns, r, strict=True)) for r in rows}
        previous_rows = {f"{e}/{p}": {"entity": e, "priority": p, "amount": a}
                         for (e, p), a in previous.items()}
        docs = {"financial_plan": financial, "rules": rules}
        overrides, remove = self.scenario_part(docs, mandate, previous_rows)

        if self.flag():
            columns = list(self.draw(st.permutations(columns)))
        folder = f"models/{name}"
        files = {
            f"{folder}/model.toml": toml(model_doc),
            f"{folder}/framework.toml": toml(framework),
            f"{folder}/financial-plan.toml": toml(financial),
            f"{folder}/rules.toml": toml(rules),
            f"{folder}/mandate.csv": self.csv(columns, mandate.values()),
        }
        if requirement_rows:
            files[f"{folder}/requirements.csv"] = self.csv(
                ["entity", "priority", "output", "tranche", "year", "amount", "value", "note"],
                requirement_rows)
        if previous:
            files[f"{folder}/previous-allocation.csv"] = self.csv(["entity", "priority", "amount"],
                                                                  previous_rows.values())
        files.update(self.scenario_files(name, scenario, overrides, remove))
        features += [label for label, present in (
            ("scenario overrides", bool(overrides)), ("scenario removes a decoy", bool(remove)),
            ("parent scenario", f"scenarios/{scenario}-parent.toml" in files)) if present]
        encoding = ((self.pick(["", "\ufeff"]), self.pick(["\n", "\r\n"])) if self.flag(0.25)
                    else ("", "\n"))
        return GeneratedModel(
            name=name, scenario=scenario, entities=tuple(self.entities),
            thematic=tuple(self.thematic), support=tuple(self.support), outputs=tuple(self.outputs),
            years=self.years, periods=self.periods, cells=tuple(self.cells), funds=tuple(self.funds),
            earmarks=self.earmarks, support_cost_rates=self.psc, available=self.available,
            balance=self.balance, ceiling_period=self.ceiling_period, limits=tuple(self.limits),
            targets=tuple(target_specs), level_tolerance=level_tolerance, witness=self.w,
            files=files, encoding=encoding, features=tuple(features), requirements=requirements)

    # -- the scenario's share of the model --------------------------------------------------------
    def scenario_part(self, docs: dict, mandate: dict, previous: dict) -> tuple[list, list[str]]:
        """Move some of the model into scenario overrides; leave decoys the scenario corrects.

        Returns the overrides as (path, value) pairs in the order a scenario states them, and
        the keys the scenario removes. Changes `docs`, `mandate` and `previous` in place.
        """
        overrides: list[tuple[tuple[str, ...], object]] = []
        if not self.flag():
            return overrides, []
        # whole entries: revenue lines, funds, rules
        for section, group in (("financial_plan", "revenue"), ("financial_plan", "funds"),
                               ("rules", "envelopes"), ("rules", "committed"), ("rules", "bounds"),
                               ("rules", "targets")):
            table = docs[section].get(group, {})
            for code in list(table):
                if self.flag(0.25):
                    overrides.append(((section, group, code), table.pop(code)))
        for section, table, keep in (("mandate", mandate, ("min", "max", "note")),
                                     ("previous_allocation", previous, ("amount",))):
            for key in list(table):
                if self.flag(0.25):
                    row = table.pop(key)
                    overrides.append(((section, key), {k: row[k] for k in keep
                                                       if row.get(k) not in (None, "")}))
        # decoys: the model says one thing, the scenario the truth
        budget = docs["rules"]["budget"]
        if self.flag(0.25):
            budget["balance"] = not self.balance
            overrides.append((("rules", "budget", "balance"), self.balance))
        if self.decoy_revenue is not None:
            code, key, decoy = self.decoy_revenue
            revenue = docs["financial_plan"]["revenue"]
            if code in revenue:
                overrides.append((("financial_plan", "revenue", code, key), revenue[code][key]))
                revenue[code][key] = decoy
        remove = []
        if self.flag(0.25):
            docs["rules"].setdefault("bounds", {})["decoy"] = {
                "name": "Impossible, removed by the scenario", "min": 9e8, "period": "plan"}
            remove.append("rules.bounds.decoy")
        outside = [(e, p, o) for e in self.entities for p in self.thematic for o in self.outputs
                   if (e, p, o) not in self.cells]
        outside += [(e, s, SUPPORT) for e in self.entities for s in self.support
                    if (e, s, SUPPORT) not in self.cells]
        if outside and self.flag(0.25):
            e, p, o = self.pick(outside)
            mandate[f"{e}/{p}/{o}"] = {"entity": e, "priority": p, "output": o, "min": 9e8,
                                       "note": "impossible; removed by the scenario"}
            remove.append(f'mandate."{e}/{p}/{o}"')
        return overrides, remove

    def scenario_files(self, model: str, scenario: str, overrides: list,
                       remove: list[str]) -> dict[str, str]:
        """The scenario, sometimes with a parent that holds part of the overrides."""
        header = {"title": "Generated scenario"}
        if not self.flag(0.25):
            doc: dict = {"scenario": {"model": model, **header, **({"remove": remove} if remove
                                                                    else {})}}
            for path, value in overrides:
                _put(doc, path, value)
            return {f"scenarios/{scenario}.toml": toml(doc)}
        parent: dict = {"scenario": {"model": model}}
        child: dict = {"scenario": {"parent": f"{scenario}-parent", **header}}
        if self.flag():
            child["scenario"]["model"] = model
        if remove:
            (parent if self.flag() else child)["scenario"]["remove"] = remove
        for path, value in overrides:
            if path == ("rules", "budget", "balance"):
                # the parent holds the decoy too, and the child the truth
                _put(parent, path, not value)
                _put(child, path, value)
            else:
                _put(parent if self.flag() else child, path, value)
        return {f"scenarios/{scenario}-parent.toml": toml(parent),
                f"scenarios/{scenario}.toml": toml(child)}


@st.composite
def feasible_models(draw: st.DrawFn, requirements: bool = False) -> GeneratedModel:
    """A random model that has an allocation keeping every hard rule: its witness; with
    `requirements`, costed requirements and their valuation too (requirements.csv, [objective]
    tranches and weights)."""
    return _Builder(draw, requirements).build()
