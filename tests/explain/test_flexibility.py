"""Room for manoeuvre (`alloc.explain.flexibility`): each end is reached within tolerance, and
just beyond it is not (checked by the referee, tests/lp_oracle.py).
"""

from __future__ import annotations

from pathlib import Path

from explain_checks import (
    EXAMPLES,
    PROPERTY,
    level_objective,
    level_scale,
    lexicographic,
    plan_of,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from lp_oracle import EQ, GE, LE, minimise
from strategies import GeneratedModel, feasible_models

from alloc.lp.build import LinearProgram, build
from alloc.lp.program import GOAL
from alloc.model.load import load_plan


def assert_rooms(lp: LinearProgram, tolerance: float) -> list:
    """Each end of each range is reached with every goal level within tolerance of its optimum;
    a little beyond either end is not."""
    from alloc.explain.flexibility import _group_cols, flexibility
    from alloc.lp.solve import solve

    solution = solve(lp)
    assert solution.optimal
    rooms = flexibility(lp, solution.objectives, None, tolerance)
    goals = [k for k, level in enumerate(lp.levels) if level.role == GOAL]
    optimum = lexicographic(lp, exact=True)

    level_tol = lp.plan.level_tolerance

    def within(slack: float) -> list:
        """Every goal level within tolerance of its optimum; a level before the last at least
        as loose as the solve held it (its optimum x (1 + level tolerance) + level tolerance)."""
        out = []
        for j, (k, z) in enumerate(zip(goals, optimum, strict=True)):
            bound = z + tolerance * abs(z) + slack * max(1.0, abs(z))
            if j < len(goals) - 1:
                bound = max(bound, z * (1 + level_tol) + level_tol + slack)
            out.append((LE, (bound - lp.levels[k].constant) / level_scale(lp, k),
                        level_objective(lp, k, level_scale(lp, k))))
        return out

    for room in rooms:
        cols = {int(c): 1.0 for c in _group_cols(lp, room.kind, room.code)}
        assert room.low <= room.high
        for end, outward in ((room.low, -1.0), (room.high, 1.0)):
            # the end itself, to the millionth at which it is reported
            band = 1e-6 * max(1.0, abs(end))
            at = [(GE, end - band, cols), (LE, end + band, cols), *within(1e-6)]
            assert minimise(lp, None, None, at) is not None, f"{room.code} cannot reach {end}"
            step = max(1e-3, 1e-6 * abs(end))
            beyond = end + outward * step
            if beyond < 0:
                continue  # amounts are never negative: nothing beyond zero to try
            past = [(EQ, beyond, cols), *within(0.0)]
            assert minimise(lp, None, None, past) is None, f"{room.code} can go past {end}"
    return rooms


def test_room_for_manoeuvre_of_the_tiny_model(project: Path) -> None:
    lp = build(load_plan("tiny", project))
    rooms = assert_rooms(lp, 0.01)
    assert {(r.kind, r.code) for r in rooms} == {("priority", "P1"), ("priority", "P2"),
                                                 ("entity", "A"), ("entity", "B")}
    # with no tolerance, what the hand solution forces: A/P1 and A/S1 (5 a year) are fixed by
    # the ceiling, B's floor and A's envelope; nothing can move without raising the shortfall
    for room in assert_rooms(lp, 0.0):
        assert room.forced, room


@settings(PROPERTY, max_examples=max(3, EXAMPLES // 4))
@given(model=feasible_models(), tolerance=st.sampled_from([0.0, 0.01, 0.2]))
def test_room_for_manoeuvre_on_random_models(model: GeneratedModel, tolerance: float) -> None:
    plan = plan_of(model)
    assert_rooms(build(plan), tolerance)


def test_the_room_is_the_same_whatever_the_threads() -> None:
    """Every item's ends start from the same basis: one thread and three give the very same
    rooms on the reference model."""
    from alloc.explain.flexibility import flexibility
    from alloc.lp.build import build
    from alloc.lp.solve import solve_raw
    from alloc.model.load import load_plan

    root = Path(__file__).resolve().parents[2]
    lp = build(load_plan("baseline", root))
    status, objectives, values, _ = solve_raw(lp)
    assert status == "optimal"
    one = flexibility(lp, objectives, values, threads=1)
    three = flexibility(lp, objectives, values, threads=3)
    assert one == three and len(one) > 3


def test_the_ends_after_the_first_are_solved_by_primal_simplex(monkeypatch) -> None:
    """Every end after the first is another objective over the same rows, from a basis that
    stays primal feasible: HiGHS is asked for primal simplex, however broad the objective and
    however large the model (4.1 -> 0.6 s at 1e4 columns, where dual simplex took phase after
    phase; BENCHMARKS.md)."""
    from alloc.explain.flexibility import flexibility
    from alloc.lp.backends import highs
    from alloc.lp.solve import solve_raw

    root = Path(__file__).resolve().parents[2]
    lp = build(load_plan("baseline", root))
    status, objectives, values, _ = solve_raw(lp)
    assert status == "optimal"
    asked: list[tuple[int, dict]] = []
    original = highs.level_options

    def recorded(n_cols: int, k: int, level: object) -> dict:
        options = original(n_cols, k, level)
        if getattr(level, "name", "") == "room":
            asked.append((k, options))
        return options

    monkeypatch.setattr(highs, "level_options", recorded)
    monkeypatch.setattr(highs, "LARGE", 0)      # a "large" model: interior point otherwise
    rooms = flexibility(lp, objectives, values, threads=1)
    assert len(asked) == 1 + 2 * len(rooms)     # the first end once more, to start each item from
    assert all(options["simplex_strategy"] == 4 for k, options in asked if k > 0)
    assert {options["solver"] for k, options in asked if k == 0} == {"ipm"}
