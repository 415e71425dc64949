"""The LP's rows: named by us from domain keys, unique, each citing where the user wrote it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alloc.lp import build as building
from alloc.lp.build import RULE_GROUPS, LinearProgram, build
from alloc.model.domain import Plan
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
    monkeypatch.setattr(building, "_REQUIREMENT_ARRAYS", building._Kept())
    for p, got in zip((plan, halved), kept, strict=False):
        monkeypatch.setattr(building, "_REQUIREMENT_ARRAYS", building._Kept())
        for a, b in zip(arrays(build(p)), got, strict=True):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(kept[0], kept[2], strict=True):
        np.testing.assert_array_equal(a, b)


def program_parts(lp: LinearProgram) -> dict[str, object]:
    """Everything a program states: matrix, bounds, rule groups, every name, source and sentence,
    and its levels."""
    start, index, value = lp.matrix()
    return {"start": start, "index": index, "value": value, "senses": lp.senses, "rhs": lp.rhs,
            "rules": lp.rules, "row_names": list(lp.row_names), "row_texts": list(lp.row_texts),
            "row_sources": list(lp.row_sources), "col_names": list(lp.col_names),
            "levels": [(lv.name, lv.role, lv.cols, lv.coefs, lv.constant, lv.quadratic, lv.text)
                       for lv in lp.levels], "funded": lp.funded}


def assert_same_program(a: LinearProgram, b: LinearProgram) -> None:
    for (key, x), y in zip(program_parts(a).items(), program_parts(b).values(), strict=True):
        if key == "levels":
            assert len(x) == len(y)
            for la, lb in zip(x, y, strict=True):
                for u, v in zip(la, lb, strict=True):
                    np.testing.assert_array_equal(np.asarray(u, dtype=object),
                                                  np.asarray(v, dtype=object), err_msg=key)
        elif isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=key)
        else:
            assert x == y, key


def built_afresh(plan: Plan, monkeypatch: pytest.MonkeyPatch) -> LinearProgram:
    """The program built without any rows kept from an earlier build."""
    with monkeypatch.context() as m:
        m.setattr(building, "_ROWS", building._Kept())
        m.setattr(building, "_REQUIREMENT_ARRAYS", building._Kept())
        m.setattr(building, "KEEP_ROWS_COLUMNS", -1)
        return build(plan)


@pytest.mark.parametrize("scenario", ["baseline", "zrg", "cyber-standalone"])
def test_programs_built_from_kept_rows_are_those_built_afresh(
        scenario: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule groups' rows kept from one build and added to the next (explain's variants): the
    same program as one built afresh, for the plan itself and for variants that move its ceiling
    or a target (which share every other part of it), built in any order."""
    from alloc.explain.reductions import plan_with_ceiling

    monkeypatch.setattr(building, "_ROWS", building._Kept())
    plan = load_plan(scenario, REPO)
    variants = [plan, plan_with_ceiling(plan, -0.03), plan, plan_with_ceiling(plan, 0.02)]
    if plan.targets:
        t = plan.targets[0]
        variants.append(dataclasses.replace(plan, targets=(
            dataclasses.replace(t, share=(t.share or 0.1) * 1.1), *plan.targets[1:])))
    for variant in variants:
        assert_same_program(build(variant), built_afresh(variant, monkeypatch))


KEPT_PARTS = ["envelopes", "commitments", "bounds", "stability", "funds", "mandate", "biennia",
              "sources"]


@pytest.mark.parametrize("part", KEPT_PARTS)
def test_a_variant_with_another_part_gets_rows_of_its_own(
        part: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A variant whose envelopes, committed costs, bounds, stability rule, funds, mandate, biennia
    or sources are other objects (changed, or equal but new) never gets the rows kept for the
    plan: its program is the one built afresh."""
    monkeypatch.setattr(building, "_ROWS", building._Kept())
    plan = load_plan("baseline", REPO)
    value = getattr(plan, part)
    changed = _changed(part, value)
    kept = build(plan)                                # the plan's rows kept
    for other in (changed, _copied(value)):
        variant = dataclasses.replace(plan, **{part: other})
        assert_same_program(build(variant), built_afresh(variant, monkeypatch))
    if part != "biennia":   # (the baseline's bounds are yearly: other biennia change no row)
        with pytest.raises(AssertionError):   # the change is one the rows show
            assert_same_program(build(dataclasses.replace(plan, **{part: changed})), kept)


def _copied(value: Any) -> Any:
    """An equal part, another object."""
    if isinstance(value, tuple):
        return (*value,)
    if isinstance(value, dict):
        return dict(value)
    return dataclasses.replace(value)


def _changed(part: str, value: Any) -> Any:
    """The part with one number (or text) changed; the biennia only as equal new objects (the
    baseline's bounds are yearly: no row reads them)."""
    if part == "sources":
        return {k: f"elsewhere: {v}" for k, v in value.items()}
    if part == "biennia":
        return {k: tuple(v) for k, v in value.items()}
    if part == "stability":
        return dataclasses.replace(value, max_change=value.max_change / 2)
    first = value[0]
    if part == "funds":
        pledges = {y: a * 2 for y, a in first.pledges.items()}
        return (dataclasses.replace(first, pledges=pledges), *value[1:])
    if part == "mandate":
        m = next(m for m in value if m.min or m.max)
        i = value.index(m)
        return (*value[:i], dataclasses.replace(m, min={}, max={}), *value[i + 1:])
    if part == "envelopes":
        return (dataclasses.replace(first, min={y: a / 2 for y, a in first.min.items()}),
                *value[1:])
    if part == "commitments":
        return (dataclasses.replace(first, amounts={y: a / 2 for y, a in first.amounts.items()}),
                *value[1:])
    b = next(b for b in value if b.min is not None or b.max is not None)
    i = value.index(b)
    return (*value[:i], dataclasses.replace(b, min=None if b.min is None else b.min / 2,
                                            max=None if b.max is None else b.max * 2),
            *value[i + 1:])


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
