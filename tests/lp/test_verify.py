"""The independent check, rule group by rule group (`alloc.lp.verify`).

Each rule function passes the optimum of the baseline scenario (which has every rule group), and
reports, under its own rule group only, the same allocation with every amount scaled to nothing or
scaled up ten times: between them, those break every kind of floor and every kind of cap.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from alloc.lp import verify
from alloc.lp.build import build
from alloc.lp.solve import solve
from alloc.model.domain import Plan
from alloc.model.load import load_plan

REPO = Path(__file__).resolve().parents[2]
RULE_OF = {"ceiling": "ceiling", "envelopes": "envelope", "committed": "committed",
           "bounds": "bound", "stability": "stability", "funds": "fund", "mandate_cells": "cell"}
"""Rule function of alloc.lp.verify: the rule group of its violations (as in constraints.csv)."""


@pytest.fixture(scope="module")
def baseline() -> tuple[Plan, pd.DataFrame]:
    plan = load_plan("baseline", REPO)
    solution = solve(build(plan))
    assert solution.status == "optimal"
    return plan, solution.allocation


def scaled(allocation: pd.DataFrame, factor: float) -> pd.DataFrame:
    out = allocation.copy()
    out["amount"] = out["amount"] * factor
    return out


def test_the_checks_are_the_rule_groups_in_model_order() -> None:
    assert [f.__name__ for f in verify.RULES] == ["amounts", "membership", *RULE_OF]


@pytest.mark.parametrize("name", sorted(RULE_OF))
def test_each_rule_function_holds_on_the_optimum_and_reports_its_own_rule(
        name: str, baseline: tuple[Plan, pd.DataFrame]) -> None:
    plan, allocation = baseline
    rule: Callable[[Plan, verify.Amounts], list[verify.Violation]] = getattr(verify, name)
    assert rule(plan, verify.Amounts(allocation)) == []
    broken = [v for factor in (0.0, 10.0) for v in rule(plan, verify.Amounts(scaled(allocation,
                                                                                  factor)))]
    assert broken, f"{name} reports nothing when every amount is zero or ten times as large"
    assert {v.rule for v in broken} == {RULE_OF[name]}
    assert all(v.excess > 0 for v in broken)


def test_check_is_every_rule_function_in_order(baseline: tuple[Plan, pd.DataFrame]) -> None:
    plan, allocation = baseline
    broken = scaled(allocation, 10.0)
    a = verify.Amounts(broken)
    assert verify.check(plan, broken) == [v for rule in verify.RULES for v in rule(plan, a)]


def test_membership_and_amounts_report_what_no_column_could_hold(
        baseline: tuple[Plan, pd.DataFrame]) -> None:
    plan, allocation = baseline
    odd = allocation.head(3).copy()
    odd.loc[odd.index[0], "entity"] = "NOWHERE"
    odd.loc[odd.index[1], "year"] = 1999
    odd.loc[odd.index[2], "amount"] = -1.0
    a = verify.Amounts(odd)
    assert {v.rule for v in verify.membership(plan, a)} == {"mandate", "year"}
    assert [v.rule for v in verify.amounts(plan, a)] == ["amounts"]
