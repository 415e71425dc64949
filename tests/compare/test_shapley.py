"""The Shapley attribution: it adds up exactly, it does not depend on the order the groups are
listed, groups that cannot stand alone are applied together, and sampling is reproducible."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alloc.compare.core import _totals, _try, _with, input_differences, load
from alloc.compare.shapley import Decomposition, Group, Totals, decompose, policy_groups
from alloc.lp.solve import SolveOptions
from alloc.model.scenario import Path_

REPO = Path(__file__).resolve().parents[2]
KEYS = [("priority", "TP1"), ("priority", "TP2"), ("entity", "E1")]


def _groups(n: int) -> list[Group]:
    return [Group(f"g{i}", f"group {i}", ((f"k{i}",),)) for i in range(n)]


def _game(n: int, numbers: list[float]):
    """A value per subset of groups (any numbers: a model need not be additive)."""
    def value(paths: list[Path_]) -> Totals:
        mask = sum(1 << int(p[0][1:]) for p in paths)
        return {k: numbers[(mask * len(KEYS) + j) % len(numbers)] for j, k in enumerate(KEYS)}
    return value


def _by_label(result: Decomposition) -> dict[str, Totals]:
    return {g.label: e for g, e in zip(result.groups, result.effects, strict=False)}


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 5), numbers=st.lists(st.floats(-1e6, 1e6), min_size=7, max_size=40),
       seed=st.integers(0, 1000))
def test_effects_add_up_and_do_not_depend_on_the_listing(n: int, numbers: list[float],
                                                        seed: int) -> None:
    value = _game(n, numbers)
    groups = _groups(n)
    start, end = value([]), value([p for g in groups for p in g.paths])
    result = decompose(groups, start, end, value)
    for k in KEYS:
        assert math.fsum(e[k] for e in result.effects) == pytest.approx(end[k] - start[k],
                                                                        abs=1e-6)
    import random
    shuffled = groups[:]
    random.Random(seed).shuffle(shuffled)
    again = _by_label(decompose(shuffled, start, end, value))
    for label, effect in _by_label(result).items():
        for k in KEYS:
            assert again[label][k] == pytest.approx(effect[k], abs=1e-6)


def test_an_additive_model_gives_each_group_its_own_effect() -> None:
    own = [3.0, -5.0, 7.0]

    def value(paths: list[Path_]) -> Totals:
        return {KEYS[0]: sum(own[int(p[0][1:])] for p in paths)}
    result = decompose(_groups(3), value([]), value([(f"k{i}",) for i in range(3)]), value)
    assert [e[KEYS[0]] for e in result.effects] == pytest.approx(own)
    assert result.method.startswith("exact: all 6 orders of 3 groups")


def test_groups_that_cannot_stand_alone_are_applied_together() -> None:
    """Group 1 needs group 2 (a mandate cell needs its new priority); group 0 stands alone."""
    def value(paths: list[Path_]) -> Totals | None:
        named = {int(p[0][1:]) for p in paths}
        if 1 in named and 2 not in named:
            return None
        return {KEYS[0]: 10.0 * (0 in named) + 4.0 * (1 in named) + 1.0 * (2 in named)}
    groups = _groups(3)
    result = decompose(groups, {KEYS[0]: 0.0}, {KEYS[0]: 15.0}, value)
    labels = [g.label for g in result.groups]
    assert labels == ["group 0", "together: group 1; group 2"]
    assert [e[KEYS[0]] for e in result.effects] == pytest.approx([10.0, 5.0])


def test_sampled_orders_add_up_are_reproducible_and_state_a_bound() -> None:
    numbers = [1.0, 4.0, -2.0, 8.0, 5.5, -3.0, 0.5]
    value = _game(6, numbers)
    groups = _groups(6)
    start, end = value([]), value([p for g in groups for p in g.paths])
    one = decompose(groups, start, end, value, exact_up_to=3, orders=50, seed=7)
    two = decompose(groups[::-1], start, end, value, exact_up_to=3, orders=50, seed=7)
    exact = _by_label(decompose(groups, start, end, value))
    assert one.method.startswith("sampled: 50 orders of 6 groups (seed 7")
    for k in KEYS:
        assert math.fsum(e[k] for e in one.effects) == pytest.approx(end[k] - start[k], abs=1e-6)
    for label, effect in _by_label(one).items():
        for k in KEYS:
            assert _by_label(two)[label][k] == pytest.approx(effect[k])
            bound = one.bounds[[g.label for g in one.groups].index(label)][k]
            assert bound > 0
            assert abs(effect[k] - exact[label][k]) <= 3 * bound + 1e-9


def test_on_the_reference_model_any_listing_gives_the_same_shares() -> None:
    """eb-high: four funds, 14 solves, cached across the listings."""
    base, other = load(["baseline", "eb-high"], REPO, SolveOptions())
    groups = policy_groups(base.resolved, other.resolved,
                           input_differences(base.resolved, other.resolved))
    assert len(groups) == 4
    cache: dict[frozenset[Path_], Totals | None] = {}

    def value(paths: list[Path_]) -> Totals | None:
        key = frozenset(paths)
        if key not in cache:
            cache[key] = _try(_with(base.resolved, other.resolved, paths), SolveOptions())
        return cache[key]
    start, end = _totals(base.solution), _totals(other.solution)
    reference = _by_label(decompose(groups, start, end, value))
    for order in list(itertools.permutations(groups))[1::7]:
        again = _by_label(decompose(list(order), start, end, value))
        for label, effect in reference.items():
            for k, v in effect.items():
                assert again[label][k] == pytest.approx(v, abs=1e-6)
    for k in set(start) | set(end):
        assert math.fsum(e.get(k, 0.0) for e in reference.values()) == pytest.approx(
            end.get(k, 0.0) - start.get(k, 0.0), abs=1e-6)
    assert len(cache) == 14
