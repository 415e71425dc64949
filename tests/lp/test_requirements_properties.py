"""Properties of the objective with costed requirements, on random models (tests/strategies.py).

- uniqueness: a warm re-solve (the instance of one program handed another of the same shape,
  `HighsModel.update`, as `alloc.sweep.core` does) and a cold solve of the same inputs agree to
  1e-6 on every allocation column and every funded part;
- the value of the funded requirements never falls when the ceiling rises (the value level is
  the first goal; the ceiling rows raised on the solver's instance, balance = false);
- equal-value requirements are cut in proportion to their size: on organisations where only the
  ceiling binds, the requirements are funded in order of value, and those of the marginal value
  all get the same fraction of their amount (computed here by hand, not by alloc);
- every answer keeps the plan's rules (the independent check) and funds no requirement beyond its
  amount or beyond what its cell is given (recomputed here from the frames).
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import GeneratedModel, feasible_models
from test_golden_requirements import write

from alloc.errors import InputError
from alloc.lp.backends.highs import HighsModel
from alloc.lp.build import build
from alloc.lp.program import RULE_GROUPS
from alloc.lp.solve import SolveOptions, solve, solve_levels
from alloc.lp.verify import check
from alloc.model.domain import Plan
from alloc.model.load import load_plan

RANDOM = settings(max_examples=20, deadline=None, print_blob=True, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.filter_too_much])
AGREE = 1e-6
"""Warm and cold answers agree to this, relative to max(1, the amount)."""


def plan_of(model: GeneratedModel) -> Plan:
    with tempfile.TemporaryDirectory(prefix="alloc-req-") as tmp:
        model.write(Path(tmp))
        try:
            return load_plan(model.scenario, tmp)
        except InputError:
            assume(False)
            raise


def assert_agree(warm: np.ndarray, cold: np.ndarray, what: str) -> None:
    gap = np.abs(warm - cold) / np.maximum(1.0, np.abs(cold))
    assert gap.max(initial=0.0) <= AGREE, (what, int(gap.argmax()), warm[gap.argmax()],
                                           cold[gap.argmax()])


def variant(plan: Plan, factor: float) -> Plan:
    """The same organisation with other numbers (what a sweep variant changes): requirements
    scaled, and every fund's receipt rate."""
    return replace(plan,
                   requirements=tuple(replace(r, amount=round(r.amount * factor, 3))
                                      for r in plan.requirements),
                   funds=tuple(replace(f, receipt_rate=min(1.0, f.receipt_rate * factor))
                               for f in plan.funds))


@RANDOM
@given(feasible_models(requirements=True), st.sampled_from([0.8, 1.25]))
def test_a_warm_re_solve_agrees_with_a_cold_solve(model: GeneratedModel, factor: float) -> None:
    plan = plan_of(model)
    assume(plan.requirements)
    first = build(plan)
    warm = HighsModel(first)
    assume(warm.quadratic_ok())
    status, _, _ = solve_levels(warm)
    assume(status == "optimal")
    second = build(variant(plan, factor))
    assert np.array_equal(second.matrix()[1], first.matrix()[1])
    warm.update(second)
    status, warm_levels, _ = solve_levels(warm)
    cold = HighsModel(second)
    cold_status, cold_levels, _ = solve_levels(cold)
    assert status == cold_status
    assume(status == "optimal")
    assert list(warm_levels) == list(cold_levels)
    assert not warm.quadratic_failed and not cold.quadratic_failed
    assert_agree(warm.values()[: second.n_alloc], cold.values()[: second.n_alloc], "allocation")
    assert_agree(warm.values()[second.funded], cold.values()[second.funded], "funded")


@RANDOM
@given(feasible_models(requirements=True), st.sampled_from([0.01, 0.1, 0.5]))
def test_the_value_funded_never_falls_when_the_ceiling_rises(model: GeneratedModel,
                                                             more: float) -> None:
    plan = plan_of(model)
    assume(plan.requirements and not plan.balance_budget)
    lp = build(plan)
    assert lp.levels[0].name == "value"
    model_ = HighsModel(lp)
    status, before, _ = solve_levels(model_, quadratic=False)
    assume(status == "optimal")
    ceiling = np.flatnonzero(lp.rules == RULE_GROUPS.index("ceiling"))
    assert len(ceiling) and (lp.senses[ceiling] == 0).all()
    model_.reset()
    upper = lp.rhs[ceiling] * (1 + more) + 1.0
    model_.set_row_bounds(ceiling, np.full(len(ceiling), -np.inf), upper)
    status, after, _ = solve_levels(model_, quadratic=False)
    assert status == "optimal"
    z = before["value"]
    assert after["value"] <= z + 1e-7 * max(1.0, abs(z))


@RANDOM
@given(feasible_models(requirements=True))
def test_answers_keep_every_rule_and_fund_no_more_than_needed(model: GeneratedModel) -> None:
    plan = plan_of(model)
    solution = solve(build(plan))
    assume(solution.status == "optimal")
    assert check(plan, solution.allocation) == []
    funding = solution.funding
    assert len(funding) == len(model.requirements)
    for r in funding.itertuples(index=False):
        amount, value = model.requirements[((r.entity, r.priority, r.output), r.year, r.tranche)]
        assert r.requirement == pytest.approx(amount) and r.value == pytest.approx(value)
        assert -1e-6 <= r.funded <= amount + 1e-6
    given_ = solution.allocation.groupby(["entity", "priority", "output", "year"])["amount"].sum()
    funded = funding.groupby(["entity", "priority", "output", "year"])["funded"].sum()
    for key, f in funded.items():
        assert f <= given_.get(key, 0.0) + 1e-5, key
    value = float((funding["value"] * (funding["requirement"] - funding["funded"])).sum())
    assert solution.objectives["value"] == pytest.approx(value, rel=1e-6, abs=1e-5)


@st.composite
def scarce(draw: st.DrawFn) -> tuple[float, dict, dict, dict]:
    """Three cells, one or two tranches, weights from {1, 2} (ties common), a ceiling under the
    total requirement: only the ceiling binds."""
    weights = {p: float(draw(st.sampled_from([1, 2]))) for p in ("P1", "P2", "P3")}
    factors = {"core": 1.0, "extra": draw(st.sampled_from([1.0, 0.5]))}
    tranches = ["core", "extra"][: draw(st.integers(1, 2))]
    requirements = {(p, t): float(draw(st.integers(1, 60))) for p in weights for t in tranches}
    total = sum(requirements.values())
    ceiling = float(draw(st.integers(1, int(total))))
    return ceiling, weights, {t: factors[t] for t in tranches}, requirements


def by_hand(ceiling: float, weights: dict, factors: dict, requirements: dict) -> dict:
    """Fill in order of value; the requirements of the value where money runs out all get the
    same fraction of their amount."""
    left = ceiling
    out = {}
    for v in sorted({weights[p] * factors[t] for p, t in requirements}, reverse=True):
        same = [k for k in requirements if weights[k[0]] * factors[k[1]] == v]
        need = sum(requirements[k] for k in same)
        part = min(1.0, left / need)
        out.update({k: part * requirements[k] for k in same})
        left -= part * need
    return out


@settings(RANDOM, max_examples=30)
@given(scarce())
def test_equal_value_requirements_are_cut_in_proportion(case: tuple) -> None:
    ceiling, weights, factors, requirements = case
    with tempfile.TemporaryDirectory(prefix="alloc-scarce-") as tmp:
        plan = load_plan("hand", write(Path(tmp), ceiling, weights, factors, requirements))
    solution = solve(build(plan))
    assert solution.status == "optimal"
    got = {(r.priority, r.tranche): r.funded for r in solution.funding.itertuples(index=False)}
    want = by_hand(ceiling, weights, factors, requirements)
    assert got == pytest.approx(want, abs=1e-6)
    assert solution.not_unique == ""


@settings(RANDOM, max_examples=10)
@given(scarce())
def test_cbc_and_highs_reach_the_same_value(case: tuple) -> None:
    """The goal levels agree on every path; the split among equal values need not (CBC)."""
    with tempfile.TemporaryDirectory(prefix="alloc-scarce-") as tmp:
        plan = load_plan("hand", write(Path(tmp), *case))
    lp = build(plan)
    highs, cbc = solve(lp), solve(lp, SolveOptions("cbc"))
    assert highs.objectives["value"] == pytest.approx(cbc.objectives["value"], rel=1e-7, abs=1e-6)
    assert cbc.not_unique
