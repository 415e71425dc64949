"""Scenario rules of the financial plan, on the shipped reference model and scenarios."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from alloc.errors import InputError
from alloc.lp.build import build
from alloc.lp.solve import solve
from alloc.lp.verify import check
from alloc.model.domain import REGULAR
from alloc.model.load import load_plan

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ["baseline", "zng", "zrg", "cut-5pct", "eb-low", "eb-high", "cyber-standalone",
           "innovation-security-goals", "new-contributory-unit"]


@pytest.fixture(scope="module")
def solutions():
    return {name: solve(build(load_plan(name, REPO))) for name in SHIPPED}


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_runs_optimal_and_checks(solutions, name: str) -> None:
    solution = solutions[name]
    assert solution.status == "optimal"
    assert check(solution.plan, solution.allocation) == []
    text = (REPO / "scenarios" / f"{name}.toml").read_text()
    assert text.startswith("#") and "Question" in text


def test_the_ceiling_follows_the_revenue_lines_exactly() -> None:
    base = load_plan("baseline", REPO)
    unit = load_plan("new-contributory-unit", REPO)
    for y in base.years:
        expected = sum(line.amounts[y] for line in base.revenue)
        assert base.ceiling(y) == pytest.approx(expected, abs=1e-9)
        assert unit.ceiling(y) - base.ceiling(y) == pytest.approx(
            344 * (330000 - 318000) / 1000 + 282 * (66000 - 63600) / 1000, abs=1e-9)
        ms = next(line for line in base.revenue if line.code == "member_states")
        assert ms.amounts[y] == pytest.approx(344 * 318000 / 1000)


def test_zero_nominal_growth_holds_the_ceiling() -> None:
    plan = load_plan("zng", REPO)
    for y in plan.years:
        assert plan.ceiling(y) == pytest.approx(175000, abs=1e-9)
    (adjustment,) = plan.adjustments
    assert adjustment.code == "zero_nominal"
    assert adjustment.amounts[2024] == pytest.approx(175000 - plan.revenue_total(2024))


def test_zero_real_growth_escalates_by_inflation_each_year() -> None:
    plan = load_plan("zrg", REPO)
    for k, y in enumerate(plan.years, start=1):
        assert plan.ceiling(y) == pytest.approx(175000 * 1.012**k, rel=1e-12)


def test_a_cut_reduces_the_ceiling_by_its_share() -> None:
    base, cut = load_plan("baseline", REPO), load_plan("cut-5pct", REPO)
    for y in base.years:
        assert cut.ceiling(y) == pytest.approx(0.95 * base.ceiling(y), rel=1e-12)


def test_a_cut_of_chosen_envelopes(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    (root / "scenarios" / "cut-br.toml").write_text(
        '[scenario]\nparent = "baseline"\n[financial_plan.growth]\ncut = 0.1\n'
        'cut_envelopes = ["BR"]\n')
    base, cut = load_plan("baseline", root), load_plan("cut-br", root)
    assert cut.ceiling(2024) == base.ceiling(2024)
    before = {e.entity: e for e in base.envelopes}
    after = {e.entity: e for e in cut.envelopes}
    assert after["BR"].max[2024] == pytest.approx(0.9 * before["BR"].max[2024])
    assert after["GS"].max[2024] == before["GS"].max[2024]


def test_earmarks_and_receipts_bound_every_fund(solutions) -> None:
    for name in ("baseline", "eb-high", "eb-low", "cyber-standalone"):
        solution = solutions[name]
        plan = solution.plan
        a = solution.allocation
        for fund in plan.funds:
            spent = a[a["fund"] == fund.code]
            for row in spent.itertuples(index=False):
                assert fund.earmark.admits(type(plan.mandate[0].cell)(row.entity, row.priority,
                                                                      row.output)), (name, row)
            for y in plan.years:
                direct = spent.loc[spent["year"] == y, "amount"].sum()
                assert direct * (1 + fund.support_cost_rate) <= (
                    fund.pledges.get(y, 0.0) * fund.receipt_rate + 1e-3)


def test_more_extrabudgetary_money_never_lowers_total_resources(solutions) -> None:
    total = {n: solutions[n].allocation["amount"].sum() for n in ("eb-low", "baseline", "eb-high")}
    assert total["eb-low"] < total["baseline"] < total["eb-high"]
    regular = {n: solutions[n].allocation.query("fund == @REGULAR")["amount"].sum()
               for n in ("eb-low", "baseline", "eb-high")}
    assert regular["eb-low"] <= regular["baseline"] <= regular["eb-high"]


def test_programme_support_costs_flow_into_the_ceiling(solutions) -> None:
    solution = solutions["eb-high"]
    plan = solution.plan
    a = solution.allocation
    for y in plan.years:
        in_year = a[a["year"] == y]
        earned = sum(f.support_cost_rate * in_year.loc[in_year["fund"] == f.code, "amount"].sum()
                     for f in plan.funds)
        assert earned > 0
        assert solution.ceiling(y) == pytest.approx(plan.ceiling(y) + earned, abs=1e-6)
        assert in_year.loc[in_year["fund"] == REGULAR, "amount"].sum() == pytest.approx(
            plan.ceiling(y) + earned, abs=1e-3)


def test_structural_scenarios_change_the_framework() -> None:
    cyber = load_plan("cyber-standalone", REPO)
    tp6 = next(p for p in cyber.priorities if p.code == "TP6")
    assert tp6.name == "Cybersecurity" and len(tp6.outcomes) == 2
    tp3 = next(p for p in cyber.priorities if p.code == "TP3")
    assert "7" not in {o.code for o in tp3.outcomes}
    assert cyber.fund("cyber_standards").earmark.priorities == frozenset({"TP6"})
    goals = load_plan("innovation-security-goals", REPO).goals
    assert [g.name for g in goals] == ["Universal Connectivity", "Sustainable Digital Transformation",
                                       "Innovation", "Security"]


STRUCTURAL_ERRORS = [
    # a new priority with no cell in the mandate
    ('[framework.priorities.TP6]\nname = "Cybersecurity"\ngoal_shares = { G1 = 1.0 }\n',
     ["no entity delivers 'TP6'"]),
    # a new priority with no contribution to the goals
    ('[framework.priorities.TP6]\nname = "Cybersecurity"\n[mandate."BDT/TP6/PS6"]\n',
     ["framework.priorities.TP6.goal_shares", "missing"]),
    # a new goal that the priorities' shares leave out is fine, but shares must still add up
    ('[framework.goals.G3]\nname = "Innovation"\n[framework.priorities.TP4]\n'
     'goal_shares = { G3 = 0.3 }\n', ["priorities.TP4.goal_shares", "add up to 1.3"]),
    # a retired goal still named in shares
    ('remove = ["framework.goals.G2"]\n', ["'G2' is not a goal of the model"]),
    # a retired priority still in the mandate, targets and previous allocation
    ('remove = ["framework.priorities.TP2"]\n', ["'TP2' is not a priority or support line"]),
]


@pytest.mark.parametrize(("body", "expected"), STRUCTURAL_ERRORS)
def test_incomplete_structural_mappings_are_caught(tmp_path: Path, body: str,
                                                   expected: list[str]) -> None:
    root = _copy_project(tmp_path)
    head, _, rest = body.partition("\n") if body.startswith("remove") else ("", "", body)
    (root / "scenarios" / "s.toml").write_text(
        f'[scenario]\nparent = "baseline"\n{head}\n{rest}')
    with pytest.raises(InputError) as info:
        load_plan("s", root)
    for text in expected:
        assert text in str(info.value)


def _copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(REPO / "models", root / "models")
    shutil.copytree(REPO / "scenarios", root / "scenarios")
    return root


def test_every_report_shows_the_provenance(tmp_path: Path) -> None:
    import json

    import openpyxl

    from alloc.cli import main

    assert main(["run", "new-contributory-unit", "--project", str(REPO), "--reports",
                 str(tmp_path), "--quiet"]) == 0
    folder = tmp_path / "new-contributory-unit"
    run = json.loads((folder / "run.json").read_text())
    assert run["scenario_chain"] == ["new-contributory-unit", "baseline"]
    change = {"scenario": "new-contributory-unit",
              "key": "financial_plan.revenue.member_states.unit_value_chf",
              "old": 318000, "new": 330000}
    assert change in run["overrides"]
    markdown = (folder / "appendix-a.md").read_text()
    assert "new-contributory-unit \\<- baseline" in markdown
    assert "| new-contributory-unit | financial\\_plan.revenue.member\\_states.unit\\_value\\_chf " \
           "| 318000 | 330000 |" in markdown
    sheet = openpyxl.load_workbook(folder / "appendix-a.xlsx")["Summary"]
    rows = [tuple(c for c in row if c is not None) for row in sheet.iter_rows(values_only=True)]
    assert ("new-contributory-unit", "financial_plan.revenue.member_states.unit_value_chf",
            "318000", "330000") in rows
