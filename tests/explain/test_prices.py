"""Shadow prices (`alloc.explain.prices`) on the tiny model: against finite differences of the
optimum solved by the referee (tests/lp_oracle.py), and against the hand solution of
tests/test_golden.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from explain_checks import (
    EXAMPLES,
    PROPERTY,
    held,
    level_objective,
    lexicographic,
    plan_of,
)
from hypothesis import assume, event, given, settings
from lp_oracle import minimise
from strategies import GeneratedModel, feasible_models

from alloc.lp.build import LinearProgram, build
from alloc.lp.program import GOAL, priced_level
from alloc.model.load import load_plan


def assert_prices_are_slopes(lp: LinearProgram, delta: float = 0.01) -> np.ndarray:
    """Each price lies between the left and right slopes of the final goal level's optimum (its
    subgradient), and equals both where they agree; returns the prices."""
    from alloc.explain.prices import shadow_prices
    from alloc.lp.solve import solve

    solution = solve(lp)
    prices = shadow_prices(lp, solution.objectives)
    goals = [k for k, level in enumerate(lp.levels) if level.role == GOAL]
    last = goals[-1]
    earlier = lexicographic(lp, upto=len(goals) - 1)
    objective = level_objective(lp, last)
    base = minimise(lp, None, objective, held(lp, last, earlier))
    assert base + lp.levels[last].constant == pytest.approx(prices.objective, abs=1e-7)
    checked = 0
    for i, name in enumerate(lp.row_names):
        if np.isnan(prices.prices[i]):
            continue
        slopes = []
        for step in (delta, -delta):
            rhs = np.asarray(lp.rhs, float).copy()
            rhs[i] += step
            z = minimise(lp, rhs, objective, held(lp, last, earlier))
            slopes.append(None if z is None else (z - base) / step)
        right, left = slopes
        p = prices.prices[i]
        if right is not None:
            assert p <= right + 1e-6, name
        if left is not None:
            assert p >= left - 1e-6, name
        if right is not None and left is not None and abs(right - left) < 1e-9:
            assert p == pytest.approx(right, abs=1e-7), name
            checked += 1
    assert checked, "no rule had a two-sided slope to compare with"
    return prices.prices


def test_shadow_prices_of_the_tiny_model_are_the_slopes_of_its_optimum(project: Path) -> None:
    lp = build(load_plan("tiny", project))
    prices = dict(zip(lp.row_names, assert_prices_are_slopes(lp), strict=True))
    # by hand (tests/test_golden.py): one more unit of 2024 ceiling goes to A/P1, whose shortfall
    # costs 2/70 a unit; in 2025 A is capped by its envelope, so it goes to B/P2 (1/50); one more
    # unit of A's 2025 envelope moves a unit from B/P2 to A/P1: -2/70 + 1/50.
    assert prices["ceiling[2024]"] == pytest.approx(-2 / 70)
    assert prices["ceiling[2025]"] == pytest.approx(-1 / 50)
    assert prices["envelope_max[A,2025]"] == pytest.approx(-2 / 70 + 1 / 50)


def test_shadow_prices_are_taken_at_the_final_goal_level(project: Path) -> None:
    plan = load_plan("tiny", project)
    p2 = next(t for t in plan.targets if t.code == "P2")
    two_levels = dataclasses.replace(plan, targets=tuple(
        dataclasses.replace(t, level=2) if t is p2 else t for t in plan.targets))
    lp = build(two_levels)
    from alloc.explain.prices import shadow_prices
    from alloc.lp.solve import solve

    assert shadow_prices(lp, solve(lp).objectives).level == "level 2"
    assert_prices_are_slopes(lp)


def _both_ways(lp: LinearProgram) -> tuple:
    """Prices read from the run's own solver (`Solution.priced`) and from a solve of the final
    goal level alone (as before it was kept)."""
    from alloc.explain.prices import shadow_prices
    from alloc.lp.solve import solve

    solution = solve(lp)
    assert solution.optimal
    return (shadow_prices(lp, solution.objectives, priced=solution.priced),
            shadow_prices(lp, solution.objectives), solution)


def test_prices_are_read_from_the_run_s_own_solver(project: Path) -> None:
    plan = load_plan("tiny", project)
    read, solved, solution = _both_ways(build(plan))
    assert solution.priced is not None
    np.testing.assert_allclose(read.prices, solved.prices, rtol=1e-9, atol=1e-12)
    assert read.objective == pytest.approx(solved.objective, abs=1e-9)
    assert read.degenerate == solved.degenerate
    # with two goal levels the first is held when the second is solved: the second is solved
    # again alone on the run's instance, the first bounded as the run held it
    p2 = next(t for t in plan.targets if t.code == "P2")
    two_levels = dataclasses.replace(plan, targets=tuple(
        dataclasses.replace(t, level=2) if t is p2 else t for t in plan.targets))
    read, solved, solution = _both_ways(build(two_levels))
    assert solution.priced is not None and solution.priced.level == 1
    assert read.level == "level 2"
    np.testing.assert_allclose(read.prices, solved.prices, rtol=1e-9, atol=1e-12)
    assert read.objective == pytest.approx(solved.objective, abs=1e-9)
    assert read.degenerate == solved.degenerate


@settings(PROPERTY, max_examples=max(3, EXAMPLES // 4))
@given(model=feasible_models(requirements=True))
def test_prices_read_from_the_run_are_those_solved_for_on_random_models(
        model: GeneratedModel) -> None:
    """Where the optimum is not degenerate the duals are unique: both ways give them."""
    plan = plan_of(model)
    read, solved, solution = _both_ways(build(plan))
    assume(solution.priced is not None)
    assert read.objective == pytest.approx(solved.objective, rel=1e-9, abs=1e-7)
    if solved.degenerate or read.degenerate:
        event("degenerate: prices one valid set among several")
        return
    event("prices compared")
    np.testing.assert_allclose(read.prices, solved.prices, rtol=1e-6, atol=1e-9)


def test_prices_solved_beside_the_last_levels_are_those_solved_after_them(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above LARGE columns the priced level is solved again from scratch, on an instance of its
    own and a thread while the run goes on (two cores or more), started as soon as the levels
    before it are solved, with their optima only: the same prices, bit for bit, as on the run's
    own instance after its levels (one core). LARGE is lowered so that the tiny model takes that
    path."""
    from alloc.lp import solve as solving
    from alloc.lp.backends import highs

    monkeypatch.setattr(highs, "LARGE", 0)
    plan = load_plan("tiny", project)
    p2 = next(t for t in plan.targets if t.code == "P2")
    lp = build(dataclasses.replace(plan, targets=tuple(
        dataclasses.replace(t, level=2) if t is p2 else t for t in plan.targets)))
    started = []
    original = solving._PricedBeside.start

    def start(self: solving._PricedBeside, objectives: dict[str, float]) -> None:
        started.append(list(objectives))
        original(self, objectives)

    monkeypatch.setattr(solving._PricedBeside, "start", start)
    runs = {}
    for n, room in ((1, True), (2, True), (2, False)):
        monkeypatch.setattr(solving, "cores", lambda n=n: n)
        monkeypatch.setattr(solving, "room_beside", lambda lp, room=room: room)
        runs[n, room] = solving._run_levels(lp, solving.SolveOptions(), price=True)
    first = runs[1, True]
    assert first.priced is not None and first.priced.level == priced_level(lp) > 0
    # beside with two cores and the memory for a second instance only, before the priced level
    assert started == [[lv.name for lv in lp.levels[:first.priced.level]]]
    for other in (runs[2, True], runs[2, False]):
        assert other.priced is not None and other.priced.level == first.priced.level
        np.testing.assert_array_equal(other.priced.duals, first.priced.duals)
        np.testing.assert_array_equal(other.priced.values, first.priced.values)
        np.testing.assert_array_equal(other.values, first.values)


def _whole_program_alone(lp: LinearProgram, objectives: dict[str, float]) -> tuple:
    """The referee of `LevelAlone`: the priced level alone on the whole program (the stand-in's
    rows freed and its columns held at 0, as the run's instance did before), from scratch by
    interior point and crossover, each earlier goal bounded as `_price_alone` bounds it."""
    import highspy

    from alloc.lp.backends import highs
    from alloc.lp.program import level_bound

    model = highs.HighsModel(lp)
    k = priced_level(lp)
    h = model.highs
    bounds = [(j, level_bound(objectives[lv.name], lp.plan.level_tolerance) - lv.constant)
              for j, lv in enumerate(lp.levels[:k]) if lv.role == GOAL]
    for row in highs._bound_rows(lp, bounds):
        h.addRow(-highs.INF, *row)
    for key, value in {**highs.level_options(lp.n_cols, k, lp.levels[k]), "solver": "ipm",
                       "run_crossover": "on"}.items():
        h.setOptionValue(key, value)
    model.set_level(k)
    model._free_stand_in(True)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    solution = h.getSolution()
    return (k, bounds, np.asarray(solution.row_dual)[: lp.n_rows],
            np.asarray(solution.col_value), h.getInfo().objective_function_value)


def _assert_alone_is_the_whole(lp: LinearProgram, objectives: dict[str, float],
                               unique: bool = True) -> None:
    """The same optimum; the same duals and values where they are unique."""
    from alloc.lp.backends.highs import LevelAlone
    from alloc.lp.program import RULE_GROUPS, STAND_IN

    k, bounds, duals, values, objective = _whole_program_alone(lp, objectives)
    alone = LevelAlone(lp)
    stand_in_rows = int((lp.rules == RULE_GROUPS.index("reference")).sum())
    stand_in_cols = sum(len(lv.cols) for lv in lp.levels if lv.role == STAND_IN)
    assert stand_in_rows and stand_in_cols   # something is left out
    assert alone.highs.getNumRow() == lp.n_rows - stand_in_rows
    assert alone.highs.getNumCol() == lp.n_cols - stand_in_cols
    status, got_duals, got_values = alone.solve_alone(k, bounds, None)
    assert status == "optimal" and got_duals.shape == duals.shape
    assert alone.highs.getInfo().objective_function_value == pytest.approx(objective, rel=1e-9,
                                                                           abs=1e-9)
    if unique:
        np.testing.assert_allclose(got_duals, duals, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(got_values, values, rtol=1e-7, atol=1e-6)
    again = alone.solve_alone(k, bounds, None)     # solved again on the same instance: the same
    assert again is not None and alone.highs.getNumRow() == lp.n_rows - stand_in_rows + len(bounds)
    np.testing.assert_array_equal(again[1], got_duals)


@pytest.mark.parametrize("scenario", ["baseline", "cut-5pct", "eb-high"])
def test_the_priced_level_alone_leaves_the_stand_in_out_and_answers_the_same(
        scenario: str) -> None:
    """`LevelAlone` never hands the solver the linear stand-in's rows and columns: the same
    optimum, duals and values as the whole program with them freed, answered for every row and
    column of the program (0 where left out)."""
    from alloc.lp.solve import solve

    root = Path(__file__).resolve().parents[2]
    lp = build(load_plan(scenario, root))
    _assert_alone_is_the_whole(lp, solve(lp).objectives)


@settings(PROPERTY, max_examples=max(3, EXAMPLES // 4))
@given(model=feasible_models(requirements=True))
def test_the_priced_level_alone_answers_as_the_whole_program_on_random_models(
        model: GeneratedModel) -> None:
    from alloc.lp.solve import solve

    plan = plan_of(model)
    lp = build(plan)
    solution = solve(lp)
    assume(solution.optimal)
    from alloc.explain.prices import shadow_prices

    unique = not shadow_prices(lp, solution.objectives).degenerate
    event("prices compared" if unique else "degenerate: the optimum alone compared")
    _assert_alone_is_the_whole(lp, solution.objectives, unique)


def test_the_priced_level_alone_declines_a_level_that_reads_the_stand_in(project: Path) -> None:
    from alloc.lp.backends.highs import LevelAlone
    from alloc.lp.program import STAND_IN

    lp = build(load_plan("tiny", project))
    stand_in = next(k for k, lv in enumerate(lp.levels) if lv.role == STAND_IN)
    assert LevelAlone(lp).solve_alone(stand_in, [], None) is None
    assert LevelAlone(lp).solve_alone(priced_level(lp), [(stand_in, 1.0)], None) is None


def test_in_turn_the_run_s_instance_is_given_back_before_the_priced_level_s_is_made(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On one core (or without the memory for two), the priced level's instance of its own is
    made only once the run's is gone: never two programs in the solver at once."""
    import weakref

    from alloc.lp import solve as solving
    from alloc.lp.backends import highs

    monkeypatch.setattr(highs, "LARGE", 0)
    monkeypatch.setattr(solving, "cores", lambda: 1)
    plan = load_plan("tiny", project)
    p2 = next(t for t in plan.targets if t.code == "P2")
    lp = build(dataclasses.replace(plan, targets=tuple(
        dataclasses.replace(t, level=2) if t is p2 else t for t in plan.targets)))
    runs: list[weakref.ref] = []
    alive: list[bool] = []
    made, init = solving.backend, highs.LevelAlone.__init__

    def backend(*args: object, **kwargs: object) -> object:
        model = made(*args, **kwargs)   # type: ignore[arg-type]
        runs.append(weakref.ref(model))
        return model

    def level_alone(self: highs.LevelAlone, *args: object, **kwargs: object) -> None:
        alive.append(any(ref() is not None for ref in runs))
        init(self, *args, **kwargs)     # type: ignore[arg-type]

    monkeypatch.setattr(solving, "backend", backend)
    monkeypatch.setattr(highs.LevelAlone, "__init__", level_alone)
    run = solving._run_levels(lp, solving.SolveOptions(), price=True)
    assert run.priced is not None and alive == [False] and len(runs) == 1


def test_the_values_are_checked_while_the_prices_are_still_solving(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`solve` makes the solution's frames and checks it beside the priced level's solve, and
    only then waits for the prices: the same solution and prices as waiting first; a failure
    of the check still waits for the thread before it is raised."""
    from alloc.lp import solve as solving
    from alloc.lp.backends import highs

    monkeypatch.setattr(highs, "LARGE", 0)
    monkeypatch.setattr(solving, "cores", lambda: 2)
    monkeypatch.setattr(solving, "room_beside", lambda lp: True)
    plan = load_plan("tiny", project)
    p2 = next(t for t in plan.targets if t.code == "P2")
    lp = build(dataclasses.replace(plan, targets=tuple(
        dataclasses.replace(t, level=2) if t is p2 else t for t in plan.targets)))
    waited = solving._run_levels(lp, solving.SolveOptions(), price=True)
    order: list[str] = []
    answer, solution_of = solving._PricedBeside.answer, solving.solution_of

    def answered(self: solving._PricedBeside) -> object:
        order.append("prices")
        return answer(self)

    def made(*args: object, **kwargs: object) -> object:
        order.append("values")
        return solution_of(*args, **kwargs)

    monkeypatch.setattr(solving._PricedBeside, "answer", answered)
    monkeypatch.setattr(solving, "solution_of", made)
    seen: list[object] = []

    def meanwhile(solved: object) -> None:
        order.append("meanwhile")
        seen.append(solved)
        assert getattr(solved, "priced", None) is None      # the prices are not in yet

    solution = solving.solve(lp, meanwhile=meanwhile)
    assert order == ["values", "meanwhile", "prices"]
    assert seen == [solution] and seen[0] is solution
    order.clear()
    monkeypatch.setattr(solving, "cores", lambda: 1)      # nothing beside: nothing to fill
    solving.solve(lp, meanwhile=meanwhile)
    assert order == ["values"]
    monkeypatch.setattr(solving, "cores", lambda: 2)
    assert solution.priced is not None and waited.priced is not None
    np.testing.assert_array_equal(solution.priced.duals, waited.priced.duals)
    np.testing.assert_array_equal(solution.values, waited.values)

    def broken(*args: object, **kwargs: object) -> object:
        order.append("values")
        raise solving.SolveError("checked: broken")

    order.clear()
    solution = solving.solve(lp)
    assert order == ["values", "prices"]
    order.clear()
    monkeypatch.setattr(solving, "solution_of", broken)
    with pytest.raises(solving.SolveError, match="broken"):
        solving.solve(lp)
    assert order == ["values", "prices"]


def test_the_tables_made_while_the_prices_solve_are_the_tables(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`alloc.solve` makes Appendix A's views while the prices are still solving beside (large
    programs): the same views as made afterwards, and not made a second time."""
    import alloc
    from alloc.lp import solve as solving
    from alloc.lp.backends import highs
    from alloc.report import tables

    monkeypatch.setattr(highs, "LARGE", 0)
    monkeypatch.setattr(solving, "cores", lambda: 2)
    monkeypatch.setattr(solving, "room_beside", lambda lp: True)
    plan = load_plan("tiny", project)
    p2 = next(t for t in plan.targets if t.code == "P2")
    plan = dataclasses.replace(plan, targets=tuple(
        dataclasses.replace(t, level=2) if t is p2 else t for t in plan.targets))
    from alloc.explain import prices as pricing

    views = tables.appendix_views
    made: list[str] = []
    for module, name in ((tables, "appendix_views"), (pricing, "rule_phrases")):
        def counted(*args: object, _made: object = getattr(module, name), _name: str = name,
                    **kwargs: object) -> object:
            made.append(_name)
            return _made(*args, **kwargs)      # type: ignore[operator]

        monkeypatch.setattr(module, name, counted)
    result = alloc.solve(plan)
    assert made == ["appendix_views", "rule_phrases"] and result.optimal
    assert result.explanation is not None
    from alloc.explain import explain
    from alloc.explain.report import restate_ceilings

    solution = result.solution
    again = restate_ceilings(explain(build(plan), solution.constraints, solution.objectives,
                                     priced=solution.priced, values=solution.values), solution)
    pd.testing.assert_frame_equal(result.explanation.table, again.table)
    fresh = views(result.solution, result.support_costs)
    assert result.appendix is not None and made == ["appendix_views", "rule_phrases"]
    for kept, again in zip(result.appendix.tables, fresh.tables, strict=True):
        pd.testing.assert_frame_equal(kept.rounded, again.rounded)
        pd.testing.assert_frame_equal(kept.values, again.values)


@pytest.mark.parametrize("scenario", ["baseline", "zng", "cut-5pct"])
def test_phrases_made_ahead_give_the_same_sentences(scenario: str) -> None:
    """The rules' phrases made before the prices (`rule_phrases`) are the ones the sentences
    would make, for every rule that needs one; and they are the ones read."""
    import alloc
    from alloc.explain.prices import constraint_table, rule_phrases

    root = Path(__file__).resolve().parents[2]
    result = alloc.run(scenario, project=root)
    assert result.explanation is not None
    lp = build(result.plan)
    constraints = result.solution.constraints
    phrases = rule_phrases(lp, constraints)
    assert phrases
    ahead = constraint_table(lp, constraints, result.explanation.prices, phrases)
    pd.testing.assert_frame_equal(ahead, constraint_table(lp, constraints,
                                                          result.explanation.prices))
    marked = constraint_table(lp, constraints, result.explanation.prices,
                              {i: "<ahead>" for i in phrases})
    assert marked["sentence"].str.contains("<ahead>", regex=False).any()
    assert not ahead["sentence"].str.contains("<ahead>", regex=False).any()


def test_a_second_instance_is_made_only_where_the_memory_allows(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from alloc.lp import solve as solving
    from alloc.model import size

    lp = type("Program", (), {"n_cols": 1_000_000})()
    need = 2 * 1_000_000 * solving.PRICING_BYTES_PER_COLUMN     # the run's instance and one more
    monkeypatch.setattr(size, "available_memory", lambda: need / size.MEMORY_FRACTION + 1)
    assert solving.room_beside(lp)
    monkeypatch.setattr(size, "available_memory", lambda: need / size.MEMORY_FRACTION - 1)
    assert not solving.room_beside(lp)
    monkeypatch.setattr(size, "available_memory", lambda: None)
    assert not solving.room_beside(lp)


def test_a_large_solve_gives_its_freed_memory_back_on_linux(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes
    import sys

    from alloc.lp import solve as solving

    calls: list[int] = []

    class Libc:
        def malloc_trim(self, pad: int) -> int:
            calls.append(pad)
            return 1

    monkeypatch.setattr(ctypes, "CDLL", lambda name: Libc())
    monkeypatch.setattr(sys, "platform", "linux")
    solving._give_back_memory(type("Program", (), {"n_cols": solving.TRIM_COLUMNS})())
    assert calls == []                                  # small: nothing to give back
    solving._give_back_memory(type("Program", (), {"n_cols": solving.TRIM_COLUMNS + 1})())
    assert calls == [0]
    monkeypatch.setattr(sys, "platform", "win32")
    solving._give_back_memory(type("Program", (), {"n_cols": solving.TRIM_COLUMNS + 1})())
    assert calls == [0]

    def missing(name: str) -> None:
        raise OSError(name)

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "CDLL", missing)        # a C library that is not glibc
    solving._give_back_memory(type("Program", (), {"n_cols": solving.TRIM_COLUMNS + 1})())


def test_the_cores_are_counted_where_the_affinity_is_unknown(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows and macOS have no `os.sched_getaffinity`: the cores are the machine's."""
    import os

    from alloc.lp import solve as solving

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert solving.cores() == 3
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert solving.cores() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert solving.cores() == 1
