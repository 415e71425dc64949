"""`--set KEY=VALUE` on every command: it changes the result, run.json records it as the
override layer "--set", and a bad one is a scenario-file-style error (exit 2, no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from alloc.errors import InputError
from alloc.model.scenario import parse_set, resolve

REPO = Path(__file__).resolve().parents[2]
CUT = "financial_plan.growth.cut=0.05"
UNITS = "financial_plan.revenue.member_states.units=350"


def alloc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alloc", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def _set_overrides(run_json: Path) -> list[dict[str, object]]:
    overrides = json.loads(run_json.read_text(encoding="utf-8"))["overrides"]
    return [o for o in overrides if o["scenario"] == "--set"]


@pytest.mark.parametrize(("text", "key", "value"), [
    ("a.b=350", "a.b", 350), ("a.b=0.5", "a.b", 0.5), ("a.b=zero_nominal", "a.b", "zero_nominal"),
    ('a.b="x y"', "a.b", "x y"), ("a.b=true", "a.b", True), ("a.b=[1, 2]", "a.b", [1, 2]),
    (" a.b = 3 ", "a.b", 3), ('rules.bounds."1.1".max=2', 'rules.bounds."1.1".max', 2),
    ("a.b=x=y", "a.b", "x=y"),
])
def test_parse_set(text: str, key: str, value: object) -> None:
    assert parse_set(text) == (key, value)


@pytest.mark.parametrize("text", ["a.b", "=3", "a.b=", "  =  "])
def test_parse_set_refuses_what_is_not_key_value(text: str) -> None:
    with pytest.raises(InputError, match="expected KEY=VALUE"):
        parse_set(text)


def test_the_layer_is_the_last_word_and_says_where_it_came_from(project: Path) -> None:
    (project / "scenarios" / "cut-5pct.toml").write_bytes((REPO / "scenarios" / "cut-5pct.toml")
                                                          .read_bytes())
    resolved = resolve("cut-5pct", project, {"financial_plan.growth.cut": 0.1})
    assert resolved.doc["financial_plan"]["growth"]["cut"] == 0.1
    last = resolved.overrides[-1]
    assert (last.scenario, last.key, last.old, last.new) == (
        "--set", "financial_plan.growth.cut", 0.05, 0.1)
    assert resolved.source(("financial_plan", "growth", "cut")).file == \
        "--set financial_plan.growth.cut"


def test_run_with_set_is_the_scenario_that_sets_it(project: Path, tmp_path: Path) -> None:
    (project / "scenarios" / "cut-5pct.toml").write_bytes((REPO / "scenarios" / "cut-5pct.toml")
                                                          .read_bytes())
    plain = alloc("run", "baseline", "--quiet", "--reports", str(tmp_path / "a"), cwd=project)
    cut = alloc("run", "cut-5pct", "--quiet", "--reports", str(tmp_path / "b"), cwd=project)
    result = alloc("run", "baseline", "--set", CUT, cwd=project)
    assert plain.returncode == cut.returncode == result.returncode == 0, result.stderr
    assert f"with --set {CUT}" in result.stdout
    folder = project / "reports" / "baseline"  # the scenario's folder name
    set_ = pd.read_csv(folder / "allocation.csv")
    assert set_.equals(pd.read_csv(tmp_path / "b" / "cut-5pct" / "allocation.csv"))
    assert not set_.equals(pd.read_csv(tmp_path / "a" / "baseline" / "allocation.csv"))
    # as a scenario file setting it would: baseline has no [financial_plan.growth] table
    assert _set_overrides(folder / "run.json") == [
        {"scenario": "--set", "key": "financial_plan.growth", "old": None, "new": {"cut": 0.05}}]


def test_explain_with_set(project: Path) -> None:
    plain = alloc("explain", "baseline", "--quiet", cwd=project)
    assert plain.returncode == 0, plain.stderr
    before = json.loads((project / "reports" / "baseline" / "run.json").read_text("utf-8"))
    result = alloc("explain", "baseline", "--set", UNITS, "--set", CUT, cwd=project)
    assert result.returncode == 0, result.stderr
    after = json.loads((project / "reports" / "baseline" / "run.json").read_text("utf-8"))
    assert after["ceiling"] != before["ceiling"]
    assert {o["key"] for o in _set_overrides(project / "reports" / "baseline" / "run.json")} == {
        "financial_plan.revenue.member_states.units", "financial_plan.growth"}


def test_compare_with_set_applies_to_every_scenario(project: Path, tmp_path: Path) -> None:
    (project / "scenarios" / "richer.toml").write_text(
        '[scenario]\nparent = "baseline"\n[financial_plan.revenue.member_states]\nunits = 360.0\n',
        encoding="utf-8")
    plain = alloc("compare", "baseline", "richer", "--quiet", "--reports", str(tmp_path / "a"),
                  cwd=project)
    result = alloc("compare", "baseline", "richer", "--set", CUT, "--reports",
                   str(tmp_path / "b"), cwd=project)
    assert plain.returncode == result.returncode == 0, result.stderr
    assert f"with --set {CUT}" in result.stdout
    folder = Path("compare") / "baseline-vs-richer"
    a = pd.read_csv(tmp_path / "a" / folder / "deltas.csv")
    b = pd.read_csv(tmp_path / "b" / folder / "deltas.csv")
    assert not a["baseline"].equals(b["baseline"]) and not a["richer"].equals(b["richer"])
    cover = openpyxl.load_workbook(tmp_path / "b" / folder / "comparison.xlsx")["Cover"]
    row = next(r for r in cover.iter_rows(values_only=True) if r[0] and "--set" in str(r[0]))
    assert all("financial_plan.growth" in str(v) and "0.05" in str(v) for v in row[1:3])


def test_sweep_with_a_fixed_set_and_a_grid_set(project: Path, tmp_path: Path) -> None:
    grid = "financial_plan.growth.cut=0,0.05"
    plain = alloc("sweep", "baseline", "--set", grid, "--quiet", "--reports",
                  str(tmp_path / "a"), cwd=project)
    result = alloc("sweep", "baseline", "--set", grid, "--set", UNITS, "--reports",
                   str(tmp_path / "b"), cwd=project)
    assert plain.returncode == result.returncode == 0, result.stderr
    assert f"with --set {UNITS}" in result.stdout
    sweep = Path("baseline") / "sweep"
    a = pd.read_csv(tmp_path / "a" / sweep / "variants.csv")
    b = pd.read_csv(tmp_path / "b" / sweep / "variants.csv")
    assert len(a) == len(b) == 2  # the grid --set stays a grid; the fixed one adds no variants
    assert not a["objective[value]"].equals(b["objective[value]"]) or not a.filter(
        like="priority[").equals(b.filter(like="priority["))
    assert [o["key"] for o in _set_overrides(tmp_path / "b" / sweep / "run.json")] == [
        "financial_plan.revenue.member_states.units"]
    assert _set_overrides(tmp_path / "a" / sweep / "run.json") == []


@pytest.mark.parametrize("command", [
    ["run", "baseline"], ["explain", "baseline"], ["check", "baseline"],
    ["compare", "baseline", "zng"], ["sweep", "baseline", "--ceiling", "0.9,1"],
])
@pytest.mark.parametrize(("setting", "says"), [
    ("financial_plan.revenue.member_states.unitz=350",
     "--set financial_plan.revenue.member_states.unitz: unknown key; did you mean 'units'?"),
    ("financial_plan.revenue.member_states.units=lots",
     "--set financial_plan.revenue.member_states.units: expected a number"),
    ("revenue.member_states.units=350",
     "did you mean 'financial_plan.revenue.member_states.units'?"),
    ("financial_plan.growth.cut=[1, 2]", "--set financial_plan.growth.cut: "),
    ("financial_plan..cut=1", "--set financial_plan..cut: is not a dotted key"),
    ("nothing", "expected KEY=VALUE"),
])
def test_a_bad_set_is_a_clear_error(project: Path, command: list[str], setting: str,
                                    says: str) -> None:
    if command[0] == "compare":
        (project / "scenarios" / "zng.toml").write_bytes(
            (REPO / "scenarios" / "zng.toml").read_bytes())
    result = alloc(*command, "--set", setting, cwd=project)
    assert result.returncode == 2, result.stdout + result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert not (project / "reports" / "baseline").exists()


def test_compare_prints_names_differences_and_percentages_by_priority_entity_and_goal(
        project: Path, tmp_path: Path) -> None:
    (project / "scenarios" / "richer.toml").write_text(
        '[scenario]\nparent = "baseline"\ntitle = "More Member State units"\n'
        '[financial_plan.revenue.member_states]\nunits = 360.0\n', encoding="utf-8")
    result = alloc("compare", "baseline", "richer", "--reports", str(tmp_path / "r"), cwd=project)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[2] richer: More Member State units" in out
    for block in ("by thematic priority or support line:", "by entity:", "by strategic goal:"):
        assert block in out
    deltas = pd.read_csv(tmp_path / "r" / "compare" / "baseline-vs-richer" / "deltas.csv")
    total = deltas[(deltas["table"] == "a1-priority-entity") & (deltas["row"] == "Total")
                   & (deltas["column"] == "Total")].iloc[0]
    line = next(x for x in out.splitlines()[out.splitlines().index(
        "  by thematic priority or support line:"):] if x.strip().startswith("Total"))
    assert f"{int(total['baseline']):,}" in line and f"{int(total['richer']):,}" in line
    pct = 100 * (total["richer"] - total["baseline"]) / total["baseline"]
    assert f"{pct:+.1f}" in line
