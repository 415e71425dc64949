"""The fast path (issue 6) against the plain ones, on random models and the shipped scenarios.

- HiGHS is handed the same LP by the fast path (`backends.highs`: one passModel) as by PuLP's own
  HiGHS class (`backends.pulp`);
- both paths, and CBC, reach the same optimum at every level;
- the built rows are well formed: unique names, every column index in range, finite numbers.

What the builder makes, row by row, is pinned by the golden files (test_golden_lp.py).
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from strategies import GeneratedModel, feasible_models

from alloc.lp.backends.highs import HighsModel
from alloc.lp.backends.pulp import PulpModel, make_solver
from alloc.lp.build import build
from alloc.lp.program import GOAL, STAND_IN, TIE_BREAK
from alloc.lp.solve import SolveOptions, solve, solve_levels
from alloc.model.load import load_plan

RANDOM = settings(max_examples=25, deadline=None, print_blob=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.filter_too_much])
SCENARIOS = sorted(p.stem for p in (Path(__file__).parents[2] / "scenarios").glob("*.toml"))


def plan_of(model: GeneratedModel):
    with tempfile.TemporaryDirectory(prefix="alloc-fast-") as tmp:
        model.write(Path(tmp))
        return load_plan(model.scenario, tmp)


def assert_well_formed(plan) -> None:
    """Unique row and column names, column indices in range, finite coefficients and bounds;
    goals first, then the strictly convex tie-breaks, then their linear stand-in "reference";
    costs non-negative except the value level's (minus the value per unit funded, with the total
    value as constant, so that its objective is the weighted unfunded requirement, never
    negative) and the tie-breaks' linear parts; costs scaled to a largest of 1 for the solver."""
    lp = build(plan)
    rows, cols = list(lp.row_names), list(lp.col_names)
    assert len(set(rows)) == len(rows) == lp.n_rows
    assert len(set(cols)) == len(cols) == lp.n_cols
    start, index, value = lp.matrix()
    assert start[0] == 0 and np.all(np.diff(start) >= 0) and start[-1] == len(index)
    assert len(index) == 0 or 0 <= index.min() <= index.max() < lp.n_cols
    assert np.isfinite(value).all() and np.isfinite(lp.rhs).all()
    roles = [lv.role for lv in lp.levels]
    assert roles == sorted(roles, key=(GOAL, TIE_BREAK, STAND_IN).index)
    assert [lv.name for lv in lp.levels if lv.role == STAND_IN] == ["reference"]
    assert [lv.name for lv in lp.levels if lv.role == TIE_BREAK][-1] == "unique"
    assert [lv.name for lv in lp.levels][-2:] == ["unique", "reference"]
    assert ("value" in [lv.name for lv in lp.levels]) == bool(plan.requirements)
    for level in lp.levels:
        assert np.isfinite(level.coefs).all() and np.isfinite(level.constant)
        if level.name == "value":
            assert (level.coefs < 0).all()
            assert level.value(np.zeros(lp.n_cols)) == pytest.approx(
                sum(r.value * r.amount for r in plan.requirements))
        elif level.role == TIE_BREAK:
            assert level.quadratic is not None and (level.quadratic > 0).all()
            assert np.abs(level.solver_quadratic).max() <= 1.0 + 1e-12
        else:
            assert (level.coefs >= 0).all() and level.constant == 0.0
        largest = max(np.abs(level.coefs).max(initial=0.0),
                      0.0 if level.quadratic is None else level.quadratic.max(initial=0.0))
        if largest > 0:
            assert max(np.abs(level.solver_coefs).max(initial=0.0),
                       0.0 if level.solver_quadratic is None
                       else level.solver_quadratic.max(initial=0.0)) == pytest.approx(1.0)


def dense(lp_highs) -> np.ndarray:
    """A HiGHS model's matrix as a dense array, whatever its storage."""
    m = lp_highs.a_matrix_
    out = np.zeros((lp_highs.num_row_, lp_highs.num_col_))
    start, index, value = np.asarray(m.start_), np.asarray(m.index_), np.asarray(m.value_)
    colwise = int(m.format_) == 1
    for outer in range(len(start) - 1):
        for k in range(start[outer], start[outer + 1]):
            if colwise:
                out[index[k], outer] += value[k]
            else:
                out[outer, index[k]] += value[k]
    return out


def assert_same_highs_model(plan) -> None:
    """The LP of the first linear level as HiGHS holds it, via PuLP's HiGHS class and via the
    fast path (a quadratic level has no PuLP counterpart: the fast path also frees the stand-in's
    rows for it)."""
    lp = build(plan)
    first = next(k for k, level in enumerate(lp.levels) if level.quadratic is None)
    plain = PulpModel(lp, "highs-pulp")
    plain.set_level(first)
    plain.solve(make_solver("HiGHS", msg=False, time_limit=None))
    theirs = plain.solver_model.getLp()  # type: ignore[attr-defined]
    # PuLP hands HiGHS its variables in its own order; ours are c0, c1, ... in column order
    order = [int(v.name[1:]) for v in plain.problem.variables()]
    fast = HighsModel(lp)
    fast.set_level(first)
    ours = fast.highs.getLp()
    assert (theirs.num_row_, theirs.num_col_) == (ours.num_row_, ours.num_col_)
    perm = np.empty(len(order), dtype=int)
    perm[order] = np.arange(len(order))
    a_theirs, a_ours = dense(theirs)[:, perm], dense(ours)
    assert np.array_equal(a_theirs, a_ours)
    for field in ("row_lower_", "row_upper_"):
        assert np.array_equal(np.asarray(getattr(theirs, field)), np.asarray(getattr(ours, field)))
    for field in ("col_cost_", "col_lower_", "col_upper_"):
        assert np.array_equal(np.asarray(getattr(theirs, field))[perm],
                              np.asarray(getattr(ours, field)))


def assert_same_optimum(plan, solvers: tuple[str, ...] = ("highs-pulp",)) -> None:
    """The goals reach the same optimum on every path; with the linear stand-in on all of them
    (quadratic=False), so does every level. Allocations are not compared: only the quadratic
    tie-breaks make them unique (test_uniqueness.py)."""
    lp = build(plan)
    fast = solve(lp, SolveOptions("highs"))
    linear = solve(lp, SolveOptions("highs", quadratic=False))
    goals = [lv.name for lv in lp.levels if lv.role == GOAL]
    assert fast.status == linear.status
    if fast.status == "optimal":
        assert list(linear.objectives) == [*goals, "reference"]
        assert list(fast.objectives)[: len(goals)] == goals
        assert list(fast.objectives)[-1] in ("unique", "reference")
        assert (list(fast.objectives)[-1] == "unique") == (fast.not_unique == "")
    for level in goals:
        assert linear.objectives[level] == pytest.approx(fast.objectives[level], rel=1e-6,
                                                         abs=1e-8), level
    for name in solvers:
        other = solve(lp, SolveOptions(name))
        assert other.status == fast.status
        assert list(other.objectives) == list(linear.objectives)
        assert other.not_unique != ""
        for level, value in linear.objectives.items():
            # the stand-in's optimum moves within the tolerance earlier levels are held to
            # (level_tolerance of the value level), which each path uses in its own way
            rel = 1e-6 if level in goals else 1e-4
            assert other.objectives[level] == pytest.approx(value, rel=rel, abs=1e-8), (name, level)


@RANDOM
@given(feasible_models())
def test_the_built_rows_are_well_formed(model: GeneratedModel) -> None:
    assert_well_formed(plan_of(model))


@RANDOM
@given(feasible_models())
def test_fast_path_hands_highs_the_lp_pulp_hands_it(model: GeneratedModel) -> None:
    assert_same_highs_model(plan_of(model))


@RANDOM
@given(feasible_models())
def test_fast_and_plain_paths_reach_the_same_optimum(model: GeneratedModel) -> None:
    assert_same_optimum(plan_of(model))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_shipped_scenarios_well_formed_same_lp_same_optimum(scenario: str) -> None:
    plan = load_plan(scenario, Path(__file__).parents[2])
    assert_well_formed(plan)
    assert_same_highs_model(plan)
    assert_same_optimum(plan, ("highs-pulp", "cbc"))


def test_warm_model_reset_solves_to_the_same_optimum(project: Path) -> None:
    """After reset the instance is the unheld model again: solving anew gives the same levels."""
    lp = build(load_plan("baseline", project))
    model = HighsModel(lp)
    first = solve_levels(model)
    n_rows = model.highs.getNumRow()
    model.reset()
    assert model.highs.getNumRow() == lp.n_rows < n_rows
    second = solve_levels(model)
    assert first[0] == second[0] == "optimal"
    for level, value in first[1].items():
        assert second[1][level] == pytest.approx(value, rel=1e-9, abs=1e-12)


def test_a_warm_update_solves_as_a_fresh_model(project: Path) -> None:
    """What a sweep does: the instance handed a program of the same shape with other right-hand
    sides (a receipt rate) and coefficients (a share bound) reaches the optimum of a fresh one,
    and, the tie-breaks being strictly convex, the same allocation."""
    plan = load_plan("baseline", project)
    model = HighsModel(build(plan))
    before = solve_levels(model)
    fund = plan.funds[0]
    bound = next(b for b in plan.bounds if b.min_share is not None)
    changed = replace(plan, funds=(replace(fund, receipt_rate=fund.receipt_rate * 0.5),
                                   *plan.funds[1:]),
                      bounds=tuple(replace(b, min_share=(b.min_share or 0) * 0.9)
                                   if b is bound else b for b in plan.bounds))
    variant = build(changed)
    assert np.array_equal(variant.matrix()[1], model.lp.matrix()[1])
    assert not np.array_equal(variant.matrix()[2], model.lp.matrix()[2])
    model.update(variant)
    assert model.lp is variant
    warm = solve_levels(model)
    warm_values = model.values().copy()
    cold_model = HighsModel(variant)
    fresh = solve_levels(cold_model)
    assert warm[0] == fresh[0] == "optimal"
    assert warm[1] != pytest.approx(before[1])
    for level, value in fresh[1].items():
        assert warm[1][level] == pytest.approx(value, rel=1e-7, abs=1e-9), level
    n = variant.n_alloc
    assert np.abs(warm_values[:n] - cold_model.values()[:n]).max() <= 1e-6


def test_a_time_limit_is_not_reported_optimal(tmp_path: Path) -> None:
    """PuLP calls a HiGHS time limit "Optimal"; our status reading must not.

    A benchmark organisation of 1e4 columns takes HiGHS well over the 0.01 s it is given.
    """
    sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
    try:
        import bench
    finally:
        sys.path.pop(0)
    scenario = bench.generate(tmp_path, 1e4, seed=3)
    lp = build(load_plan(scenario, tmp_path))
    for solver in ("highs", "highs-pulp"):
        solution = solve(lp, SolveOptions(solver, time_limit=1e-9))
        assert solution.status == "time_limit", solver
