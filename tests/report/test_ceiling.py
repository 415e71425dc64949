"""The ceiling has one definition (CeilingParts: revenue lines + growth rules and cuts +
programme support costs earned) and every output shows the same figure with its parts (issue 13,
item 1)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alloc.lp.build import build
from alloc.lp.solution import REVENUE_WORDS, SUPPORT_WORDS, CeilingParts
from alloc.lp.solve import solve
from alloc.model.domain import REGULAR
from alloc.model.load import load_plan
from alloc.report.ceiling import equation, published, tenths, whole_parts

REPO = Path(__file__).resolve().parents[2]

GROWTH_AND_CUT = """[scenario]
parent = "tiny"
title = "Tiny, revenue held at 90 and cut by 10%, a fund earning support costs"

[financial_plan.growth]
rule = "zero_nominal"
reference = 90
cut = 0.1

[financial_plan.funds.F]
support_cost_rate = 0.1
"""


def test_the_parts_of_a_small_model_with_a_growth_rule_and_a_cut(project: Path) -> None:
    (project / "scenarios" / "held.toml").write_text(GROWTH_AND_CUT)
    plan = load_plan("held", project)
    solution = solve(build(plan))
    assert solution.optimal
    revenue = {2024: 100.0, 2025: 80.0}
    spending = solution.fund_spending()
    for y in plan.years:
        parts = solution.ceiling_parts(y)
        assert parts.revenue == pytest.approx(revenue[y])
        assert [(code, words) for code, words, _ in parts.adjustments] == [
            ("zero_nominal", "zero nominal growth"), ("cut", "cut of 10.0%")]
        assert [a for _, _, a in parts.adjustments] == pytest.approx([90 - revenue[y], -9.0])
        assert parts.support_costs_earned == pytest.approx(0.1 * spending[("F", y)])
        assert parts.support_costs_earned > 0
        assert parts.fixed == pytest.approx(plan.ceiling(y)) == pytest.approx(81.0)
        assert parts.total == pytest.approx(solution.ceiling(y))
        # a balanced budget spends the ceiling as defined, support costs earned included
        assert solution.allocated(y, REGULAR) == pytest.approx(parts.total, abs=1e-6)
        assert [n for n, _ in parts.named()] == [REVENUE_WORDS, "zero nominal growth",
                                                 "cut of 10.0%", SUPPORT_WORDS]
        assert sum(a for _, a in parts.named()) == pytest.approx(parts.total)
    both = solution.ceiling_parts(plan.years, "2024-2025")
    assert both.total == pytest.approx(sum(solution.ceiling(y) for y in plan.years))
    assert both.label == "2024-2025"
    whole = published(solution)
    for y in plan.years:
        rounded = whole_parts(solution.ceiling_parts(y), whole[str(y)])
        assert sum(v for _, v in rounded) == whole[str(y)]


def test_a_model_without_support_costs_shows_no_such_part(project: Path) -> None:
    solution = solve(build(load_plan("tiny", project)))
    parts = solution.ceiling_parts(2024)
    assert not parts.earns_support_costs
    assert [n for n, _ in parts.named()] == [REVENUE_WORDS]
    assert equation(100, whole_parts(parts)) == "100 = revenue lines 100"


amounts = st.floats(min_value=-5e5, max_value=5e5, allow_nan=False, allow_infinity=False)


@given(revenue=st.floats(min_value=0, max_value=1e6, allow_nan=False),
       adjustments=st.lists(amounts, max_size=3),
       earned=st.floats(min_value=0, max_value=1e5, allow_nan=False), up=st.booleans())
def test_rounded_parts_add_up_to_the_rounded_ceiling(revenue: float, adjustments: list[float],
                                                     earned: float, up: bool) -> None:
    parts = CeilingParts("2024", revenue, tuple((f"a{i}", f"rule {i}", a)
                                                for i, a in enumerate(adjustments)), earned, True)
    assert parts.total == pytest.approx(revenue + sum(adjustments) + earned)
    # the published ceiling is the total rounded down or up (controlled rounding of the tables)
    total = int(parts.total // 1) + (1 if up and parts.total % 1 > 0 else 0)
    rounded = whole_parts(parts, total)
    assert sum(v for _, v in rounded) == total
    for (_, v), (_, exact) in zip(rounded, parts.named(), strict=True):
        assert abs(v - exact) < 1 + 1e-5
    ten, named = tenths(parts)
    assert round(sum(v for _, v in named) * 10) == round(ten * 10)
    assert abs(ten - parts.total) <= 0.05 + 1e-6


def _alloc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alloc", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


EQUATION = re.compile(r"^\s*ceiling (\d{4}): ([\d,]+) = (.*?)(?:;|$)")


def _equations(text: str) -> dict[str, tuple[int, str]]:
    out = {}
    for line in text.splitlines():
        m = EQUATION.match(line)
        if m:
            out[m.group(1)] = (int(m.group(2).replace(",", "")), m.group(3))
    return out


def _terms(rhs: str) -> list[int]:
    """The signed whole amounts of 'revenue lines 178,030 - zero nominal growth 3,030 + ...'."""
    out = []
    for sign, number in re.findall(r"(^|[+-]) ?[^+-]*?([\d,]+)(?= [+-] |$)", rhs):
        out.append((-1 if sign == "-" else 1) * int(number.replace(",", "")))
    return out


@pytest.mark.parametrize("scenario", ["baseline", "zng"])
def test_every_output_gives_the_same_ceiling(project: Path, scenario: str) -> None:
    shutil.copy(REPO / "scenarios" / "zng.toml", project / "scenarios" / "zng.toml")
    run = _alloc("run", scenario, "--reports", "run", cwd=project)
    assert run.returncode == 0, run.stderr
    explained = _alloc("explain", scenario, "--reports", "explain", cwd=project)
    assert explained.returncode == 0, explained.stderr
    folder = project / "run" / scenario
    record = json.loads((folder / "run.json").read_text())["ceiling"]
    years = sorted(record)
    printed = _equations(run.stdout)
    told = _equations(explained.stdout)
    assert sorted(printed) == sorted(told) == years
    table = {line.split()[0]: int(line.split()[1].replace(",", ""))
             for line in run.stdout.splitlines() if line.split() and line.split()[0] in years}
    constraints = pd.read_csv(project / "explain" / scenario / "constraints.csv").set_index("name")
    import openpyxl

    sheet = openpyxl.load_workbook(folder / "appendix-a.xlsx", data_only=True)["Summary"]
    rows = list(sheet.iter_rows(values_only=True))
    start = next(k for k, r in enumerate(rows)
                 if r[0] and str(r[0]).startswith("The ceiling of the regular budget and its parts"))
    head = rows[start + 1]
    parts_block = {str(r[0]): r for r in rows[start + 2:start + 2 + len(years)]}
    markdown = (folder / "appendix-a.md").read_text()
    for y in years:
        whole, rhs = printed[y]
        entry = record[y]
        # run.json: the total and its parts, unrounded, adding up
        assert entry["total"] == pytest.approx(
            entry["revenue"] + sum(a["amount"] for a in entry["adjustments"])
            + entry["support_costs_earned"], abs=1e-5)
        assert abs(whole - entry["total"]) < 1
        # the terminal's table, its equation and explain's equation: the same whole numbers
        assert table[y] == whole
        assert told[y] == printed[y]
        terms = _terms(rhs)
        assert sum(terms) == whole
        assert terms[0] == round(entry["revenue"]) or abs(terms[0] - entry["revenue"]) < 1
        # constraints.csv: the rule's bound is the ceiling as defined, its text has the parts
        row = constraints.loc[f"ceiling[{y}]"]
        assert row["bound"] == pytest.approx(entry["total"], abs=1e-5)
        assert "programme support costs earned" in row["text"]
        # the Summary sheet: the parts as the terminal prints them, and the ceiling
        assert parts_block[y][len(terms) + 1] == whole
        assert [abs(v) for v in parts_block[y][1:len(terms) + 1]] == [abs(t) for t in terms]
        assert f"| {y} | " + " | ".join(f"{t:,}" for t in
                                        [*(v for v in parts_block[y][1:len(terms) + 1]), whole]) \
            + " |" in markdown
    # the reduction options' ceiling changes are of the same ceiling (all years)
    options = pd.read_csv(project / "explain" / scenario / "tables" / "reduction-options.csv")
    unit = json.loads((folder / "run.json").read_text())["unit"]
    whole_period = sum(record[y]["total"] for y in years)
    assert len(options) > 0
    for cumulative, percent in zip(options[f"cumulative ceiling change ({unit})"],
                                   options["ceiling change (%)"], strict=True):
        assert abs(percent) == pytest.approx(cumulative / whole_period * 100, abs=1e-3)
    width = len(_terms(printed[years[0]][1]))
    assert head[1] == "Revenue lines" and head[width + 1] == "Ceiling"
    if scenario == "zng":
        assert "zero nominal growth" in printed[years[0]][1]
        assert record[years[0]]["adjustments"][0]["code"] == "zero_nominal"
        title = json.loads((folder / "run.json").read_text())["title"]
        assert "revenue held at CHF 175 million" in title
        low, high = (min(printed[y][0] for y in years), max(printed[y][0] for y in years))
        assert f"CHF {low / 1000:.1f}-{high / 1000:.1f} million" in title
