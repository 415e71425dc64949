"""Scenarios side by side, and why the totals differ.

`compare` solves each scenario, lines up every Appendix A table (rounded, whole units) with the
differences against the first scenario, lists every input that differs key by key, and
attributes the difference in the totals per thematic priority and per entity to those inputs:
the changed keys are grouped one group per policy and each group's effect is its Shapley value
over the subsets of groups applied to the first scenario (`alloc.compare.shapley`). The effects
add up exactly to the difference, with no interaction left over.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alloc.compare.matrix import question
from alloc.compare.shapley import decompose, policy_groups
from alloc.errors import InputError, ModelTooLarge, Problem
from alloc.explain import diagnose_infeasible
from alloc.lp.build import build
from alloc.lp.solution import Solution
from alloc.lp.solve import SolveOptions, solve
from alloc.model.domain import Plan
from alloc.model.scenario import Path_, Resolved, Source, dotted, locate_scenario, resolve
from alloc.model.validate import validate
from alloc.report.tables import TOTAL, Table, appendix_a

MISSING = "(none)"


@dataclass
class Compared:
    """One scenario of a comparison: its resolved inputs, plan, solution and tables."""

    name: str
    resolved: Resolved
    plan: Plan
    solution: Solution
    tables: dict[str, Table] = field(default_factory=dict)
    question: str = ""
    """The question the scenario answers, from its file (`alloc.compare.matrix.question`)."""


@dataclass
class Comparison:
    scenarios: list[Compared]
    deltas: pd.DataFrame
    """Long format: table, row, column, one column per scenario, then diff_ and pct_ columns."""
    inputs: pd.DataFrame
    """Every input key that differs from the first scenario: scenario, key, old, new."""
    attribution: pd.DataFrame
    """Per scenario, axis (priority or entity) and code: one row per input group's effect."""

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]


def _solve(plan: Plan, options: SolveOptions, diagnose: bool = False) -> Solution:
    lp = build(plan)
    solution = solve(lp, options)
    if diagnose and solution.status == "infeasible" and not solution.objectives:
        diagnosis = diagnose_infeasible(lp, options, cheap=True)  # the rules named, quickly
        solution.message, solution.conflicts = diagnosis.message, diagnosis.moves()
    return solution


def load(names: list[str], root: Path, options: SolveOptions) -> list[Compared]:
    out = []
    for name in names:
        resolved = resolve(name, root)
        plan = validate(resolved)
        try:
            solution = _solve(plan, options, diagnose=True)
        except ModelTooLarge as exc:       # found at build; exit 2 as the earlier guards
            raise InputError([Problem(resolved.source(("mandate",)).file, "", str(exc))]) from None
        compared = Compared(resolved.name, resolved, plan, solution,
                            question=question(locate_scenario(name, root)))
        if solution.optimal:
            compared.tables = {t.id: t for t in appendix_a(solution)}
        out.append(compared)
    return out


def deltas(scenarios: list[Compared]) -> pd.DataFrame:
    """Every cell of every table, scenarios side by side with differences against the first."""
    names = [s.name for s in scenarios]
    frames = []
    for table_id in scenarios[0].tables:
        long = []
        for s in scenarios:
            table = s.tables.get(table_id)
            if table is None:
                continue
            frame = table.rounded.drop(columns=[c for c in ("Share",) if c in table.rounded])
            stacked = frame.stack()
            stacked.index = stacked.index.set_names(["row", "column"])
            long.append(pd.Series(stacked, name=s.name))
        joined = pd.concat(long, axis=1).fillna(0.0)
        rows = joined.index.get_level_values("row")
        joined = pd.concat([joined[rows != TOTAL], joined[rows == TOTAL]])
        joined.insert(0, "table", table_id)
        frames.append(joined.reset_index())
    out = pd.concat(frames, ignore_index=True)
    first = names[0]
    for name in names[1:]:
        out[f"diff_{name}"] = out[name] - out[first]
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = np.where(out[first] != 0, out[f"diff_{name}"] / out[first].abs() * 100.0, np.nan)
        out[f"pct_{name}"] = np.round(pct, 1)
    for name in names:
        out[name] = out[name].astype(np.int64)
    for name in names[1:]:
        out[f"diff_{name}"] = out[f"diff_{name}"].astype(np.int64)
    return out[["table", "row", "column", *names, *(c for n in names[1:]
                                                    for c in (f"diff_{n}", f"pct_{n}"))]]


def _leaves(doc: object, path: Path_ = ()) -> dict[Path_, object]:
    if isinstance(doc, dict) and doc:
        out: dict[Path_, object] = {}
        for key, value in doc.items():
            out.update(_leaves(value, (*path, str(key))))
        return out
    return {path: doc}


def input_differences(base: Resolved, other: Resolved) -> dict[Path_, tuple[object, object]]:
    """Every leaf key whose value differs: path -> (value in base, value in other)."""
    a, b = _leaves(base.doc), _leaves(other.doc)
    out = {}
    for path in sorted(set(a) | set(b)):
        old, new = a.get(path, MISSING), b.get(path, MISSING)
        if old != new:
            out[path] = (old, new)
    return out


def _with(base: Resolved, other: Resolved, paths: list[Path_]) -> Resolved:
    """The base scenario with the given keys taken from the other scenario."""
    variant = copy.deepcopy(base)
    theirs = _leaves(other.doc)
    for path in paths:
        node = variant.doc
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            if path in theirs and theirs[path] != MISSING:
                node[path[-1]] = copy.deepcopy(theirs[path])
                variant.origins[path] = other.origins.get(path, Source(other.name, 0))
            else:
                node.pop(path[-1], None)
                _prune(variant.doc, path[:-1])
    return variant


def _prune(doc: dict, path: Path_) -> None:
    """Drop tables left empty by removing keys (a rule with no key left is no rule)."""
    while len(path) > 1:
        node = doc
        for part in path[:-1]:
            node = node.get(part, {})
        if node.get(path[-1]) == {}:
            del node[path[-1]]
            path = path[:-1]
        else:
            return


def _totals(solution: Solution) -> dict[tuple[str, str], float]:
    a = solution.allocation
    out = {("priority", str(k)): float(v) for k, v in a.groupby("priority")["amount"].sum().items()}
    out.update({("entity", str(k)): float(v) for k, v in a.groupby("entity")["amount"].sum().items()})
    return out


def attribute(base: Compared, other: Compared, options: SolveOptions) -> pd.DataFrame:
    """The difference in totals per priority and entity, split over the policies that changed.

    Each policy's effect is its Shapley value (`alloc.compare.shapley`): its change to the totals
    averaged over every order in which the policies could be applied to the base scenario. The
    effects add up to the total difference; there is no unexplained remainder. Policies that
    cannot stand alone (the inputs would be invalid or the plan infeasible) are applied together.
    """
    diffs = input_differences(base.resolved, other.resolved)
    groups = policy_groups(base.resolved, other.resolved, diffs)
    start, end = _totals(base.solution), _totals(other.solution)
    result = decompose(groups, start, end,
                       lambda paths: _try(_with(base.resolved, other.resolved, paths), options))
    rows = []
    for axis, code, name in _codes(base.plan, other.plan, start, end):
        total = end.get((axis, code), 0.0) - start.get((axis, code), 0.0)
        for group, effect, bound in zip(result.groups, result.effects, result.bounds, strict=False):
            rows.append((other.name, axis, code, name, group.label, effect.get((axis, code), 0.0),
                         bound.get((axis, code), 0.0), result.method))
        rows.append((other.name, axis, code, name, TOTAL_DIFFERENCE, total, 0.0, result.method))
    return pd.DataFrame.from_records(rows, columns=ATTRIBUTION_COLUMNS)


ATTRIBUTION_COLUMNS = ["scenario", "axis", "code", "name", "input", "effect", "error_bound",
                       "method"]
TOTAL_DIFFERENCE = "total difference"


def _codes(base: Plan, other: Plan, start: dict[tuple[str, str], float],
           end: dict[tuple[str, str], float]) -> list[tuple[str, str, str]]:
    """Priorities, then entities, in the framework's order (the tables' order), with names."""
    out: list[tuple[str, str, str]] = []
    for axis, items in (("priority", [*other.priorities, *base.priorities]),
                        ("entity", [*other.entities, *base.entities])):
        seen = {c for a, c, _ in out if a == axis}
        for item in items:
            if item.code not in seen and ((axis, item.code) in start or (axis, item.code) in end):
                out.append((axis, item.code, item.name))
                seen.add(item.code)
        rest = sorted(c for a, c in {*start, *end} if a == axis and c not in seen)
        out += [(axis, c, c) for c in rest]
    return out


def attribution_groups(base: Resolved, other: Resolved) -> dict[Path_, str]:
    """Each changed key's attribution group, by its words (for the list of inputs)."""
    diffs = input_differences(base, other)
    return {p: g.label for g in policy_groups(base, other, diffs) for p in g.paths}


def _try(resolved: Resolved, options: SolveOptions) -> dict[tuple[str, str], float] | None:
    try:
        solution = _solve(validate(resolved), options)
    except InputError:
        return None
    return _totals(solution) if solution.optimal else None


def compare(names: list[str], root: Path, options: SolveOptions | None = None) -> Comparison:
    options = options or SolveOptions()
    scenarios = load(names, root, options)
    inputs = []
    for s in scenarios[1:]:
        group = attribution_groups(scenarios[0].resolved, s.resolved)
        for path, (old, new) in input_differences(scenarios[0].resolved, s.resolved).items():
            inputs.append((s.name, dotted(path), _text(old), _text(new), group[path]))
    frame = pd.DataFrame.from_records(inputs, columns=["scenario", "key", "old", "new", "group"])
    if not all(s.solution.optimal for s in scenarios):
        return Comparison(scenarios, pd.DataFrame(), frame, pd.DataFrame())
    attribution = pd.concat([attribute(scenarios[0], s, options) for s in scenarios[1:]],
                            ignore_index=True)
    return Comparison(scenarios, deltas(scenarios), frame, attribution)


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def totals_side_by_side(comparison: Comparison, table_id: str) -> pd.DataFrame:
    """The Total column of a table for each scenario, with the differences (rounded units)."""
    d = comparison.deltas
    part = d[(d["table"] == table_id) & (d["column"] == TOTAL)].drop(columns=["table", "column"])
    return part.set_index("row")
