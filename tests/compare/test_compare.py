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
    assert row[["old", "new"]].values.tolist() == [["318000", "330000"]]
    assert "financial_plan.funds.ai_partnership.support_cost_rate" in set(inputs["key"])


def test_attribution_adds_up_exactly_to_the_difference(unit_vs_baseline) -> None:
    a = unit_vs_baseline.attribution
    for (scenario, axis, code), part in a.groupby(["scenario", "axis", "code"]):
        total = part.loc[part["input"] == "total difference", "effect"].sum()
        pieces = part.loc[part["input"] != "total difference", "effect"].sum()
        assert pieces == pytest.approx(total, abs=1e-6), (scenario, axis, code)
    by_input = a[(a["scenario"] == "new-contributory-unit") & (a["axis"] == "entity")]
    effects = by_input.groupby("input")["effect"].sum()
    assert effects["financial_plan.revenue.member_states"] > 0
    per_year = 344 * 12 + 282 * 2.4
    assert effects["total difference"] == pytest.approx(4 * per_year, abs=1e-3)


def test_structural_changes_that_cannot_stand_alone_are_applied_together() -> None:
    comparison = compare(["baseline", "cyber-standalone"], REPO)
    labels = set(comparison.attribution["input"])
    joint = [label for label in labels if label.startswith("together:")]
    assert joint and "framework.priorities.TP6" in joint[0]
    tp6 = comparison.attribution.query("axis == 'priority' and code == 'TP6'")
    assert tp6.loc[tp6["input"] == "total difference", "effect"].iloc[0] > 0


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
    assert {"Attribution", "Inputs", "a1-priority-entity"} <= set(book.sheetnames)
    sheet = book["a1-priority-entity"]
    assert sheet.conditional_formatting
    md = (folder / "comparison.md").read_text()
    assert "## Why the totals differ" in md and "financial\\_plan.growth" in md


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
