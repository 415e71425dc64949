"""Costed requirements at the optimum: what is funded, what is not, and where the money beyond
all requirements goes (tables/requirements.csv, the Requirements sheet, the Markdown section,
the terminal's lines).

Figures come from `Solution.funding` (per requirement: amount, part funded, value per unit) and
the allocation; rounded tables add up: per row, funded + unfunded = requirement, and every
column adds up to its total (controlled rounding, `alloc.report.rounding`), the totals being the
unrounded totals rounded half up where a rounding has them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alloc.lp.solution import AMOUNT_DECIMALS, Solution
from alloc.report.rounding import RoundingError, controlled_round, round_half_up

REQUIREMENTS_CSV = "requirements.csv"
CSV_COLUMNS = ["entity", "priority", "output", "year", "tranche", "requirement", "funded",
               "unfunded", "value", "value_unfunded"]
SHEET_COLUMNS = ["part", "code", "name", "tranche", "requirement", "funded", "unfunded",
                 "funded_pct", "allocated", "beyond", "value_unfunded", "total"]
TOTAL = "Total"


def requirement_rows(solution: Solution) -> pd.DataFrame:
    """One row per requirement (the plan's order), unrounded: tables/requirements.csv."""
    f = solution.funding
    frame = f[["entity", "priority", "output", "year", "tranche", "requirement", "funded",
               "value"]].copy()
    frame["unfunded"] = (frame["requirement"] - frame["funded"]).clip(lower=0.0)
    frame["value_unfunded"] = frame["value"] * frame["unfunded"]
    for c in ("requirement", "funded", "unfunded", "value_unfunded"):
        frame[c] = frame[c].astype(float).round(AMOUNT_DECIMALS) + 0.0
    return pd.DataFrame(frame[CSV_COLUMNS])


def _rounded(parts: np.ndarray, totals: list[int | None] | None = None) -> np.ndarray:
    """Whole units, rows and columns adding up; the column totals given where a rounding has
    them."""
    total = round_half_up(float(parts.sum()))
    if totals is not None:
        try:
            return controlled_round(parts, None, None, totals)
        except RoundingError:
            pass
    return controlled_round(parts, total)


@dataclass(frozen=True)
class Requirements:
    """The requirement tables, rounded; `exact` holds the same rows unrounded."""

    rows: pd.DataFrame
    """SHEET_COLUMNS: by thematic priority and tranche, by entity and tranche, by year."""
    exact: pd.DataFrame
    unit: str
    notes: tuple[str, ...]

    def part(self, name: str, exact: bool = False) -> pd.DataFrame:
        frame = self.exact if exact else self.rows
        return frame[frame["part"] == name].reset_index(drop=True)


BY_PRIORITY, BY_ENTITY, BY_YEAR = ("By thematic priority and tranche", "By entity and tranche",
                                   "By year")


def requirements(solution: Solution, allocated_totals: Sequence[int] | None = None
                 ) -> Requirements | None:
    """The requirement tables of an optimal solution; None when the plan has no requirements.

    `allocated_totals`: the rounded allocation (all funds) per year that the other tables show
    (the summary's); the per-year money beyond requirements is taken from it.
    """
    plan = solution.plan
    if not plan.requirements:
        return None
    rows = requirement_rows(solution)
    tranches = [t.code for t in plan.valuation.tranches]
    tranche_names = {t.code: t.name for t in plan.valuation.tranches}
    names = {i.code: i.name for items in (plan.priorities, plan.entities) for i in items}
    exact_parts: list[pd.DataFrame] = []
    rounded_parts: list[pd.DataFrame] = []
    funded_total = unfunded_total = None
    for part, axis, codes in ((BY_PRIORITY, "priority", [p.code for p in plan.priorities]),
                              (BY_ENTITY, "entity", [e.code for e in plan.entities])):
        sums = rows.groupby([axis, "tranche"])[["funded", "unfunded"]].sum()
        found = {(str(a), str(t)): (float(f), float(u)) for (a, t), f, u in zip(
            sums.index.tolist(), sums["funded"].tolist(), sums["unfunded"].tolist(), strict=True)}
        keys = [(c, t) for c in codes for t in tranches if (c, t) in found]
        exact = np.array([found[k] for k in keys], dtype=float).reshape(-1, 2)
        given: list[int | None] | None = (None if funded_total is None
                                          else [funded_total, unfunded_total])
        cells = _rounded(exact, given)
        if funded_total is None:
            funded_total, unfunded_total = int(cells[:, 0].sum()), int(cells[:, 1].sum())
        for values, out in ((exact, exact_parts), (cells, rounded_parts)):
            frame = pd.DataFrame({
                "part": part, "code": [k[0] for k in keys] + [TOTAL],
                "name": [names.get(k[0], k[0]) for k in keys] + ["All requirements"],
                "tranche": [tranche_names.get(k[1], k[1]) for k in keys] + [""],
                "funded": [*values[:, 0], values[:, 0].sum()],
                "unfunded": [*values[:, 1], values[:, 1].sum()],
                "total": [False] * len(keys) + [True]})
            out.append(frame)
    # by year: funded, unfunded and the money beyond all requirements (allocated - funded)
    years = list(plan.years)
    by_year = rows.groupby("year")[["funded", "unfunded", "value_unfunded"]].sum()
    allocated = np.array([solution.allocated(y) for y in years])
    funded = np.array([float(by_year["funded"].get(y, 0.0)) for y in years])
    unfunded = np.array([float(by_year["unfunded"].get(y, 0.0)) for y in years])
    beyond = np.clip(allocated - funded, 0.0, None)
    exact = np.column_stack([funded, unfunded, beyond])
    cells = np.zeros((len(years), 3), dtype=np.int64)
    # the summary's allocation (all funds, per year) is funded + beyond to the unit: the money
    # beyond requirements is rounded first (never below 0), the funded part is what it leaves,
    # the unfunded part what the year's rounded requirement leaves of that
    shown = np.asarray(list(allocated_totals) if allocated_totals is not None
                       else _rounded(allocated.reshape(-1, 1))[:, 0].tolist(), dtype=np.int64)
    beyond_total = max(int(shown.sum()) - int(funded_total or 0), 0)
    cells[:, 2] = _rounded(beyond.reshape(-1, 1), [beyond_total])[:, 0]
    cells[:, 0] = shown - cells[:, 2]
    need = _rounded((funded + unfunded).reshape(-1, 1),
                    [int(funded_total or 0) + int(unfunded_total or 0)])[:, 0]
    cells[:, 1] = need - cells[:, 0]
    value_left = np.array([float(by_year["value_unfunded"].get(y, 0.0)) for y in years])
    value_cells = _rounded(value_left.reshape(-1, 1))[:, 0]
    for values, values_left, out in ((exact, value_left, exact_parts),
                                     (cells, value_cells, rounded_parts)):
        out.append(pd.DataFrame({
            "part": BY_YEAR, "code": [str(y) for y in years] + [TOTAL],
            "name": ["" for _ in years] + ["All years"], "tranche": "",
            "funded": [*values[:, 0], values[:, 0].sum()],
            "unfunded": [*values[:, 1], values[:, 1].sum()],
            "beyond": [*values[:, 2], values[:, 2].sum()],
            "value_unfunded": [*values_left, values_left.sum()],
            "total": [False] * len(years) + [True]}))
    frames = []
    for parts, whole in ((exact_parts, False), (rounded_parts, True)):
        frame = pd.concat(parts, ignore_index=True)
        frame["requirement"] = frame["funded"] + frame["unfunded"]
        frame["allocated"] = frame["funded"] + frame["beyond"]
        frame["funded_pct"] = np.where(frame["requirement"] > 0,
                                       frame["funded"] / frame["requirement"].where(
                                           frame["requirement"] > 0, 1.0), np.nan)
        if whole:
            for c in ("requirement", "funded", "unfunded", "allocated", "beyond",
                      "value_unfunded"):
                frame[c] = frame[c].astype("Int64")
        frames.append(frame[SHEET_COLUMNS])
    unit = plan.unit
    notes = (
        f"Costed requirements (requirements.csv) at the optimum, in {unit}, rounded to whole "
        "units so that funded + unfunded = requirement on every row and every column adds up.",
        "Beyond requirements: money allocated (all funds) beyond every requirement of its cell; "
        "a balanced budget spends it all, over the cells each fund may pay for in proportion to "
        "their requirements, as far as the rules allow.",
        "Value left unfunded: each unfunded unit weighted by its priority and tranche (the "
        "objective the allocation minimises first); where a requirement stays unfunded while "
        "money goes beyond requirements elsewhere, no fund that may pay for it has money left "
        "under the rules (earmarks, envelopes, bounds).",
    )
    return Requirements(frames[1], frames[0], unit, notes)


def sheet_columns() -> tuple[tuple[str, str, str, float], ...]:
    """The Requirements sheet's columns (alloc.report.workbook.Sheet)."""
    return (("part", "Table", "text", 26), ("code", "Code", "text", 10),
            ("name", "Name", "text", 62), ("tranche", "Tranche", "text", 22),
            ("requirement", "Requirement", "amount", 13), ("funded", "Funded", "amount", 13),
            ("unfunded", "Unfunded", "amount", 13), ("funded_pct", "% funded", "share", 10),
            ("allocated", "Allocated (all funds)", "amount", 14),
            ("beyond", "Beyond requirements", "amount", 14),
            ("value_unfunded", "Value left unfunded", "amount", 14))


def objective_lines(solution: Solution) -> list[str]:
    """The objective in words, for the terminal: requirements funded, the value left unfunded,
    whether the optimum is proven unique, and how it was reached when that needs saying."""
    plan = solution.plan
    lines = []
    f = solution.funding
    if plan.requirements and len(f):
        need = float(f["requirement"].sum())
        got = float(f["funded"].sum())
        worth = float((f["value"] * f["requirement"]).sum())
        left = float((f["value"] * (f["requirement"] - f["funded"])).sum())
        pct = got / need if need > 0 else 1.0
        lines.append(f"requirements: {_whole(got)} of {_whole(need)} funded ({pct:.1%}), "
                     f"{_whole(need - got)} unfunded ({plan.unit})")
        lines.append(f"value: {_whole(worth - left)} of {_whole(worth)} funded, {_whole(left)} "
                     "left unfunded (each unit weighted by its priority and tranche)")
    others = {k: v for k, v in solution.objectives.items()
              if k.startswith("level ")}
    for name, value in others.items():
        lines.append(f"{name} targets: weighted shortfall and excess {value:.6g}")
    if solution.optimal and solution.not_unique:
        lines.append(f"the optimum is not proven unique: {solution.not_unique}")
    if solution.optimal and solution.message:
        lines.append(solution.message)
    return lines


def _whole(x: float) -> str:
    return f"{round_half_up(x):,}"
