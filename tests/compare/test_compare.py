"""alloc compare: side by side, inputs key by key, and an attribution that adds up exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from alloc.compare.core import compare, input_differences

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def unit_vs_baseline():
    return compare(["baseline", "new-contributory-unit", "eb-high"], REPO)


def test_differences_are_against_the_first(unit_vs_baseline) -> None:
    d = unit_vs_baseline.deltas
    assert (d["diff_new-contributory-unit"] == d["new-contributory-unit"] - d["baseline"]).all()
    total = d[(d["table"] == "a1-priority-entity") & (d["row"] == "Total") & (d["column"] == "Total")]
    assert int(total["diff_eb-high"].iloc[0]) > 0
    last = d[d["table"] == "a1-priority-entity"].iloc[-1]
    assert last["row"] == "Total"


def test_inputs_that_differ_key_by_key(unit_vs_baseline) -> None:
    inputs = unit_vs_baseline.inputs
    row = inputs[(inputs["scenario"] == "new-contributory-unit")
                 & (inputs["key"] == "financial_plan.revenue.member_states.unit_value_chf")]
    assert row[["old", "new", "group"]].values.tolist() == [
        ["318000", "330000", "value of the contributory unit"]]
    assert "financial_plan.funds.ai_partnership.support_cost_rate" in set(inputs["key"])


def test_attribution_adds_up_exactly_to_the_difference(unit_vs_baseline) -> None:
    a = unit_vs_baseline.attribution
    assert list(a.columns) == ["scenario", "axis", "code", "name", "input", "effect",
                               "error_bound", "method"]
    assert "interaction" not in set(a["input"])
    for (scenario, axis, code), part in a.groupby(["scenario", "axis", "code"]):
        total = part.loc[part["input"] == "total difference", "effect"].sum()
        pieces = part.loc[part["input"] != "total difference", "effect"].sum()
        assert pieces == pytest.approx(total, abs=1e-6), (scenario, axis, code)
    by_input = a[(a["scenario"] == "new-contributory-unit") & (a["axis"] == "entity")]
    effects = by_input.groupby("input")["effect"].sum()
    assert set(effects.index) == {"value of the contributory unit", "total difference"}
    assert effects["value of the contributory unit"] == effects["total difference"] > 0
    funds = set(a.loc[a["scenario"] == "eb-high", "input"])
    assert {"new fund: Partnership fund for digital applications (AI for Good)",
            "Development trust fund (ITU-D projects)"} <= funds
    per_year = 344 * 12 + 282 * 2.4
    assert effects["total difference"] == pytest.approx(4 * per_year, abs=1e-3)


def test_attribution_rows_in_the_tables_order(unit_vs_baseline) -> None:
    a = unit_vs_baseline.attribution
    plan = unit_vs_baseline.scenarios[0].plan
    priorities = a.loc[a["axis"] == "priority", "code"].drop_duplicates().tolist()
    entities = a.loc[a["axis"] == "entity", "code"].drop_duplicates().tolist()
    assert priorities == [p.code for p in plan.priorities]
    assert entities == [e.code for e in plan.entities]
    assert a["axis"].drop_duplicates().tolist() == ["priority", "entity"]


def test_a_new_priority_is_one_policy_with_its_mandate_requirements_and_earmark() -> None:
    comparison = compare(["baseline", "cyber-standalone"], REPO)
    inputs = comparison.inputs.set_index("key")["group"]
    tp6 = "new priority Cybersecurity (TP6)"
    assert inputs['framework.priorities.TP6.name'] == tp6
    assert inputs['mandate."BDT/TP6/PS5".note'] == tp6
    assert inputs['requirements."GS/TP6/PS8/core/*".amount'] == tp6
    assert inputs["financial_plan.funds.cyber_standards.earmark.priorities"] == tp6
    a = comparison.attribution.query("axis == 'priority' and code == 'TP6'").set_index("input")
    assert a.loc["total difference", "effect"] > 0
    assert a["effect"].drop("total difference").sum() == pytest.approx(
        a.loc["total difference", "effect"], abs=1e-6)
    assert a["method"].iloc[0].startswith("exact")


def test_zero_nominal_growth_is_one_policy() -> None:
    a = compare(["baseline", "zng"], REPO).attribution
    assert a["input"].drop_duplicates().tolist() == ["zero nominal growth", "total difference"]


def test_compare_command_writes_the_report(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "alloc", "compare", "baseline", "zng",
                             "--project", str(REPO), "--reports", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "compare" / "baseline-vs-zng"
    for name in ("comparison.xlsx", "deltas.csv", "attribution.csv", "inputs.csv",
                 "comparison.md"):
        assert (folder / name).exists(), name
    deltas = pd.read_csv(folder / "deltas.csv")
    assert list(deltas.columns[:5]) == ["table", "row", "column", "baseline", "zng"]
    book = openpyxl.load_workbook(folder / "comparison.xlsx")
    assert book.sheetnames == ["Cover", "By thematic priority", "By entity", "By strategic goal",
                               "Charts - thematic priority", "Charts - entity",
                               "Charts - strategic goal", "Why the totals differ",
                               "Inputs that differ"]
    md = (folder / "comparison.md").read_text()
    assert "## Why the totals differ" in md and "financial\\_plan.growth" in md
    assert "zero nominal growth" in md and "interaction" not in md


def test_compare_with_an_infeasible_scenario_exits_1(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "scenarios").mkdir(parents=True)
    (project / "models").symlink_to(REPO / "models")
    for name in ("baseline",):
        (project / "scenarios" / f"{name}.toml").write_text(
            (REPO / "scenarios" / f"{name}.toml").read_text())
    (project / "scenarios" / "broke.toml").write_text(
        '[scenario]\nparent = "baseline"\n[financial_plan.growth]\ncut = 0.9\n')
    result = subprocess.run([sys.executable, "-m", "alloc", "compare", "baseline", "broke",
                             "--project", str(project)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "broke is infeasible" in result.stderr


def test_input_differences_of_a_scenario_with_itself_are_empty() -> None:
    from alloc.model.scenario import resolve

    assert input_differences(resolve("baseline", REPO), resolve("baseline", REPO)) == {}
    zng = input_differences(resolve("baseline", REPO), resolve("zng", REPO))
    assert zng[("financial_plan", "growth", "rule")] == ("(none)", "zero_nominal")
