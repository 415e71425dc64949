"""A model with costed requirements solved by hand: three cells, two tranches, one ceiling.

One entity A, three thematic priorities P1, P2, P3 with one output O: three cells, one year
(2024), the regular budget only, a balanced budget (spending equals the ceiling C, the
revenue). Weights P1 = 3, P2 = 2, P3 = 1; tranches `core` (factor 1) and `extra` (factor 0.5).
Value per CHF thousand funded = weight x factor:

    requirement   amount   value          requirement   amount   value
    P1 core         20      3             P2 extra        10      1
    P2 core         20      2             P3 core         30      1
    P1 extra        20      1.5           P3 extra        20      0.5

By hand, the value level funds in order of value: P1 core, P2 core, P1 extra (60 in all), then
P2 extra and P3 core together (equal value 1, 40 in all), then P3 extra. With C = 90, 30 is left
for the two of equal value: their shortfall of 10 is shared in proportion to their size (the
`shares` tie-break: minimise sum (r - f)^2 / (2 r), whose optimum under sum f = 30 has (r - f) / r
equal for both): P2 extra is cut by 10 x 10/40 = 2.5 (funded 7.5), P3 core by 10 x 30/40 = 7.5
(funded 22.5). The weighted unfunded requirement (the value level's optimum) is
1 x 2.5 + 1 x 7.5 + 0.5 x 20 = 20; cells A/P1 40, A/P2 27.5, A/P3 22.5.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alloc.lp.build import build
from alloc.lp.solve import SolveOptions, solve
from alloc.lp.verify import check
from alloc.model.load import load_plan

REQUIREMENTS = {("P1", "core"): 20.0, ("P1", "extra"): 20.0, ("P2", "core"): 20.0,
                ("P2", "extra"): 10.0, ("P3", "core"): 30.0, ("P3", "extra"): 20.0}
WEIGHTS = {"P1": 3.0, "P2": 2.0, "P3": 1.0}
FACTORS = {"core": 1.0, "extra": 0.5}


def write(root: Path, ceiling: float, weights: dict[str, float] = WEIGHTS,
          factors: dict[str, float] = FACTORS,
          requirements: dict[tuple[str, str], float] = REQUIREMENTS) -> Path:
    model = root / "models" / "hand"
    model.mkdir(parents=True)
    (model / "model.toml").write_text('title = "Requirements solved by hand"\n'
                                      'unit = "CHF thousands"\ninputs_date = "2024-01-01"\n')
    (model / "framework.toml").write_text(
        '[entities.A]\nname = "Entity A"\n\n[goals.G1]\nname = "Goal one"\n'
        '[goals.G1.targets]\n"1.1" = "Target one"\n\n'
        + "".join(f'[priorities.{p}]\nname = "Priority {p}"\ngoal_shares = {{ G1 = 1.0 }}\n'
                  for p in ("P1", "P2", "P3"))
        + '\n[outputs.O]\nname = "The only output"\n')
    (model / "financial-plan.toml").write_text(
        f'[plan]\nyears = [2024]\n\n[revenue.assessed]\nname = "Assessed contributions"\n'
        f'group = "assessed"\namount = {{ 2024 = {ceiling!r} }}\n')
    (model / "rules.toml").write_text(
        "[budget]\nbalance = true\n\n"
        + "".join(f'[objective.tranches.{t}]\nname = "Tranche {t}"\nfactor = {f!r}\n'
                  for t, f in factors.items())
        + "[objective.weights]\n" + "".join(f"{p} = {w!r}\n" for p, w in weights.items()))
    (model / "mandate.csv").write_text("entity,priority,output,min,max,note\n"
                                       + "".join(f"A,{p},O,,,\n" for p in ("P1", "P2", "P3")))
    (model / "requirements.csv").write_text(
        "entity,priority,output,tranche,year,amount,value,note\n"
        + "".join(f"A,{p},O,{t},2024,{a!r},,\n" for (p, t), a in requirements.items()))
    (root / "scenarios").mkdir()
    (root / "scenarios" / "hand.toml").write_text('[scenario]\nmodel = "hand"\ntitle = "By hand"\n')
    return root


def funded(solution) -> dict[tuple[str, str], float]:
    return {(r.priority, r.tranche): r.funded for r in solution.funding.itertuples(index=False)}


def cells(solution) -> dict[str, float]:
    return solution.allocation.groupby("priority")["amount"].sum().to_dict()


def test_the_shared_cut_at_a_ceiling_of_90(tmp_path: Path) -> None:
    plan = load_plan("hand", write(tmp_path, 90.0))
    solution = solve(build(plan))
    assert solution.status == "optimal" and solution.not_unique == ""
    want = {("P1", "core"): 20, ("P1", "extra"): 20, ("P2", "core"): 20, ("P2", "extra"): 7.5,
            ("P3", "core"): 22.5, ("P3", "extra"): 0}
    assert funded(solution) == pytest.approx(want, abs=1e-6)
    assert cells(solution) == pytest.approx({"P1": 40, "P2": 27.5, "P3": 22.5}, abs=1e-6)
    assert solution.objectives["value"] == pytest.approx(20.0, abs=1e-6)
    assert list(solution.objectives) == ["value", "shares", "unique"]
    assert check(plan, solution.allocation) == []


@pytest.mark.parametrize(("ceiling", "want"), [
    (20.0, {("P1", "core"): 20}),
    (35.0, {("P1", "core"): 20, ("P2", "core"): 15}),
    (50.0, {("P1", "core"): 20, ("P2", "core"): 20, ("P1", "extra"): 10}),
    (70.0, {("P1", "core"): 20, ("P2", "core"): 20, ("P1", "extra"): 20, ("P2", "extra"): 2.5,
            ("P3", "core"): 7.5}),
    (110.0, {("P1", "core"): 20, ("P2", "core"): 20, ("P1", "extra"): 20, ("P2", "extra"): 10,
             ("P3", "core"): 30, ("P3", "extra"): 10}),
    (120.0, REQUIREMENTS),
])
def test_requirements_are_funded_in_order_of_value(tmp_path: Path, ceiling: float,
                                                   want: dict) -> None:
    """Each ceiling funds the requirements of highest value first; the pair of equal value is
    funded together, in proportion to its sizes (10 to 30)."""
    solution = solve(build(load_plan("hand", write(tmp_path, ceiling))))
    assert solution.status == "optimal"
    full = {key: float(want.get(key, 0.0)) for key in REQUIREMENTS}
    assert funded(solution) == pytest.approx(full, abs=1e-6)
    unfunded = sum(WEIGHTS[p] * FACTORS[t] * (REQUIREMENTS[p, t] - full[p, t])
                   for p, t in REQUIREMENTS)
    assert solution.objectives["value"] == pytest.approx(unfunded, abs=1e-6)


def test_equal_value_tranches_are_cut_in_proportion_to_their_size(tmp_path: Path) -> None:
    """Every requirement of the same value (weights 1, one tranche): a ceiling of 60 against
    requirements of 20, 30 and 50 (100) cuts each by 40% (funded 12, 18, 30)."""
    requirements = {("P1", "core"): 20.0, ("P2", "core"): 30.0, ("P3", "core"): 50.0}
    root = write(tmp_path, 60.0, {"P1": 1.0, "P2": 1.0, "P3": 1.0}, {"core": 1.0}, requirements)
    solution = solve(build(load_plan("hand", root)))
    assert solution.status == "optimal" and solution.not_unique == ""
    assert funded(solution) == pytest.approx({("P1", "core"): 12.0, ("P2", "core"): 18.0,
                                              ("P3", "core"): 30.0}, abs=1e-6)
    assert solution.objectives["value"] == pytest.approx(40.0, abs=1e-6)


def test_cbc_reaches_the_same_value_and_says_the_split_is_not_proven(tmp_path: Path) -> None:
    """CBC solves no quadratic level: the value is the same, the pair of equal value is funded
    30 in all, but how it is split is the stand-in's, and the solution says it is not unique."""
    solution = solve(build(load_plan("hand", write(tmp_path, 90.0))), SolveOptions("cbc"))
    assert solution.status == "optimal"
    assert solution.objectives["value"] == pytest.approx(20.0, abs=1e-6)
    assert list(solution.objectives) == ["value", "reference"]
    assert "cbc" in solution.not_unique
    got = funded(solution)
    assert got["P2", "extra"] + got["P3", "core"] == pytest.approx(30.0, abs=1e-6)
    assert got["P3", "extra"] == pytest.approx(0.0, abs=1e-6)
