"""HiGHS' active-set QP solver cycles on some small degenerate programs and stops at its
iteration limit on a point that is not optimal; the same program with its objective scaled is
solved in a few iterations (`alloc.lp.backends.highs.QP_RETRIES`). The model is the one hypothesis
found (tests/lp/test_requirements_properties.py): a plan of one unit a year, requirements of 0.8
each, the tie-break toward the reference distribution cycling between two vertices."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from alloc.lp.backends import highs
from alloc.lp.backends.highs import HighsModel
from alloc.lp.build import build
from alloc.lp.solve import solve_levels
from alloc.model.domain import Plan
from alloc.model.load import load_plan

FILES = {
    "models/gen/model.toml": 'title = "Generated model"\ninputs_date = "2024-01-31"\n',
    "models/gen/framework.toml": """
[entities.E1]
name = "Entity E1"
[entities.E2]
name = "Entity E2"
[entities.E3]
name = "Entity E3"
[goals.G1]
name = "Goal G1"
targets = { "1.1" = "A target" }
[priorities.TP1]
name = "Priority TP1"
goal_shares = { G1 = 1.0 }
outcomes = { 1 = "An outcome" }
[outputs.PS1]
name = "Output PS1"
[support.EN1]
name = "Support line EN1"
""",
    "models/gen/financial-plan.toml": """
[plan]
years = [2020, 2021]
[revenue.rev_1]
name = "Revenue line 1"
group = "assessed"
amount = { 2020 = 1, 2021 = 1 }
""",
    "models/gen/rules.toml": """
[budget]
balance = false
ceiling_period = "biennium"
[objective.tranches.core]
name = "Tranche core"
factor = 1.0
[objective.weights]
TP1 = 1.0
EN1 = 1.0
""",
    "models/gen/mandate.csv": "entity,priority,output,min,max,note\n" + "".join(
        f"{e},{p},{o},,,\n" for e in ("E1", "E2", "E3")
        for p, o in (("TP1", "PS1"), ("EN1", "support"))),
    "models/gen/requirements.csv": "entity,priority,output,tranche,year,amount,value,note\n"
                                   "E1,TP1,PS1,core,2020,0.8,3,\nE1,TP1,PS1,core,2021,0.8,3,\n",
    "scenarios/case.toml": '[scenario]\nmodel = "gen"\ntitle = "Generated scenario"\n',
}


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return load_plan("case", tmp_path)


def test_the_cycling_program_is_solved_by_a_retry_with_the_objective_scaled(plan: Plan) -> None:
    model = HighsModel(build(plan))
    status, objectives, _ = solve_levels(model)
    assert status == "optimal" and not model.quadratic_failed
    assert "unique" in objectives
    # the unique optimum by hand: E1's cell gets its 0.8 each year, the rest of the 2 units of
    # the biennium goes where the reference distribution puts it, nothing is left unallocated
    lp = model.lp
    assert model.values()[: lp.n_alloc].sum() == pytest.approx(2.0, abs=1e-6)


def test_without_the_retries_it_fails_and_says_so(plan: Plan,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """What the retries fix (if HiGHS stops cycling here, this test says the retries are no
    longer needed for this program): the linear stand-in is solved and the answer says why."""
    from alloc.lp.solve import uniqueness

    monkeypatch.setattr(highs, "QP_RETRIES", highs.QP_RETRIES[:1])
    model = HighsModel(build(plan))
    status, objectives, _ = solve_levels(model)
    assert status == "optimal" and model.quadratic_failed == "unique"
    assert "reference" in objectives
    assert "quadratic solver failed on the level 'unique'" in uniqueness(model)


def test_a_retried_level_gives_the_duals_of_the_level_as_stated(plan: Plan) -> None:
    """The retry scales the objective; the duals are divided back, so that they are those of the
    level handed to the solver (the same as a warm re-solve's, which needs no retry)."""
    cold = HighsModel(build(plan))
    assert solve_levels(cold)[0] == "optimal"
    warm = HighsModel(build(replace(plan, requirements=tuple(
        replace(r, amount=1.0) for r in plan.requirements))))
    assert solve_levels(warm)[0] == "optimal"
    warm.update(build(plan))
    assert solve_levels(warm)[0] == "optimal"
    assert np.abs(warm.values() - cold.values()).max() <= 1e-6
    assert np.abs(warm.duals() - cold.duals()).max() <= 1e-6
