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
