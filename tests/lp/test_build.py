"""The LP's rows: named by us from domain keys, unique, each citing where the user wrote it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alloc.lp.build import RULE_GROUPS, build
from alloc.model.load import load_plan

REPO = Path(__file__).resolve().parents[2]
NAME = re.compile(r"^[a-z_]+\[[^\]]+\]$")


@pytest.mark.parametrize("scenario", ["baseline", "cyber-standalone", "eb-high", "zrg"])
def test_row_names_are_unique_domain_keys(scenario: str) -> None:
    lp = build(load_plan(scenario, REPO))
    names = list(lp.row_names)
    assert len(names) == len(set(names)) == lp.n_rows
    assert all(NAME.match(n) for n in names), [n for n in names if not NAME.match(n)][:5]
    assert {r.rule for r in lp.rows} <= set(RULE_GROUPS)
    hard = [r for r in lp.rows if r.rule not in ("target", "reference")]
    assert all(r.source for r in hard), [r.name for r in hard if not r.source][:5]


def test_every_rule_group_of_the_design_is_built() -> None:
    lp = build(load_plan("baseline", REPO))
    assert {"ceiling", "envelope", "committed", "bound", "stability", "fund", "cell",
            "requirement", "reference"} <= {r.rule for r in lp.rows}
    requirement = next(r for r in lp.rows if r.name.startswith("requirement["))
    assert re.match(r"models/itu-2024-2027/requirements\.csv: line \d+$", requirement.source)
    tiny = build(load_plan("tiny", REPO / "tests" / "project"))
    assert "target" in {r.rule for r in tiny.rows}
    ceiling = [r for r in lp.rows if r.rule == "ceiling"]
    assert [r.name for r in ceiling] == ["ceiling[2024]", "ceiling[2025]", "ceiling[2026]",
                                          "ceiling[2027]"]
    assert all(r.sense == "==" for r in ceiling)
    assert "financial-plan.toml" in ceiling[0].source


def test_programs_built_from_kept_requirement_arrays_equal_those_built_afresh(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The requirements' arrays are kept by the identity of the objects a variant shares with its
    plan: a variant with other requirements (equal in number) gets its own, never the kept ones,
    and a program built from kept arrays is the one built without them."""
    import dataclasses

    import numpy as np

    from alloc.lp import build as building

    plan = load_plan("baseline", REPO)
    halved = dataclasses.replace(plan, requirements=tuple(
        dataclasses.replace(r, amount=r.amount / 2) for r in plan.requirements))

    def arrays(lp: building.LinearProgram) -> tuple[np.ndarray, ...]:
        start, index, value = lp.matrix()
        return start, index, value, lp.rhs, np.concatenate([lv.coefs for lv in lp.levels])

    kept = [arrays(build(p)) for p in (plan, halved, plan)]   # the second and third from the cache
    assert not np.array_equal(kept[0][3], kept[1][3])         # halved requirements: other bounds
    monkeypatch.setattr(building, "_REQUIREMENT_ARRAYS", {})
    for p, got in zip((plan, halved), kept, strict=False):
        monkeypatch.setattr(building, "_REQUIREMENT_ARRAYS", {})
        for a, b in zip(arrays(build(p)), got, strict=True):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(kept[0], kept[2], strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("scenario", ["baseline", "zrg"])
def test_a_row_head_is_the_row_without_its_coefficients(scenario: str) -> None:
    """`row_head` (what the rule sentences read for tens of thousands of rules) says of every
    row what `row` says."""
    lp = build(load_plan(scenario, REPO))
    for i in range(lp.n_rows):
        row, head = lp.row(i), lp.row_head(i)
        assert (head.name, head.rule, head.sense, head.source) == (
            row.name, row.rule, row.sense, row.source)


def test_the_years_of_a_period_are_those_the_plan_lists() -> None:
    """The years a rule's period label names, against `Plan.periods` (a year, then a biennium,
    then the plan; nothing for a label of none)."""
    from alloc.explain.words import _years

    plan = load_plan("baseline", REPO)
    labels = {label: ys for kind in ("plan", "biennium", "year")
              for label, ys in plan.periods(kind)}
    for label, ys in labels.items():
        assert _years(plan, label) == tuple(ys)
    assert _years(plan, "1999") == () and _years(plan, "") == ()
