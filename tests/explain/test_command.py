"""`alloc run` and `alloc explain` as a user runs them: the rules with their prices, the room, the
ranges and a cell's story printed and written (`alloc.explain.report`), and the infeasible
examples told in full.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from explain_checks import (
    REPO,
    alloc,
    sheet_rows,
)

from alloc.lp.build import RULE_GROUPS, build
from alloc.model.load import load_plan


def test_run_writes_every_rule_with_its_price(project: Path) -> None:
    from alloc.explain.prices import shadow_prices
    from alloc.lp.solve import solve

    result = alloc("run", "tiny", cwd=project)
    assert result.returncode == 0, result.stderr
    folder = project / "reports" / "tiny"
    frame = pd.read_csv(folder / "constraints.csv")
    assert list(frame.columns) == ["rule", "name", "source", "activity", "bound", "slack",
                                   "shadow_price", "text"]
    lp = build(load_plan("tiny", project))
    rules = [n for n, r in zip(lp.row_names, lp.rules, strict=True)
             if RULE_GROUPS[r] != "reference"]
    assert list(frame["name"]) == rules
    prices = shadow_prices(lp, solve(lp).objectives)
    expected = dict(zip(lp.row_names, prices.prices, strict=True))
    for name, price in zip(frame["name"], frame["shadow_price"], strict=True):
        assert price == pytest.approx(expected[name], abs=1e-9)
    rows = sheet_rows(folder / "technical-annex.xlsx", "Constraints")
    notes = " ".join(str(r[0]) for r in rows[:4])
    assert "final goal-programming level" in notes and "degenerate" in notes
    header = next(k for k, r in enumerate(rows) if r[0] == "Binding")
    flags = [r[0] == "yes" for r in rows[header + 1:]]
    assert flags == sorted(flags, reverse=True), "binding rules come first"
    assert sum(flags) == 8
    sentences = {r[2]: r[3] for r in rows[header + 1:]}
    assert sentences["ceiling[2024]"] == (
        "Binding: each extra CHF thousand of ceiling for 2024 would reduce the weighted shortfall "
        "and excess against the level-1 targets by 0.02857.")


def test_explain_prints_and_writes_the_room_and_the_ranges(project: Path) -> None:
    result = alloc("explain", "tiny", "--cell", "B/P2/O", "--tolerance", "0.05", cwd=project)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in ("binding rules: 8 of 8", "room for manoeuvre", "within 5.0% of its optimum",
                 "ranging", "cell B/P2/O: 77 (CHF thousands)", "targets it counts in:",
                 "target[P2,2025]"):
        assert text in out, text
    folder = project / "reports" / "tiny"
    room = pd.read_csv(folder / "flexibility.csv")
    assert list(room.columns) == ["kind", "code", "name", "amount", "low", "high", "room",
                                  "forced", "tolerance"]
    assert set(room["code"]) == {"P1", "P2", "A", "B"} and (room["tolerance"] == 0.05).all()
    assert ((room["low"] <= room["amount"] + 1e-6) & (room["amount"] <= room["high"] + 1e-6)).all()
    ranges = pd.read_csv(folder / "ranging.csv")
    assert set(zip(ranges["kind"], ranges["code"].astype(str), strict=True)) == {
        ("ceiling", "2024"), ("ceiling", "2025"), ("target", "P1"), ("target", "P2")}
    titles = [r[0] for r in sheet_rows(folder / "technical-annex.xlsx", "Flexibility")]
    assert any(str(t).startswith("Room for manoeuvre") for t in titles)
    assert sheet_rows(folder / "technical-annex.xlsx", "Ranging")


def test_explain_refuses_a_cell_outside_the_mandate(project: Path) -> None:
    result = alloc("explain", "tiny", "--cell", "B/P2/0", cwd=project)
    assert result.returncode == 2
    assert "--cell" in result.stderr and "did you mean 'B/P2/O'" in result.stderr


@pytest.mark.parametrize("name", ["floors-above-ceiling", "committed-above-envelope",
                                  "unusable-earmarked-fund"])
def test_infeasible_examples_exit_1_with_the_diagnosis(project: Path, name: str) -> None:
    shutil.copytree(REPO / "scenarios" / "examples", project / "scenarios" / "examples")
    result = alloc("run", f"examples/{name}", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    folder = project / "reports" / name
    diagnosis = json.loads((folder / "infeasibility.json").read_text())
    assert diagnosis["status"] == "infeasible" and diagnosis["scenario"] == name
    for conflict in diagnosis["conflicts"]:
        assert conflict["message"] in result.stdout
    run = json.loads((folder / "run.json").read_text())
    assert run["status"] == "infeasible" and run["message"] == diagnosis["message"]
    assert not (folder / "allocation.csv").exists()
    text = (REPO / "scenarios" / "examples" / f"{name}.toml").read_text()
    assert text.startswith("#") and "Question" in text


def test_explain_of_an_infeasible_scenario_gives_the_same_diagnosis(project: Path) -> None:
    shutil.copytree(REPO / "scenarios" / "examples", project / "scenarios" / "examples")
    result = alloc("explain", "examples/committed-above-envelope", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    diagnosis = json.loads((project / "reports" / "committed-above-envelope" /
                            "infeasibility.json").read_text())
    assert diagnosis["message"] in result.stdout
    assert diagnosis["repair"]["moves"][0]["name"] == "envelope_max[BR,2027]"


def test_run_says_the_objective_in_words_and_explain_names_the_margin(project: Path) -> None:
    model = project / "models" / "tiny"
    rules = (model / "rules.toml").read_text(encoding="utf-8")
    (model / "rules.toml").write_text(
        rules[: rules.index("[targets.")] + "[objective.tranches.core]\nname = \"Core\"\n"
        "factor = 1.0\n[objective.tranches.extra]\nname = \"Enhanced\"\nfactor = 0.5\n",
        encoding="utf-8")
    (model / "requirements.csv").write_text(
        "entity,priority,output,tranche,year,amount,value,note\nA,P1,O,core,*,40,,\n"
        "A,P1,O,extra,*,40,,\nB,P2,O,core,*,30,,\nB,P2,O,extra,*,30,,\n"
        "A,S1,support,core,*,5,,\n", encoding="utf-8")
    result = alloc("run", "tiny", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "requirements: 210 of 290 funded (72.4%), 80 unfunded (CHF thousands)" in result.stdout
    assert "value: " in result.stdout and "left unfunded" in result.stdout
    frame = pd.read_csv(project / "reports" / "tiny" / "tables" / "requirements.csv")
    assert frame["funded"].sum() == pytest.approx(210)
    rows = sheet_rows(project / "reports" / "tiny" / "technical-annex.xlsx", "Constraints")
    sentence = next(r[3] for r in rows if r[2] == "ceiling[2024]")
    # every weight is 1: both enhanced tranches are worth 0.5 and are the margin together
    assert sentence == ("Binding: the first CHF 30 thousand more of ceiling for 2024 would fund "
                        "the 30 that P1 (Priority one), enhanced, in A/P1/O and P2 (Priority two),"
                        " enhanced, in B/P2/O still lack, worth 0.5 per CHF thousand.")
