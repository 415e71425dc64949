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


def test_ranging_warm_on_one_instance_finds_the_ends_of_probes_solved_from_scratch(
        project: Path) -> None:
    """The probes re-solved warm on one HiGHS instance (`_Warm`) and each from scratch (PuLP's
    HiGHS, which cannot take another program in place) give the same ends where the probes'
    optimum is unique (the tiny model)."""
    from alloc.explain.ranging import ranging
    from alloc.lp.solve import SolveOptions, solve_raw

    lp = build(load_plan("tiny", project))
    _, _, values, _ = solve_raw(lp)
    warm = ranging(lp, values)
    cold = ranging(lp, values, SolveOptions(solver="highs-pulp"))
    assert [(r.kind, r.code) for r in warm] == [(r.kind, r.code) for r in cold]
    for w, c in zip(warm, cold, strict=True):
        step = max(1e-3, 1e-4 * abs(w.value))
        for a, b in ((w.low, c.low), (w.high, c.high)):
            assert (a is None) == (b is None), (w, c)
            if a is not None and b is not None:
                assert a == pytest.approx(b, abs=step), (w, c)


def test_one_instance_answers_as_a_fresh_one_after_an_infeasible_probe(project: Path) -> None:
    from alloc.explain.program import _Warm
    from alloc.explain.ranging import _variant
    from alloc.lp.solve import SolveOptions, solve_raw

    plan = load_plan("tiny", project)
    lp = build(plan)
    warm = _Warm(lp, SolveOptions(quadratic=False))
    status, first = warm.solve(lp)
    assert status == "optimal" and warm.model is not None
    # no money at all in 2024: the floors cannot hold
    now = next(amount for label, _, amount in plan.ceiling_periods() if label == "2024")
    status, none = warm.solve(build(_variant(plan, "ceiling", "2024", 0.0, now)))
    assert status == "infeasible" and none is None and warm.model is None
    status, again = warm.solve(lp)
    _, _, fresh, _ = solve_raw(lp, SolveOptions(quadratic=False))
    assert status == "optimal" and again is not None and fresh is not None
    assert again == pytest.approx(fresh, abs=1e-9) and first == pytest.approx(fresh, abs=1e-9)


def test_the_ends_are_the_same_whatever_the_threads_and_the_order_of_items() -> None:
    """Each item's probes start from the plan's own optimal basis, so that neither the items
    probed before it nor the instance (thread) that probes it moves its ends: on the reference
    model, whose probes leave ties (so that where a solve starts matters), one thread, three
    threads and the items in reverse order give the very same ranges."""
    from alloc.explain.ranging import ranging
    from alloc.lp.solve import SolveOptions, solve_raw

    root = Path(__file__).resolve().parents[2]
    plan = load_plan("baseline", root)
    lp = build(plan)
    _, _, values, _ = solve_raw(lp, SolveOptions(quadratic=False))
    items = [("ceiling", label) for label, _, _ in plan.ceiling_periods()][:3]
    thematic = {p.code for p in plan.priorities if not p.support}
    items += [("target", t.code) for t in plan.targets
              if t.selection.priorities is not None and t.selection.priorities <= thematic][:3]
    one = ranging(lp, values, items=items, threads=1)
    three = ranging(lp, values, items=items, threads=3)
    backwards = ranging(lp, values, items=items[::-1], threads=1)[::-1]
    assert one == three == backwards
    assert all(r.probes > 0 for r in one)
