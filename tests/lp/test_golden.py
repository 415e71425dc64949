"""The tiny model solved by hand (tests/project/models/tiny), asserted exactly.

By hand: resources are 100 + 15 in 2024 and 80 + 15 in 2025 (fund F: 25 x 0.6, only entity B,
so only B/P2). S1 takes exactly 5 each year. Targets: P1 70 (shortfall weight 2, i.e. 2/70 per
unit), P2 50 (1/50 per unit): shortfall is cheaper on P2, so P1 is served first.
2024: B/P2 must have 35 of regular budget, so A/P1 = 100 - 5 - 35 = 60 (P1 short 10, cost 20/70);
      P2 = 35 + 15 = 50 (on target).
2025: A's envelope caps A/P1 + A/S1 at 68, so A/P1 = 63 (short 7, cost 14/70); B/P2 regular gets
      the remaining 80 - 5 - 63 = 12, plus F's 15: P2 = 27 (short 23, cost 23/50).
Level-1 objective: 20/70 + 14/70 + 23/50 = 0.945714...
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alloc.lp.build import build
from alloc.lp.solve import SolveOptions, solve
from alloc.lp.verify import check
from alloc.model.load import load_plan

EXPECTED = {
    ("A", "P1", "O", 2024, "regular"): 60.0,
    ("A", "P1", "O", 2025, "regular"): 63.0,
    ("A", "S1", "support", 2024, "regular"): 5.0,
    ("A", "S1", "support", 2025, "regular"): 5.0,
    ("B", "P2", "O", 2024, "regular"): 35.0,
    ("B", "P2", "O", 2024, "F"): 15.0,
    ("B", "P2", "O", 2025, "regular"): 12.0,
    ("B", "P2", "O", 2025, "F"): 15.0,
}


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_tiny_model_matches_the_hand_solution(project: Path, solver: str) -> None:
    plan = load_plan("tiny", project)
    solution = solve(build(plan), SolveOptions(solver=solver))
    assert solution.status == "optimal"
    got = {tuple(r[:5]): r[5] for r in solution.allocation.itertuples(index=False)}
    assert got.keys() == EXPECTED.keys()
    for key, amount in EXPECTED.items():
        assert got[key] == pytest.approx(amount, abs=1e-6), key
    assert solution.objectives["level 1"] == pytest.approx(20 / 70 + 14 / 70 + 23 / 50, rel=1e-6)
    assert check(plan, solution.allocation) == []


def test_binding_rules_of_the_tiny_model(project: Path) -> None:
    solution = solve(build(load_plan("tiny", project)))
    c = solution.constraints.set_index("name")
    assert c.loc["envelope_max[A,2025]", "slack"] == pytest.approx(0, abs=1e-6)
    assert c.loc["committed[b_floor,2024]", "slack"] == pytest.approx(0, abs=1e-6)
    assert c.loc["fund[F,2024]", "activity"] == pytest.approx(15)
    assert set(c["rule"]) >= {"ceiling", "envelope", "committed", "fund", "target"}
