"""Ranging (`alloc.explain.ranging`): just inside each end the binding rules are the same, just
beyond they are not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alloc.lp.build import build
from alloc.model.domain import Plan
from alloc.model.load import load_plan


def test_ranging_ends_are_where_the_binding_rules_change(project: Path) -> None:
    from alloc.explain.prices import binding
    from alloc.explain.ranging import _variant, ranging
    from alloc.lp.solve import solve, solve_raw

    plan = load_plan("tiny", project)
    lp = build(plan)
    _, _, values, _ = solve_raw(lp)
    ranges = ranging(lp, values)
    assert {(r.kind, r.code) for r in ranges} == {("ceiling", "2024"), ("ceiling", "2025"),
                                                 ("target", "P1"), ("target", "P2")}

    def tight(p: Plan) -> frozenset[str] | None:
        solution = solve(build(p))
        if not solution.optimal:
            return None
        c = solution.constraints
        return frozenset(n for n, s, r, b, sl in zip(c["name"], c["sense"], c["rule"], c["bound"],
                                                     c["slack"], strict=True)
                         if s != "==" and binding(s, r, b, sl))

    now = tight(plan)
    for g in ranges:
        step = max(1e-3, 2e-4 * abs(g.value))
        for end, outward in ((g.low, -1.0), (g.high, 1.0)):
            if end is None:
                continue
            assert tight(_variant(plan, g.kind, g.code, end, g.value)) == now, (g, end)
            past = end + outward * step
            if past >= 0:
                assert tight(_variant(plan, g.kind, g.code, past, g.value)) != now, (g, past)
    # by hand: from a ceiling of 110 in 2024, A/P1 reaches its target of 70 and B's committed
    # floor stops binding; below 40 the support line (5) and B's floor (35) take it all
    c2024 = next(g for g in ranges if g.code == "2024")
    assert c2024.low == pytest.approx(40, abs=0.02) and c2024.high == pytest.approx(110, abs=0.02)
