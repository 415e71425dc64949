"""A level that finds the faces held before it infeasible (only the solver's rounding of a
borderline face can: the optimal face of a feasible level is never empty) is solved again with
them released, the levels before kept by their bound rows (`Backend.release_faces`)."""

from __future__ import annotations

from pathlib import Path

import highspy
import numpy as np
import pytest

from alloc.lp import solve as solve_module
from alloc.lp.backends import highs as highs_backend
from alloc.lp.backends.base import Backend
from alloc.lp.backends.highs import HighsModel, row_bounds
from alloc.lp.backends.pulp import PulpModel
from alloc.lp.build import build
from alloc.lp.program import GOAL, RULE_GROUPS, STAND_IN, LinearProgram, level_bound, solved_levels
from alloc.lp.solution import Status
from alloc.lp.solve import SolveOptions, released_faces, solve, solve_levels
from alloc.model.load import load_plan
from alloc.report.requirements import objective_lines

INF = highspy.kHighsInf


class Scripted(Backend):
    """A backend that answers each solve of a level from a script, and records what it is told."""

    def __init__(self, lp: LinearProgram, answers: dict[int, list[Status]], can_release: bool):
        self.lp, self.answers, self.can_release = lp, answers, can_release
        self.calls: list[str] = []

    def solve_level(self, k: int, time_limit: float | None) -> Status:
        self.calls.append(f"solve {k}")
        script = self.answers.get(k, [])
        return script.pop(0) if script else "optimal"

    def quadratic_ok(self) -> bool:
        return False

    def hold_level(self, k: int, optimum: float) -> None:
        self.calls.append(f"hold {k}")

    def release_faces(self) -> bool:
        self.calls.append("release")
        return self.can_release

    def values(self) -> np.ndarray:
        return np.zeros(self.lp.n_cols)

    def duals(self) -> np.ndarray:
        return np.zeros(self.lp.n_rows)


@pytest.fixture
def lp(project: Path) -> LinearProgram:
    return build(load_plan("tiny", project))


def test_an_infeasible_level_after_held_faces_is_solved_again_with_them_released(
        lp: LinearProgram) -> None:
    chosen = solved_levels(lp, False)
    second = chosen[1]
    model = Scripted(lp, {second: ["infeasible"]}, can_release=True)
    status, objectives, failed = solve_levels(model, quadratic=False)
    assert (status, failed) == ("optimal", "")
    assert model.faces_released == lp.levels[second].name
    assert model.calls[:5] == [f"solve {chosen[0]}", f"hold {chosen[0]}", f"solve {second}",
                               "release", f"solve {second}"]
    assert list(objectives) == [lp.levels[k].name for k in chosen]
    assert model.calls.count("release") == 1


def test_the_first_level_or_nothing_to_release_stays_infeasible(lp: LinearProgram) -> None:
    chosen = solved_levels(lp, False)
    model = Scripted(lp, {chosen[0]: ["infeasible"]}, can_release=True)
    assert solve_levels(model, quadratic=False)[0] == "infeasible"
    assert "release" not in model.calls and model.faces_released == ""
    model = Scripted(lp, {chosen[1]: ["infeasible"]}, can_release=False)
    status, _, failed = solve_levels(model, quadratic=False)
    assert (status, failed) == ("infeasible", lp.levels[chosen[1]].name)
    assert model.calls.count(f"solve {chosen[1]}") == 1 and model.faces_released == ""
    model = Scripted(lp, {chosen[1]: ["infeasible", "infeasible"]}, can_release=True)
    assert solve_levels(model, quadratic=False)[0] == "infeasible"


def _bounds(model: HighsModel) -> tuple[np.ndarray, ...]:
    held = model.highs.getLp()
    return (np.array(held.col_lower_), np.array(held.col_upper_), np.array(held.row_lower_),
            np.array(held.row_upper_))


@pytest.mark.parametrize("quadratic", [True, False])
@pytest.mark.parametrize("scenario", ["tiny", "baseline"])
def test_highs_releases_the_faces_and_keeps_each_levels_bound(project: Path, scenario: str,
                                                             quadratic: bool) -> None:
    lp = build(load_plan(scenario, project))
    model = HighsModel(lp)
    status, objectives, _ = solve_levels(model, quadratic=quadratic)
    assert status == "optimal"
    chosen = solved_levels(lp, quadratic and model.quadratic_ok())
    last = chosen[-1]
    before = model.values().copy()
    assert model.release_faces() is True
    assert model.release_faces() is False       # nothing held any more
    col_lower, col_upper, row_lower, row_upper = _bounds(model)
    lower, upper = row_bounds(lp)
    n = lp.n_rows
    pinned = np.zeros(lp.n_cols, bool)     # a quadratic level's, and the stand-in's left free
    stand_in = np.zeros(n, bool)
    for k in chosen[:-1]:
        if lp.levels[k].quadratic is not None:
            pinned[lp.levels[k].cols] = True
    if lp.levels[last].quadratic is not None:
        for level in lp.levels:
            if level.role == STAND_IN:
                pinned[level.cols] = True
        stand_in = lp.rules == RULE_GROUPS.index("reference")
        assert np.all(row_lower[:n][stand_in] == -INF) and np.all(row_upper[:n][stand_in] == INF)
    assert np.all(col_lower[~pinned] == 0) and np.all(col_upper[~pinned] == INF)
    for k in chosen[:-1]:       # a quadratic level's optimum stays as it was held: it has no row
        if lp.levels[k].quadratic is not None:
            cols = lp.levels[k].cols
            np.testing.assert_array_equal(col_lower[cols], col_upper[cols])
            np.testing.assert_allclose(col_lower[cols], np.maximum(before[cols], 0), atol=1e-9)
    np.testing.assert_array_equal(row_lower[:n][~stand_in], lower[~stand_in])
    np.testing.assert_array_equal(row_upper[:n][~stand_in], upper[~stand_in])
    bounded = [k for k in chosen[:-1] if lp.levels[k].quadratic is None]
    assert len(row_lower) == n + len(bounded)
    assert np.all(row_lower[n:] == -INF)
    expected = [level_bound(objectives[lp.levels[k].name], lp.plan.level_tolerance)
                - lp.levels[k].constant for k in bounded]
    np.testing.assert_allclose(row_upper[n:], expected, rtol=0, atol=0)
    assert model.solve_level(last, None) == "optimal"
    after = model.values()
    tolerance = lp.plan.level_tolerance
    for k in bounded:
        level = lp.levels[k]
        assert level.value(after) <= level_bound(objectives[level.name], tolerance) + 1e-7
    level = lp.levels[last]
    assert level.value(after) <= level.value(before) + 1e-7 * max(1.0, abs(level.value(before)))


def test_highs_gives_back_a_held_bound_row(project: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    """A face held wider than any real one (every one-sided row at its bound, whatever its dual
    or slack), the first level's bound row among them: released, that row keeps its bound alone
    and every other row its own bounds."""
    lp = build(load_plan("baseline", project))
    model = HighsModel(lp)
    first, second = solved_levels(lp, False)[:2]      # two linear levels
    assert model.solve_level(first, None) == "optimal"
    optimum = lp.levels[first].value(model.values())
    model.hold_level(first, optimum)
    assert model.solve_level(second, None) == "optimal"
    with monkeypatch.context() as patch:
        patch.setattr(highs_backend, "face_threshold", lambda level: -1.0)
        patch.setattr(highs_backend, "ACTIVE", np.inf)
        model.hold_level(second, lp.levels[second].value(model.values()))
    n = lp.n_rows
    assert n in np.concatenate(model._held)
    _, _, row_lower, row_upper = _bounds(model)
    assert row_lower[n] == row_upper[n]
    assert model.release_faces() is True
    _, _, row_lower, row_upper = _bounds(model)
    lower, upper = row_bounds(lp)
    np.testing.assert_array_equal(row_lower[:n], lower)
    np.testing.assert_array_equal(row_upper[:n], upper)
    tolerance = lp.plan.level_tolerance
    bounds = [level_bound(optimum, tolerance) - lp.levels[first].constant,
              level_bound(lp.levels[second].value(model.values()), tolerance)
              - lp.levels[second].constant]
    np.testing.assert_array_equal(row_lower[n:], [-INF, -INF])
    np.testing.assert_array_equal(row_upper[n:], bounds)
    assert model.solve_level(solved_levels(lp, True)[1], None) == "optimal"


def test_pulp_releases_the_faces_it_held(project: Path) -> None:
    lp = build(load_plan("tiny", project))
    model = PulpModel(lp, "cbc")
    uppers = [var.upBound for var in model.vars]
    senses = [constraint.sense for constraint in model.constraints]
    assert solve_levels(model, quadratic=False)[0] == "optimal"
    held = ([v.upBound for v in model.vars] != uppers
            or [c.sense for c in model.constraints] != senses)
    assert held, "the tiny model holds some face: this test needs one"
    assert model.release_faces() is True and model.release_faces() is False
    assert [var.upBound for var in model.vars] == uppers
    assert [constraint.sense for constraint in model.constraints] == senses
    assert len(model.level_bounds) == len(solved_levels(lp, False)) - 1


class Borderline(HighsModel):
    """The run's backend, with the face of its first level held a little off: the row made an
    equality at a value the other rules cannot reach, as a solver's rounding at a borderline face
    could make it (by less)."""

    allow_release = True

    def hold_level(self, k: int, optimum: float) -> None:
        super().hold_level(k, optimum)
        if len(self._held) == 1 and len(self._held[0]):
            row = int(self._held[0][0])
            moved = self._upper[row] + 1e6 if np.isfinite(self._upper[row]) else (
                self._lower[row] - 1e6)
            self.highs.changeRowBounds(row, moved, moved)

    def release_faces(self) -> bool:
        return self.allow_release and super().release_faces()


def test_a_run_on_a_face_held_off_ends_optimal_checked_and_says_so(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lp = build(load_plan("baseline", project))
    made: list[Borderline] = []

    def backend(lp: LinearProgram, solver: str, verbose: bool = False) -> Borderline:
        made.append(Borderline(lp, verbose))
        return made[-1]

    monkeypatch.setattr(solve_module, "backend", backend)
    Borderline.allow_release = False
    try:
        stuck = solve(lp, SolveOptions())
    finally:
        Borderline.allow_release = True
    assert stuck.status == "infeasible", "the face held off must be infeasible without release"
    solution = solve(lp, SolveOptions())     # checked independently inside `solve`
    assert solution.optimal
    released = made[-1].faces_released
    assert released and solution.message == released_faces(released)
    assert released_faces(released) in objective_lines(solution)     # the terminal, the web view
    monkeypatch.undo()
    reference = solve(build(load_plan("baseline", project)), SolveOptions())
    assert reference.optimal and reference.message == ""
    tolerance = lp.plan.level_tolerance
    for level in lp.levels:
        if level.role == GOAL:
            bound = level_bound(reference.objectives[level.name], tolerance)
            assert solution.objectives[level.name] <= bound + 1e-6, level.name
