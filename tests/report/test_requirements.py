"""Costed requirements in the reports, the explanation and the terminal: a tiny model with
requirements (two tranches, 145 needed a year against 115 and 95 of money) whose optimum is
known by hand: A/P1/O's enhanced tranche (worth 0.5) is the margin in both years."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alloc.explain import explain
from alloc.lp.build import build
from alloc.lp.solve import solve
from alloc.model.load import load_plan
from alloc.report.appendix import write_appendix
from alloc.report.markdown import render_requirements
from alloc.report.requirements import (
    BY_ENTITY,
    BY_PRIORITY,
    BY_YEAR,
    _rounded,
    objective_lines,
    requirement_rows,
    requirements,
)

TESTS = Path(__file__).parent.parent
OBJECTIVE = """
[objective.tranches.core]
name = "Core"
factor = 1.0
[objective.tranches.extra]
name = "Enhanced"
factor = 0.5
[objective.weights]
P1 = 1.0
P2 = 0.8
S1 = 1.0
"""
NEEDS = """entity,priority,output,tranche,year,amount,value,note
A,P1,O,core,*,40,,
A,P1,O,extra,*,40,,
B,P2,O,core,*,30,,
B,P2,O,extra,*,30,,
A,S1,support,core,*,5,,
"""


@pytest.fixture
def needs_project(tmp_path: Path) -> Path:
    """The tiny model without targets, with costed requirements."""
    root = tmp_path / "project"
    shutil.copytree(TESTS / "project", root)
    model = root / "models" / "tiny"
    rules = (model / "rules.toml").read_text(encoding="utf-8")
    (model / "rules.toml").write_text(rules[: rules.index("[targets.")] + OBJECTIVE,
                                      encoding="utf-8")
    (model / "requirements.csv").write_text(NEEDS, encoding="utf-8")
    return root


def _solved(project: Path):  # type: ignore[no-untyped-def]
    lp = build(load_plan("tiny", project))
    return lp, solve(lp)


def test_a_ceiling_names_the_marginal_requirement_worth_its_price(needs_project: Path) -> None:
    lp, solution = _solved(needs_project)
    table = explain(lp, solution.constraints, solution.objectives).table.set_index("name")
    funding = solution.funding
    for year in (2024, 2025):
        price = float(table.loc[f"ceiling[{year}]", "shadow_price"])
        sentence = str(table.loc[f"ceiling[{year}]", "sentence"])
        assert price == pytest.approx(-0.5)
        assert "A/P1/O (Priority one, enhanced)" in sentence, sentence
        named = funding[(funding["entity"] == "A") & (funding["priority"] == "P1")
                        & (funding["year"] == year) & (funding["tranche"] == "extra")].iloc[0]
        assert 0 < named["funded"] < named["requirement"], "the margin is partly funded"
        assert named["value"] == pytest.approx(-price)
        worth = re.search(r"worth ([0-9.]+) per CHF thousand", sentence)
        assert worth and float(worth.group(1)) == pytest.approx(-price)
        assert sentence.startswith(f"Binding: the first CHF 20 thousand more of ceiling for {year}")
    # a committed cost that holds money where it is worth less: price = 0.5 - 0.4
    floor = table.loc["committed[b_floor,2024]"]
    assert float(floor["shadow_price"]) == pytest.approx(0.1)
    assert str(floor["sentence"]) == (
        "Binding: this committed cost costs 0.1 of value per CHF thousand: each further CHF "
        "thousand of it is taken from A/P1/O (Priority one, enhanced), worth 0.5 per CHF "
        "thousand, and funds requirements worth 0.4 per CHF thousand there.")
    assert str(table.loc["requirement[B/P2/O,2025,extra]", "sentence"]) == (
        "Not funded: 30 CHF thousands unfunded.")
    assert str(table.loc["envelope_max[A,2025]", "sentence"]).startswith("Not binding: 3 ")


def test_requirement_tables_add_up_to_the_funding(needs_project: Path) -> None:
    _, solution = _solved(needs_project)
    needs = requirements(solution)
    assert needs is not None
    funding = solution.funding
    for part in (BY_PRIORITY, BY_ENTITY, BY_YEAR):
        rows = needs.part(part)
        body, total = rows[~rows["total"]], rows[rows["total"]].iloc[0]
        assert (body["funded"] + body["unfunded"] == body["requirement"]).all()
        for column in ("requirement", "funded", "unfunded"):
            assert int(body[column].sum()) == int(total[column])
        assert int(total["funded"]) == round(float(funding["funded"].sum()))
        assert int(total["requirement"]) == round(float(funding["requirement"].sum()))
    years = needs.part(BY_YEAR)
    # by hand: 145 needed a year; 115 and 95 of money, all of it funding requirements
    assert years["requirement"].tolist() == [145, 145, 290]
    assert years["funded"].tolist() == [115, 95, 210]
    assert years["beyond"].tolist() == [0, 0, 0]
    assert years["value_unfunded"].tolist() == [14, 22, 36]
    p1 = needs.part(BY_PRIORITY).set_index(["code", "tranche"])
    assert p1.loc[("P1", "Enhanced"), "funded"] == 40
    assert p1.loc[("P2", "Enhanced"), "unfunded"] == 40
    csv = requirement_rows(solution)
    assert len(csv) == len(solution.plan.requirements) == 10
    assert (csv["funded"] + csv["unfunded"] - csv["requirement"]).abs().max() < 1e-9


def test_money_beyond_requirements_is_the_allocation_less_the_funded_part(
        needs_project: Path) -> None:
    model = needs_project / "models" / "tiny" / "requirements.csv"
    # 90 needed a year against 115 and 95 of money: 25 and 5 go beyond all requirements
    model.write_text(NEEDS.replace("A,P1,O,extra,*,40", "A,P1,O,extra,*,10").replace(
        "B,P2,O,extra,*,30", "B,P2,O,extra,*,5"), encoding="utf-8")
    _, solution = _solved(needs_project)
    needs = requirements(solution, [115, 95])
    assert needs is not None
    years = needs.part(BY_YEAR)
    assert years["allocated"].tolist() == [115, 95, 210]
    assert (years["allocated"] - years["funded"] == years["beyond"]).all()
    assert years["beyond"].tolist() == [25, 5, 30]
    assert years["unfunded"].tolist() == [0, 0, 0]


def test_reports_write_the_requirements_and_omit_them_without(needs_project: Path,
                                                               tmp_path: Path) -> None:
    import openpyxl

    _, solution = _solved(needs_project)
    out = tmp_path / "with"
    out.mkdir()
    write_appendix(solution, out)
    assert (out / "tables" / "requirements.csv").exists()
    book = openpyxl.load_workbook(out / "appendix-a.xlsx", read_only=True)
    assert "Requirements" in book.sheetnames
    text = (out / "appendix-a.md").read_text(encoding="utf-8")
    assert "## Costed requirements" in text and "| **Total** | **290** | **210** | **80** |" in text
    plain = load_plan("tiny", TESTS / "project")
    bare = solve(build(plain))
    assert requirements(bare) is None
    out = tmp_path / "without"
    out.mkdir()
    write_appendix(bare, out)
    assert not (out / "tables" / "requirements.csv").exists()
    book = openpyxl.load_workbook(out / "appendix-a.xlsx", read_only=True)
    assert "Requirements" not in book.sheetnames
    assert "states no costed requirements" in render_requirements(None)


def test_objective_lines_say_the_value_and_uniqueness(needs_project: Path) -> None:
    _, solution = _solved(needs_project)
    lines = objective_lines(solution)
    assert lines[0] == "requirements: 210 of 290 funded (72.4%), 80 unfunded (CHF thousands)"
    assert lines[1].startswith("value: 166 of 202 funded, 36 left unfunded")
    assert not any("unique" in line for line in lines)
    why = "the cbc solver solves no quadratic level"
    lines = objective_lines(dataclasses.replace(solution, not_unique=why))
    assert lines[-1] == f"the optimum is not proven unique: {why}"


@pytest.mark.parametrize("seed", range(20))
def test_requirement_rounding_adds_up(seed: int) -> None:
    rng = np.random.default_rng(seed)
    exact = rng.uniform(0, 1000, size=(int(rng.integers(1, 12)), 2))
    cells = _rounded(exact)
    assert (np.abs(cells - exact) < 1).all()
    assert int(cells.sum()) == round(float(exact.sum()))
    for j in range(2):
        assert abs(int(cells[:, j].sum()) - float(exact[:, j].sum())) < 1
    frame = pd.DataFrame(cells)
    assert frame.to_numpy().sum() == cells.sum()
