"""Options for reducing expenses and what more money buys: known by hand on a small model, and
consistent with re-running the plan with the ceiling moved (issue 12, item 4)."""

from __future__ import annotations

import csv
import dataclasses
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import alloc
from alloc.explain.reductions import FUND, REDUCE, ReductionOptions, cell_years, reduction_options
from alloc.lp.build import build
from alloc.lp.solution import Solution
from alloc.lp.solve import backend, solve, solve_levels
from alloc.model.domain import CeilingAdjustment, Plan

TESTS = Path(__file__).resolve().parent.parent

HAND_FRAMEWORK = """
[entities.A]
name = "Entity A"
[entities.B]
name = "Entity B"
[goals.G]
name = "Goal"
[goals.G.targets]
"1.1" = "Target"
[priorities.P1]
name = "Priority one"
goal_shares = { G = 1.0 }
[priorities.P2]
name = "Priority two"
goal_shares = { G = 1.0 }
[outputs.O]
name = "Output"
"""
HAND_RULES = """
[budget]
balance = false
[objective.tranches.core]
name = "Core"
factor = 1.0
[objective.tranches.extra]
name = "Extra"
factor = 0.5
[objective.weights]
P1 = 2.0
P2 = 1.0
"""
HAND_REQUIREMENTS = """entity,priority,output,tranche,year,amount,value,note
A,P1,O,core,2024,30,,
A,P1,O,extra,2024,20,,
A,P2,O,core,2024,30,,
A,P2,O,extra,2024,20,,
B,P1,O,core,2024,20,,
B,P1,O,extra,2024,20,,
"""


def hand_project(root: Path) -> Path:
    """Three cells, two tranches, one ceiling of 100 in one year; 140 required.

    Values per unit: 2 (P1 core: 50), 1 (P1 extra and P2 core: 70), 0.5 (P2 extra: 20). At 100
    the value-1 class gets 50 of its 70, shared in proportion (20:20:30)."""
    model = root / "models" / "hand"
    model.mkdir(parents=True)
    (model / "model.toml").write_text('title = "Hand"\nunit = "CHF thousands"\n'
                                      'inputs_date = "2024-01-01"\n')
    (model / "framework.toml").write_text(HAND_FRAMEWORK)
    (model / "financial-plan.toml").write_text(
        '[plan]\nyears = [2024]\n'
        '[revenue.assessed]\nname = "Assessed"\ngroup = "assessed"\namount = { 2024 = 100 }\n')
    (model / "mandate.csv").write_text("entity,priority,output,min,max,note\n"
                                       "A,P1,O,,,\nA,P2,O,,,\nB,P1,O,,,\n")
    (model / "rules.toml").write_text(HAND_RULES)
    (model / "requirements.csv").write_text(HAND_REQUIREMENTS)
    (root / "scenarios").mkdir()
    (root / "scenarios" / "hand.toml").write_text('[scenario]\nmodel = "hand"\ntitle = "Hand"\n')
    return root


TINY_RULES = """
[objective.tranches.core]
name = "Core"
factor = 1.0
[objective.tranches.current]
name = "Current"
factor = 0.6
[objective.tranches.enhanced]
name = "Enhanced"
factor = 0.3
[objective.weights]
P1 = 1.0
P2 = 1.4
S1 = 0.8
"""
TINY_REQUIREMENTS = """entity,priority,output,tranche,year,amount,value,note
A,P1,O,core,*,30,,
A,P1,O,current,*,15,,
A,P1,O,enhanced,*,10,,
A,S1,support,core,*,5,,
B,P2,O,core,*,35,,
B,P2,O,current,2024,20,,
B,P2,O,current,2025,12,,
B,P2,O,enhanced,*,15,,
"""


def tiny_project(root: Path) -> Path:
    """The tiny test model (balanced budget, an envelope, committed costs, a fund, targets on a
    level after the value) with requirements above its ceilings."""
    shutil.copytree(TESTS / "project", root)
    model = root / "models" / "tiny"
    with (model / "rules.toml").open("a") as f:
        f.write(TINY_RULES)
    (model / "requirements.csv").write_text(TINY_REQUIREMENTS)
    return root


def options_of(plan: Plan) -> tuple[Solution, ReductionOptions]:
    lp = build(plan)
    solution = solve(lp)
    assert solution.optimal
    return solution, reduction_options(lp, solution)


def cold(plan: Plan, s: float) -> tuple[np.ndarray, float]:
    """Amount per (cell, year) and value of a cold run with every ceiling moved by s, the
    adjustment stated as the user would."""
    moved = dataclasses.replace(plan, adjustments=(*plan.adjustments, CeilingAdjustment(
        "test-cut", "test", {y: s * plan.ceiling(y) for y in plan.years})))
    lp = build(moved)
    model = backend(lp, "highs")
    status, objectives, _ = solve_levels(model)
    assert status == "optimal"
    return cell_years(lp, model.values()), objectives["value"]


def amounts(plan: Plan, frame: pd.DataFrame, direction: str, upto: int) -> np.ndarray:
    """The change of the first `upto` options of a direction, per (cell, year)."""
    where = {"/".join(m.cell): i for i, m in enumerate(plan.mandate)}
    out = np.zeros((len(plan.mandate), len(plan.years)))
    for row in frame.itertuples():
        if row.direction == direction and row.option <= upto:
            out[where[f"{row.entity}/{row.priority}/{row.output}"],
                plan.years.index(row.year)] += row.amount
    return out


def test_the_hand_model_gives_up_and_funds_in_order_of_value(tmp_path: Path) -> None:
    plan = alloc.load("hand", project=hand_project(tmp_path / "p"))
    _, options = options_of(plan)
    blocks = options.blocks
    summary = [(b.direction, b.number, round(b.ceiling_change, 6), round(b.value_per_unit, 6))
               for b in blocks]
    # down 10%: 10 of the value-1 class; up to 140: its last 20, then the 20 at 0.5
    assert summary == [(REDUCE, 1, 10.0, 1.0), (FUND, 1, 20.0, 1.0), (FUND, 2, 40.0, 0.5)]
    frame = options.frame
    got = {(r.direction, r.option, r.entity, r.priority): r.amount for r in frame.itertuples()}
    # the cut shared in proportion 20:20:30; to 1e-4, not 1e-6: HiGHS' QP (with its
    # regularisation) ends the `shares` level some 1e-6 relative away from the exact optimum
    assert got == pytest.approx({
        (REDUCE, 1, "A", "P2"): 10 * 30 / 70, (REDUCE, 1, "A", "P1"): 10 * 20 / 70,
        (REDUCE, 1, "B", "P1"): 10 * 20 / 70,
        (FUND, 1, "A", "P2"): 20 * 30 / 70, (FUND, 1, "A", "P1"): 20 * 20 / 70,
        (FUND, 1, "B", "P1"): 20 * 20 / 70,
        (FUND, 2, "A", "P2"): 20.0,
    }, abs=1e-4)
    assert list(frame["cumulative"].unique()) == [10.0, 20.0, 40.0]


@pytest.mark.parametrize("which", ["hand", "tiny"])
def test_re_running_with_the_ceiling_moved_gives_the_allocation_less_the_options(
        tmp_path: Path, which: str) -> None:
    """Consistent by construction and by test: a cold run with the ceiling at the end of option
    k takes from each cell exactly what options 1..k say (to 1e-6), and loses the value they say."""
    root = hand_project(tmp_path / "p") if which == "hand" else tiny_project(tmp_path / "p")
    plan = alloc.load(which, project=root)
    _, options = options_of(plan)
    blocks = options.blocks
    assert {b.direction for b in blocks} == {REDUCE, FUND}, options.notes
    base, base_value = cold(plan, 0.0)
    frame = options.frame
    for b in blocks:
        after, value = cold(plan, b.end)
        sign = -1.0 if b.direction == REDUCE else 1.0
        expected = base + sign * amounts(plan, frame, b.direction, b.number)
        assert np.abs(after - expected).max() <= 1e-6, (b.direction, b.number)
        total = sum(plan.ceiling(y) for y in plan.years)
        assert b.ceiling_change == pytest.approx(abs(b.end) * total, abs=1e-9)
        lost = sum(x.value_per_unit * (x.ceiling_change - prev)
                   for x, prev in zip(*_with_previous(blocks, b.direction, b.number), strict=True))
        assert sign * (base_value - value) == pytest.approx(lost, rel=1e-6, abs=1e-6)


def _with_previous(blocks: list, direction: str, upto: int) -> tuple[list, list[float]]:
    chosen = [b for b in blocks if b.direction == direction and b.number <= upto]
    return chosen, [0.0, *(b.ceiling_change for b in chosen[:-1])]


def test_values_fall_along_the_options(tmp_path: Path) -> None:
    """What is given up first is worth least; what more money buys first is worth most."""
    plan = alloc.load("tiny", project=tiny_project(tmp_path / "p"))
    _, options = options_of(plan)
    for direction, rising in ((REDUCE, True), (FUND, False)):
        values = [b.value_per_unit for b in options.blocks
                  if b.direction == direction]
        assert values
        assert values == sorted(values, reverse=not rising)


def test_a_run_writes_the_options_as_csv_and_sheet(tmp_path: Path) -> None:
    root = hand_project(tmp_path / "p")
    result = alloc.run("hand", project=root)
    assert result.reductions is not None and result.reductions.blocks
    written = alloc.write(result, reports=tmp_path / "reports", project=root)
    path = written.folder / "tables" / "reduction-options.csv"
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["direction"] == "reduce" and rows[0]["entity"] == "A"
    assert float(rows[0]["amount (CHF thousands)"]) == pytest.approx(10 * 30 / 70, abs=1e-4)
    assert float(rows[0]["value per CHF thousand"]) == 1.0
    assert rows[-1]["cumulative ceiling change (CHF thousands)"] == "40.0"
    book = openpyxl.load_workbook(written.folder / "technical-annex.xlsx")
    sheet = book["Reduction options"]
    cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    reduce_rows = [r for r in cells if r[0] == "Reduce"]
    assert sorted(r[7] for r in reduce_rows) == [3, 3, 4]   # 2.857, 2.857, 4.286 -> adds up to 10


def test_without_requirements_the_file_has_its_header_and_the_sheet_says_why(
        tmp_path: Path, project: Path) -> None:
    result = alloc.run("tiny", project=project)
    assert result.reductions is not None and not result.reductions.blocks
    written = alloc.write(result, reports=tmp_path / "reports", project=project)
    text = (written.folder / "tables" / "reduction-options.csv").read_text()
    assert text.splitlines()[0].startswith("direction,option,entity")
    assert len(text.splitlines()) == 1
    book = openpyxl.load_workbook(written.folder / "technical-annex.xlsx")
    notes = " ".join(str(c.value) for row in book["Reduction options"].iter_rows() for c in row
                     if c.value)
    assert "no costed requirements" in notes


def test_beyond_the_listed_size_the_options_wait_to_be_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`auto` leaves them out (and says how to ask) above LISTED_COLUMNS tie-break columns, before
    any solve; asked, they are the same as below the size."""
    from alloc.explain import reductions

    root = hand_project(tmp_path / "p")
    plan = alloc.load("hand", project=root)
    lp = build(plan)
    solution = solve(lp)
    listed = reduction_options(lp, solution)
    assert listed.computed and listed.blocks
    columns = reductions.tie_break_columns(lp)
    assert columns == sum(len(lv.cols) for lv in lp.levels if lv.role == "tie-break") > 0
    monkeypatch.setattr(reductions, "LISTED_COLUMNS", columns - 1)
    monkeypatch.setattr(reductions, "_Path", None)          # nothing may be solved
    left = reduction_options(lp, solution)
    assert not left.computed and not left.blocks and left.solves == 0
    assert any("--reduction-options yes" in n and f"{columns:,} columns" in n for n in left.notes)
    monkeypatch.undo()
    monkeypatch.setattr(reductions, "LISTED_COLUMNS", columns - 1)
    asked = reduction_options(lp, solution, asked=True)
    assert asked.computed
    assert [(b.direction, b.number, b.end, b.value_per_unit) for b in asked.blocks] == [
        (b.direction, b.number, b.end, b.value_per_unit) for b in listed.blocks]

    result = alloc.run("hand", project=root)
    assert result.reductions is not None and not result.reductions.computed
    written = alloc.write(result, reports=tmp_path / "reports", project=root)
    text = (written.folder / "tables" / "reduction-options.csv").read_text()
    assert len(text.splitlines()) == 1
    assert alloc.run("hand", project=root, reductions=True).reductions.blocks
    unasked = alloc.run("hand", project=root, reductions=False).reductions
    assert unasked is not None and not unasked.computed and not unasked.blocks
    assert "asked not to" in unasked.notes[0]


def test_no_options_are_solved_where_the_optimum_is_not_proven_unique(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At the size where the tie-breaks are the linear stand-in, a re-run may share ties otherwise:
    the options would mean nothing, and the path is not even started."""
    from alloc.explain import reductions
    from alloc.lp.solve import SolveOptions

    plan = alloc.load("hand", project=hand_project(tmp_path / "p"))
    lp = build(plan)
    solution = solve(lp, SolveOptions(quadratic=False))
    assert solution.not_unique
    monkeypatch.setattr(reductions, "_Path", None)
    out = reduction_options(lp, solution, SolveOptions(quadratic=False), asked=True)
    assert not out.blocks and out.solves == 0
    assert any("proven unique" in n and solution.not_unique in n for n in out.notes)


def test_the_command_line_asks_for_the_options_or_leaves_them_out(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = hand_project(tmp_path / "p")

    def rows(choice: str) -> int:
        done = subprocess.run(
            [sys.executable, "-m", "alloc", "run", "hand", "--project", str(root),
             "--reports", str(tmp_path / choice), "--reduction-options", choice],
            capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        csv_text = (tmp_path / choice / "hand" / "tables" / "reduction-options.csv").read_text()
        return len(csv_text.splitlines()) - 1

    assert rows("yes") == rows("auto") > 0
    assert rows("no") == 0
    bad = subprocess.run([sys.executable, "-m", "alloc", "run", "hand", "--project", str(root),
                          "--reduction-options", "maybe"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--reduction-options" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("model", ["hand", "tiny", "baseline"])
def test_the_two_directions_give_the_same_options_in_turn_or_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: str) -> None:
    """Each direction is solved on an instance of its own from the plan itself, so that the
    options do not depend on whether the directions ran on one thread or two."""
    from alloc.explain import reductions

    root = {"hand": lambda: hand_project(tmp_path / "p"), "tiny": lambda: tiny_project(
        tmp_path / "p"), "baseline": lambda: Path(__file__).parents[2]}[model]()
    plan = alloc.load("baseline" if model == "baseline" else model, project=root)
    found = []
    for threads in (1, 2):
        monkeypatch.setattr(reductions, "probe_threads", lambda *_, n=threads: n)
        _, options = options_of(plan)
        found.append((options.frame, options.notes, options.solves))
    assert found[0][0].shape[0] > 0
    pd.testing.assert_frame_equal(found[0][0], found[1][0], check_exact=True)
    assert found[0][1:] == found[1][1:]
