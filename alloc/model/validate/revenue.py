"""financial-plan.toml [revenue] and [growth]: the revenue lines, and the growth rules and cuts that
become adjustments of the regular budget's ceiling (or cuts of named envelopes)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from alloc.model.domain import CeilingAdjustment, RevenueLine
from alloc.model.validate.fields import MAX_AMOUNT, MISSING, Document, Fields, natural_key

REVENUE_GROUPS = ("assessed", "cost_recovery", "interest", "reserve", "other")


def read_revenue(doc: Document, years: tuple[int, ...]) -> tuple[RevenueLine, ...]:
    """Each line as amounts per year (given, or units x the value of a unit), by group and order."""
    out = []
    rank: dict[str, tuple[int, float, list[int | str]]] = {}
    currency = doc.unit.split()[0]
    for code, f, order in doc.ordered(("financial_plan", "revenue"), "revenue line"):
        name = f.text("name", required=True)
        group = f.choice("group", REVENUE_GROUPS, "other")
        units = f.per_year("units", years, hi=1e6, what="a number of contributory units",
                           every_year=True)
        unit_value = f.number("unit_value_chf", hi=1e9, what="the value of one unit in CHF")
        other_value = f.number("unit_value", hi=1e9,
                               what=f"the value of one unit in {currency} (not thousands)")
        value_key = "unit_value_chf" if unit_value is not None else "unit_value"
        if unit_value is not None and other_value is not None:
            doc.error(f.at("unit_value"), "give unit_value_chf or unit_value, not both")
        elif unit_value is not None and currency != "CHF":
            doc.error(f.at("unit_value_chf"), f"the model is in {doc.unit}: give unit_value, "
                      f"the value of one unit in {currency}, not unit_value_chf")
        unit_value = other_value if unit_value is None else unit_value
        amounts = f.per_year("amount", years, every_year=True)
        source = f.text("source")
        if f.raw("receives_support_costs") is not MISSING:
            doc.error(f.at("receives_support_costs"), "receives_support_costs is no longer read: "
                      "the programme support costs earned on the extrabudgetary funds are their "
                      "own lines of the ceiling (funds' support_cost_rate); remove the key")
        f.close()
        if units is not None or unit_value is not None:
            if amounts is not None:
                doc.error(f.at("amount"), "give either amount, or units and unit_value_chf")
            if units is None or unit_value is None:
                doc.error(f.path, "a line in units needs both units and unit_value_chf")
                continue
            amounts = {y: u * unit_value / 1000.0 for y, u in units.items()}
            big = [y for y, a in amounts.items() if a > MAX_AMOUNT]
            if big:
                doc.too_large(f.path, amounts[big[0]], big[0],
                              f"units x {value_key} / 1000", f"units ({units[big[0]]:g}) and "
                              f"{value_key} ({unit_value:g}, the value of one unit in "
                              f"{currency}, not thousands)")
                continue
        elif amounts is None:
            if "amount" not in f.table:
                doc.error(f.path, f"missing amount ({doc.unit} per year) or units and "
                          "unit_value_chf")
            continue
        out.append(RevenueLine(code, name, group, amounts, units, unit_value, source))
        rank[code] = (REVENUE_GROUPS.index(group), order, natural_key(code))
    for y in years:
        total = sum(line.amounts.get(y, 0.0) for line in out)
        if total > MAX_AMOUNT:
            doc.too_large(("financial_plan", "revenue"), total, y, "the sum of the revenue "
                          "lines", f"that every amount is in {doc.unit}")
            break
    return tuple(sorted(out, key=lambda line: rank[line.code]))


@dataclass(frozen=True)
class Growth:
    """What [growth] does: adjustments of the ceiling, or a cut of named entities' envelopes."""

    adjustments: tuple[CeilingAdjustment, ...] = ()
    envelope_cut: dict[str, float] = field(default_factory=dict)
    """Entity -> the share cut from its envelope."""


def read_growth(doc: Document, years: tuple[int, ...], revenue: tuple[RevenueLine, ...],
                entity_codes: tuple[str, ...]) -> Growth:
    """Growth rules and cuts as ceiling adjustments (and envelope cuts), stated per year."""
    table = doc.table(("financial_plan", "growth"), required=False)
    if not table or not years:
        return Growth()
    f = Fields(doc, ("financial_plan", "growth"), table, "growth rules")
    rule = f.choice("rule", ("none", "zero_nominal", "zero_real"), "none")
    income = {y: sum(line.amounts.get(y, 0.0) for line in revenue) for y in years}
    reference = f.number("reference", default=income[years[0]])
    if reference is None:  # refused above; go on with the default to find other problems
        reference = income[years[0]]
    inflation = f.per_year("inflation", years, hi=1.0, what="an inflation rate, e.g. 0.02",
                           every_year=True)
    cut = f.share("cut")
    cut_envelopes = f.codes("cut_envelopes", entity_codes, "an entity")
    f.close()
    if rule == "zero_real" and "inflation" not in f.table:
        doc.error(f.at("inflation"), "zero real growth needs an inflation rate per year")
    if rule != "zero_real" and "inflation" in f.table:
        doc.error(f.at("inflation"), "an inflation rate is only used with rule = \"zero_real\"")
    if cut_envelopes is not None and cut is None:
        doc.error(f.at("cut_envelopes"), "give the cut (a share) to apply to these envelopes")
    adjustments = []
    level = dict(income)
    if rule == "zero_nominal":
        level = dict.fromkeys(years, reference)
        name = f"Zero nominal growth: revenue held at {reference:,.0f} a year"
    elif rule == "zero_real":
        factor, level = 1.0, {}
        for y in years:
            factor *= 1.0 + (inflation or {}).get(y, 0.0)
            level[y] = reference * factor
        big = [y for y in years if level[y] > MAX_AMOUNT]
        if big:
            doc.too_large(f.at("reference"), level[big[0]], big[0], "the reference escalated "
                          "by inflation", "reference and inflation (a rate, 0.02 for 2%)")
        name = f"Zero real growth: revenue of {reference:,.0f} escalated by inflation"
    if rule != "none":
        adjustments.append(CeilingAdjustment(rule, name, {y: level[y] - income[y] for y in years}))
    envelope_cut: dict[str, float] = {}
    if cut is not None and cut_envelopes is None:
        adjustments.append(CeilingAdjustment(
            "cut", f"Cut of {cut:.1%} of revenue", {y: -cut * level[y] for y in years}))
    elif cut is not None and cut_envelopes is not None:
        envelope_cut = dict.fromkeys(sorted(cut_envelopes), cut)
    return Growth(tuple(adjustments), envelope_cut)


def ceilings(years: Iterable[int], revenue: tuple[RevenueLine, ...],
             adjustments: tuple[CeilingAdjustment, ...]) -> dict[int, float]:
    """The regular budget's ceiling per year: the revenue lines plus the growth adjustments."""
    return {y: sum(line.amounts.get(y, 0.0) for line in revenue)
            + sum(a.amounts.get(y, 0.0) for a in adjustments) for y in years}
