"""The reference model's costed requirements (issue 12): illustrative, but held to what the model,
its scenarios and docs/model-format.md say of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from alloc.model.domain import Plan
from alloc.model.load import load_plan

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def baseline() -> Plan:
    return load_plan("baseline", REPO)


def test_requirements_exceed_what_the_baseline_can_pay_by_5_to_15_percent(baseline: Plan) -> None:
    """Every year: requirements against the ceiling plus the funds' expected direct receipts, the
    figures docs/model-format.md and model.toml state."""
    excess = {y: baseline.requirement_total(y)
              / (baseline.ceiling(y) + sum(f.direct(y) for f in baseline.funds)) - 1
              for y in baseline.years}
    assert all(0.05 < e < 0.15 for e in excess.values()), excess
    assert [round(100 * excess[y], 1) for y in baseline.years] == [8.6, 9.0, 12.0, 13.7]


def test_committed_costs_and_cell_floors_are_covered_by_core(baseline: Plan) -> None:
    """A committed cost (minimum) or a cell floor without a requirement under it would spend money
    that buys no value."""
    core = {(r.cell, r.year): r.amount for r in baseline.requirements if r.tranche == "core"}
    need: dict[tuple[tuple[str, str, str], int], float] = {}
    for c in baseline.commitments:
        if c.kind != "minimum":
            continue
        (cell,) = [m.cell for m in baseline.mandate if c.selection.admits(m.cell)]
        for y, amount in c.amounts.items():
            need[(cell, y)] = need.get((cell, y), 0.0) + amount
    for m in baseline.mandate:
        for y, amount in m.min.items():
            need[(m.cell, y)] = need.get((m.cell, y), 0.0) + amount
    assert need
    assert {k: v for k, v in need.items() if core.get(k, 0.0) < v} == {}


def test_every_core_outranks_every_current_and_every_current_every_enhanced(baseline: Plan) -> None:
    """rules.toml: a cut takes enhanced levels first, then current service, core last."""
    values = {t.code: [r.value for r in baseline.requirements if r.tranche == t.code]
              for t in baseline.valuation.tranches}
    assert [t.code for t in baseline.valuation.tranches] == ["core", "current", "enhanced"]
    assert min(values["core"]) > max(values["current"])
    assert min(values["current"]) > max(values["enhanced"])


def test_weights_come_from_the_goals_and_the_support_lines(baseline: Plan) -> None:
    weights = {p: round(w, 3) for p, w in baseline.valuation.weights.items()}
    assert weights == {"TP1": 1.16, "TP2": 1.18, "TP3": 1.14, "TP4": 1.04, "TP5": 1.08,
                       "EN1": 1.0, "EN2": 0.9, "EN3": 0.8, "EN4": 0.8, "EN5": 0.9, "EN6": 0.9,
                       "EN7": 1.0}
    assert not baseline.targets, "no target is typed in to force the shares"


def test_every_cell_has_requirements(baseline: Plan) -> None:
    assert {r.cell for r in baseline.requirements} == {m.cell for m in baseline.mandate}


def test_cyber_standalone_moves_requirements_to_tp6() -> None:
    """The new priority competes with its own requirements; the total grows only by its new work."""
    base, cyber = load_plan("baseline", REPO), load_plan("cyber-standalone", REPO)
    tp6 = {r.cell for r in cyber.requirements if r.cell.priority == "TP6"}
    assert tp6 == {m.cell for m in cyber.mandate if m.cell.priority == "TP6"}
    assert round(cyber.valuation.weights["TP6"], 3) == 1.12
    for y in base.years:
        assert cyber.requirement_total(y) - base.requirement_total(y) == pytest.approx(1200, abs=5)
    assert not cyber.targets


def test_innovation_security_goals_changes_the_weights() -> None:
    plan = load_plan("innovation-security-goals", REPO)
    weights = {p: round(plan.valuation.weights[p], 3) for p in ("TP1", "TP2", "TP3", "TP4", "TP5")}
    assert weights == {"TP1": 1.18, "TP2": 1.235, "TP3": 1.255, "TP4": 1.1, "TP5": 1.125}
