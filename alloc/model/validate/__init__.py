"""Validation: a resolved scenario document becomes a `Plan`, or every problem is reported at once.

Each problem names the file and the field as the user wrote them, says what was expected, and
suggests the closest valid key or code when one was misspelt.

One module per input file or section, each a set of functions that take the `Document` and what
they need from the parts before (the framework's codes, the years, the fund codes) as arguments
and return typed results; none keeps state for another:

- `fields`: the document, its list of problems, typed readers of a table (`Fields`);
- `meta`: model.toml (title, unit, date of the inputs);
- `framework`: entities, goals, priorities with goal shares, outputs, support lines, their codes;
- `plan`: the plan's years and biennia;
- `revenue`: revenue lines, growth rules and cuts (ceiling adjustments), the ceiling per year;
- `funds`: extrabudgetary funds;
- `mandate`: the admissible cells;
- `envelopes`, `committed`, `bounds`, `stability`, `targets`, `objective` (with the budget's
  balance and the valuation of requirements), `support`: the sections of rules.toml;
- `requirements`: requirements.csv, the costed requirements in tranches;
- `cross`: checks across sections (rules that select no cell, priorities nobody delivers, rules
  per biennium without biennia);
- `sources`: where each rule, fund and cell was written, for the plan's provenance.

`validate` calls them in turn, handing each what earlier ones returned; beyond that, the order
only decides the order in which problems are found (an `InputError` sorts them anyway).
"""

from __future__ import annotations

from alloc.errors import InputError
from alloc.model.domain import Plan
from alloc.model.scenario import Resolved
from alloc.model.validate.bounds import read_bounds
from alloc.model.validate.committed import read_commitments
from alloc.model.validate.cross import (
    CellIndex,
    check_biennia_needed,
    check_delivered,
    check_selections,
    periods_of,
)
from alloc.model.validate.envelopes import read_envelopes
from alloc.model.validate.fields import DEFAULT_UNIT, MAX_AMOUNT, Document
from alloc.model.validate.framework import (
    FRAMEWORK_KEYS,
    codes_of,
    read_entities,
    read_goals,
    read_outputs,
    read_priorities,
)
from alloc.model.validate.funds import fund_codes_of, read_funds
from alloc.model.validate.mandate import read_mandate
from alloc.model.validate.meta import read_meta
from alloc.model.validate.objective import read_budget, read_objective
from alloc.model.validate.plan import FINANCIAL_PLAN_KEYS, read_plan
from alloc.model.validate.requirements import read_requirements
from alloc.model.validate.revenue import ceilings, read_growth, read_revenue
from alloc.model.validate.sources import sources
from alloc.model.validate.stability import read_stability
from alloc.model.validate.support import read_support_services
from alloc.model.validate.targets import read_targets

__all__ = ["DEFAULT_UNIT", "MAX_AMOUNT", "validate"]

RULES_KEYS = ("budget", "envelopes", "committed", "bounds", "stability", "targets",
                  "objective", "support_distribution")
"""The tables of rules.toml."""


def validate(resolved: Resolved) -> Plan:
    """The resolved scenario as a `Plan`; raises InputError listing every problem found."""
    doc = Document(resolved)
    meta = read_meta(doc)
    doc = doc.in_unit(meta.message_unit)

    entities = read_entities(doc)
    goals = read_goals(doc)
    priorities = read_priorities(doc, tuple(g.code for g in goals))
    outputs = read_outputs(doc)
    doc.known_keys(("framework",), FRAMEWORK_KEYS, "framework")
    codes = codes_of(entities, goals, priorities, outputs)

    years, biennia = read_plan(doc)
    doc.known_keys(("financial_plan",), FINANCIAL_PLAN_KEYS, "financial plan")
    if not years:  # every amount is per year: nothing more can be read
        raise InputError(doc.problems)
    revenue = read_revenue(doc, years)
    growth = read_growth(doc, years, revenue, codes.entities)
    funds = read_funds(doc, codes, years)
    fund_codes = fund_codes_of(funds)
    mandate = read_mandate(doc, codes, years)

    budget = read_budget(doc)
    envelopes = read_envelopes(doc, codes.entities, years,
                               ceilings(years, revenue, growth.adjustments), growth.envelope_cut)
    commitments = read_commitments(doc, codes, years, fund_codes)
    bounds = read_bounds(doc, codes, fund_codes)
    stability, previous = read_stability(doc, codes, mandate)
    targets = read_targets(doc, codes, fund_codes)
    objective = read_objective(doc, priorities)
    requirements = read_requirements(doc, codes, years, mandate, objective.valuation)
    support_services = read_support_services(doc, priorities)
    doc.known_keys(("rules",), RULES_KEYS, "rules")

    check_selections(doc, CellIndex(m.cell for m in mandate), codes,
                     (("committed", commitments), ("targets", targets), ("bounds", bounds)))
    check_delivered(doc, mandate, codes.priorities)
    check_biennia_needed(doc, years, biennia, periods_of(budget.ceiling_period, bounds, targets))
    if doc.problems:
        raise InputError(doc.problems)
    return Plan(
        name=resolved.name, model=resolved.model, title=resolved.title or meta.title,
        unit=meta.unit, inputs_date=meta.inputs_date, scenario_chain=resolved.chain,
        description=resolved.description, reference=resolved.reference,
        illustrative=meta.illustrative, previous=previous,
        entities=entities, goals=goals, priorities=priorities, outputs=outputs, years=years,
        biennia=biennia, revenue=revenue, adjustments=growth.adjustments, funds=funds,
        mandate=mandate, envelopes=envelopes, commitments=commitments, bounds=bounds,
        stability=stability, targets=targets, balance_budget=budget.balance,
        ceiling_period=budget.ceiling_period, level_tolerance=objective.level_tolerance,
        requirements=requirements, valuation=objective.valuation,
        support_services=support_services, overrides=tuple(resolved.overrides),
        input_files=dict(sorted(resolved.files.items())),
        sources=sources(resolved, mandate),
    )
