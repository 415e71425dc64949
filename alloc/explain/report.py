"""Writing an explanation: constraints.csv, flexibility.csv, ranging.csv, the workbook's sheets,
and the lines `alloc run` and `alloc explain` print. Formats only: every number comes from
the other modules of `alloc.explain`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from alloc.explain.cell import CellStory
from alloc.explain.diagnosis import Diagnosis
from alloc.explain.explanation import Explanation
from alloc.explain.flexibility import Room
from alloc.explain.prices import CONSTRAINT_CSV
from alloc.explain.ranging import Range
from alloc.explain.words import amount_text, short_source
from alloc.lp.solution import Solution
from alloc.model.domain import Plan
from alloc.report.ceiling import equation, tenths
from alloc.report.workbook import Sheet

CONSTRAINTS = "constraints.csv"
FLEXIBILITY = "flexibility.csv"
RANGING = "ranging.csv"
FLEXIBILITY_COLUMNS = ["kind", "code", "name", "amount", "low", "high", "room", "forced",
                       "tolerance"]
RANGING_COLUMNS = ["kind", "code", "name", "source", "parameter", "value", "low", "high"]


def restate_ceilings(explanation: Explanation, solution: Solution) -> Explanation:
    """The ceiling rows as the ceiling is defined everywhere (`CeilingParts`): bound = the
    ceiling with the programme support costs earned, activity = regular-budget spending, and the
    parts in the rule's text. The LP row holds the support costs earned on its left-hand side, so
    its slack and price are the same either way (a price is per unit of ceiling)."""
    plan = solution.plan
    table = explanation.table.copy()
    verb = "equals" if plan.balance_budget else "stays within"
    for label, ys, _ in plan.ceiling_periods():
        at = table.index[table["name"] == f"ceiling[{label}]"]
        if not len(at):
            continue
        parts = solution.ceiling_parts(ys, label)
        total, named = tenths(parts)
        psc = parts.support_costs_earned
        table.loc[at, "bound"] = round(float(table.loc[at[0], "bound"]) + psc, 6) + 0.0
        table.loc[at, "activity"] = round(float(table.loc[at[0], "activity"]) + psc, 6) + 0.0
        table.loc[at, "text"] = (f"regular-budget spending in {label} {verb} the ceiling of "
                                 f"{equation(total, named, decimals=1)} (the support costs earned "
                                 f"follow the funds' spending: the rule's fixed part is "
                                 f"{parts.fixed:,.1f})")
    return dataclasses.replace(explanation, table=table)


def binding_first(table: pd.DataFrame) -> pd.DataFrame:
    """Binding rules first (largest price first), then targets, then the rest in model order."""
    order = table.assign(
        _group=[0 if b else (1 if r == "target" else 2)
                for b, r in zip(table["binding"], table["rule"], strict=True)],
        _price=-table["shadow_price"].abs().fillna(0.0),
        _pos=range(len(table)))
    return order.sort_values(["_group", "_price", "_pos"], kind="stable").drop(
        columns=["_group", "_price", "_pos"]).reset_index(drop=True)


def flexibility_frame(rooms: Sequence[Room], tolerance: float) -> pd.DataFrame:
    return pd.DataFrame([{
        "kind": r.kind, "code": r.code, "name": r.name, "amount": round(r.amount, 6) + 0.0,
        "low": round(r.low, 6) + 0.0, "high": round(r.high, 6) + 0.0,
        "room": round(r.high - r.low, 6) + 0.0, "forced": r.forced, "tolerance": tolerance,
    } for r in rooms], columns=FLEXIBILITY_COLUMNS)


def ranging_frame(ranges: Sequence[Range]) -> pd.DataFrame:
    def end(x: float | None) -> float:
        return math.nan if x is None else round(x, 6) + 0.0

    return pd.DataFrame([{
        "kind": r.kind, "code": r.code, "name": r.name, "source": r.source,
        "parameter": r.parameter, "value": round(r.value, 6) + 0.0, "low": end(r.low),
        "high": end(r.high),
    } for r in ranges], columns=RANGING_COLUMNS)


def sheets(explanation: Explanation, plan: Plan) -> list[Sheet]:
    """The workbook's Constraints sheet, and Flexibility and Ranging when they were computed."""
    unit = plan.unit
    table = binding_first(explanation.table)
    out = [Sheet(
        "Constraints", f"Rules at the optimum: binding ones first ({unit})",
        (explanation.note,
         "Binding: the rule holds with no room left (equalities always). Slack: room left "
         f"before the rule binds, in {unit}. Shadow price: see above."),
        (("binding", "Binding", "flag", 8), ("rule", "Rule group", "text", 11),
         ("name", "Rule", "text", 30), ("sentence", "In plain words", "wrap", 60),
         ("source", "Where it is written", "wrap", 34), ("bound", "Bound", "detail", 14),
         ("activity", "Activity", "detail", 14), ("slack", "Slack", "detail", 12),
         ("shadow_price", "Shadow price", "number", 13), ("text", "The rule", "wrap", 44)),
        table, bold="binding", csv=CONSTRAINTS)]
    if explanation.rooms:
        frame = flexibility_frame(explanation.rooms, explanation.tolerance)
        out.append(Sheet(
            "Flexibility", f"Room for manoeuvre ({unit}, all funds, all years)",
            (f"The smallest and largest amount each thematic priority and entity can receive "
             f"while every goal-programming level stays within {explanation.tolerance:.1%} of "
             "its optimum (the tie-break toward the reference distribution aside). Forced: the "
             "amount is set by the rules and targets; otherwise it is a choice within the range.",),
            (("kind", "Kind", "text", 9), ("code", "Code", "text", 10), ("name", "Name", "wrap", 40),
             ("amount", "Allocated", "amount", 13), ("low", "Smallest", "amount", 13),
             ("high", "Largest", "amount", 13), ("room", "Room", "amount", 12),
             ("forced", "Forced", "flag", 8)),
            frame, bold="forced", csv=FLEXIBILITY))
    if explanation.ranges:
        frame = ranging_frame(explanation.ranges)
        out.append(Sheet(
            "Ranging", "Ranging: where the binding rules stay the same",
            ("For each ceiling and each thematic priority's target: the interval of its amount "
             "(or share) over which re-solving the plan keeps the same set of binding rules, "
             "everything else as it is. For a ceiling, the amount is its fixed part (revenue "
             "lines, growth rules and cuts); the programme support costs earned on the "
             "extrabudgetary funds come on top (the Constraints sheet). An empty end: no change "
             "found up to the end searched (a share of 0 or 1, or four times the amount).",),
            (("kind", "Kind", "text", 9), ("code", "Code", "text", 12), ("name", "Name", "wrap", 40),
             ("parameter", "What", "text", 9), ("value", "Now", "number", 13),
             ("low", "From", "number", 13), ("high", "To", "number", 13),
             ("source", "Where it is written", "wrap", 40)),
            frame, csv=RANGING))
    return out


def files(explanation: Explanation) -> Callable[[Path], list[str]]:
    """What `write_report` calls to add the explanation's CSV files to a report folder."""
    from alloc.report.write import write_csv

    def write(folder: Path) -> list[str]:
        written = []
        write_csv(explanation.table[CONSTRAINT_CSV], folder / CONSTRAINTS)
        written.append(CONSTRAINTS)
        if explanation.rooms:
            write_csv(flexibility_frame(explanation.rooms, explanation.tolerance),
                      folder / FLEXIBILITY)
            written.append(FLEXIBILITY)
        if explanation.ranges:
            write_csv(ranging_frame(explanation.ranges), folder / RANGING)
            written.append(RANGING)
        return written

    return write


# --- printed ---------------------------------------------------------------------------------------

def diagnosis_lines(diagnosis: Diagnosis) -> list[str]:
    """The conflicts, one paragraph each, then the repair of them all when there are several."""
    lines = []
    for k, conflict in enumerate(diagnosis.conflicts, start=1):
        lead = f"{k}. " if len(diagnosis.conflicts) > 1 else ""
        lines.append(lead + conflict.message)
        for rule in conflict.rules:
            lines.append(f"     - {rule.text} [{short_source(rule.source)}] ({rule.role})")
    if len(diagnosis.conflicts) > 1:
        lines.append("Together, these changes make the plan feasible: "
                     + diagnosis.repair.text + ".")
    return lines


def explanation_lines(explanation: Explanation, plan: Plan, limit: int = 15,
                      ceilings: Mapping[str, str] | None = None) -> list[str]:
    """What `alloc explain` prints; `ceilings`: the equation of each ceiling period's ceiling in
    the tables' whole units (alloc.report.ceiling.period_equations)."""
    table = binding_first(explanation.table)
    # a requirement's own rows say how far it is funded (the report's Requirements table)
    table = table[table["rule"] != "requirement"]
    bound = table[table["binding"]]
    lines = [f"binding rules: {len(bound)} of {int((table['rule'] != 'target').sum())}"
             + (f" (the {limit} with the largest prices shown)" if len(bound) > limit else ""),
             f"  ({explanation.note})"]
    for row in bound.head(limit).itertuples(index=False):
        lines.append(f"  - {row.name} [{short_source(str(row.source))}]: {row.sentence}")
    if explanation.rooms:
        tol = f"{explanation.tolerance:.1%}"
        lines.append(f"room for manoeuvre ({plan.unit}, all funds and years, objective within "
                     f"{tol} of its optimum):")
        for r in explanation.rooms:
            state = "forced" if r.forced else "a choice"
            lines.append(f"  {r.kind:<9}{r.code:<10}{amount_text(round(r.amount)):>12}  from "
                         f"{amount_text(round(r.low)):>10} to {amount_text(round(r.high)):>10}  "
                         f"{state}")
    if explanation.ranges:
        lines.append("ranging (where the binding rules stay the same):")
        for g in explanation.ranges:
            share = g.parameter == "share"
            if g.kind == "ceiling" and ceilings and g.code in ceilings:
                lines.append(f"  ceiling {g.code}: {ceilings[g.code]}; its fixed part (revenue "
                             f"lines, growth rules and cuts) {_end(g.value, share)}, from "
                             f"{_end(g.low, share)} to {_end(g.high, share)}")
                continue
            lines.append(f"  {g.kind} {g.code}: {_end(g.value, share)}, from "
                         f"{_end(g.low, share)} to {_end(g.high, share)}")
    return lines


def _end(x: float | None, share: bool) -> str:
    if x is None:
        return "no limit found"
    return f"{x:.4%}" if share else amount_text(round(x, 3))


def cell_lines(story: CellStory, plan: Plan) -> list[str]:
    unit = plan.unit
    total = sum(a for _, _, a in story.amounts)
    room = story.room
    lines = [f"cell {story.cell}: {amount_text(round(total, 3))} ({unit}) over the plan"]
    for y, fund, amount in story.amounts:
        lines.append(f"  {y} {fund}: {amount_text(round(amount, 3))}")
    lines.append(f"  room for manoeuvre: from {amount_text(round(room.low, 3))} to "
                 f"{amount_text(round(room.high, 3))} ("
                 + ("forced by the rules and targets" if room.forced else "a choice") + ")")
    lines.append("  binding rules it counts in:" if story.rules
                 else "  no binding rule counts this cell")
    for r in story.rules:
        lines.append(f"  - {r['name']} [{short_source(r['source'])}]: {r['sentence']}")
    lines.append("  targets it counts in:" if story.targets else "  no target counts this cell")
    for r in story.targets:
        lines.append(f"  - {r['name']} [{short_source(r['source'])}]: {r['sentence']}")
    return lines
