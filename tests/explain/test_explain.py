"""Issue 5: "why this number?" Every claim `alloc.explain.core` makes is checked by an independent solve
(tests/lp_oracle.py hands the built LP to HiGHS directly).

- Diagnoses, on random infeasible models derived from `strategies.feasible_models` (a ceiling
  cut, a floor or committed cost raised, a fund made must-spend beyond its use) and on the shipped
  examples: relaxing the named rules by the stated amounts makes the model feasible; relaxing all
  of them but any one does not.
- Shadow prices on the tiny model: against finite differences of the optimum, and against the
  hand solution of tests/test_golden.py.
- Room for manoeuvre: each end is reached within tolerance, and just beyond it is not.
- Ranging: just inside each end the binding rules are the same, just beyond they are not.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from lp_oracle import EQ, GE, LE, feasible, minimise, relaxed_rhs
from strategies import GeneratedModel, feasible_models

from alloc.errors import InputError
from alloc.explain.core import amount_text, diagnose_infeasible, short_source
from alloc.lp.build import RULE_GROUPS, LinearProgram, build
from alloc.model.domain import CeilingAdjustment, Plan
from alloc.model.load import load_plan

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("ALLOC_EXPLAIN_EXAMPLES", "25"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# --- checking a diagnosis --------------------------------------------------------------------------

def assert_repairs(lp: LinearProgram, context: Sequence[Mapping], moves: Sequence[Mapping]) -> None:
    """Relaxing `moves` (with `context`) makes the LP feasible; leaving out any one does not."""
    assert moves, "a remedy names at least one rule"
    assert feasible(lp, relaxed_rhs(lp, [*context, *moves])), "the relaxation does not work"
    for k, m in enumerate(moves):
        assert m["amount"] > 0 and m["change"] in ("raise", "lower")
        others = [x for j, x in enumerate(moves) if j != k]
        assert not feasible(lp, relaxed_rhs(lp, [*context, *others])), (
            f"{m['name']} need not move: the set is not minimal")


def assert_diagnosis(lp: LinearProgram) -> dict:
    diagnosis = diagnose_infeasible(lp)
    record = diagnosis.record()
    with contextlib.suppress(InvalidArgument):  # outside a property test there is nothing to note
        note(record["message"])
        event(f"{len(record['conflicts'])} conflict(s)")
    assert record["conflicts"], "an infeasible model has at least one conflict"
    assert_repairs(lp, [], record["repair"]["moves"])
    for conflict in record["conflicts"]:
        assert conflict["remedies"]
        for remedy in conflict["remedies"]:
            assert_repairs(lp, conflict["context"], remedy["moves"])
            for m in remedy["moves"]:
                assert m["source"], f"{m['name']} is not traced to a file and key"
                assert short_source(m["source"]) in conflict["message"]
                assert f"by {amount_text(m['amount'])}" in remedy["text"]
    return record


# --- random infeasible models ----------------------------------------------------------------------

@contextlib.contextmanager
def written(model: GeneratedModel) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="alloc-explain-") as tmp:
        model.write(Path(tmp))
        yield Path(tmp)


def broken(plan: Plan, how: str, factor: float, pick: int) -> Plan:
    """The plan with one rule pushed past what the others allow."""
    years = plan.years
    y = years[pick % len(years)]
    if how == "cut":
        cut = CeilingAdjustment("test_cut", "test cut", {y: -factor * max(plan.ceiling(y), 1.0)})
        return dataclasses.replace(plan, adjustments=(*plan.adjustments, cut))
    if how == "floor":
        push = factor * (sum(plan.ceiling(x) for x in years) + 10.0)
        floors = [("c", k) for k, c in enumerate(plan.commitments) if c.kind != "cap"]
        floors += [("b", k) for k, b in enumerate(plan.bounds) if b.min is not None]
        floors += [("e", k) for k, e in enumerate(plan.envelopes) if e.min]
        if not floors:
            return plan
        kind, k = floors[pick % len(floors)]
        if kind == "c":
            c = plan.commitments[k]
            changed = dataclasses.replace(c, amounts={x: a + push for x, a in c.amounts.items()})
            return dataclasses.replace(plan, commitments=tuple(
                changed if j == k else x for j, x in enumerate(plan.commitments)))
        if kind == "b":
            b = plan.bounds[k]
            return dataclasses.replace(plan, bounds=tuple(
                dataclasses.replace(b, min=(b.min or 0.0) + push) if j == k else x
                for j, x in enumerate(plan.bounds)))
        e = plan.envelopes[k]
        changed = dataclasses.replace(e, min={x: a + push for x, a in e.min.items()})
        return dataclasses.replace(plan, envelopes=tuple(
            changed if j == k else x for j, x in enumerate(plan.envelopes)))
    if not plan.funds:
        return plan
    f = plan.funds[pick % len(plan.funds)]
    changed = dataclasses.replace(f, must_spend=True, pledges={
        x: (f.pledges.get(x, 0.0) + 1.0) * (1.0 + 3.0 * factor) for x in years})
    return dataclasses.replace(plan, funds=tuple(changed if x.code == f.code else x
                                                 for x in plan.funds))


@PROPERTY
@given(model=feasible_models(), how=st.sampled_from(["cut", "floor", "must_spend"]),
       factor=st.sampled_from([0.4, 1.0, 2.5]), pick=st.integers(0, 50))
def test_every_diagnosis_is_a_minimal_repair(model: GeneratedModel, how: str, factor: float,
                                             pick: int) -> None:
    with written(model) as root:
        try:
            plan = load_plan(model.scenario, root)
        except InputError:
            assume(False)
    lp = build(broken(plan, how, factor, pick))
    assume(not feasible(lp))
    assert_diagnosis(lp)


# --- the tiny model and the shipped examples -------------------------------------------------------

def tiny(project: Path, **changes: object) -> Plan:
    return dataclasses.replace(load_plan("tiny", project), **changes)


def test_a_committed_cost_above_the_ceiling_is_told_with_both_ways_out(project: Path) -> None:
    plan = load_plan("tiny", project)
    b_floor = plan.commitments[0]
    plan = dataclasses.replace(plan, commitments=(
        dataclasses.replace(b_floor, amounts={2024: 500.0}), *plan.commitments[1:]))
    lp = build(plan)
    record = assert_diagnosis(lp)
    (conflict,) = record["conflicts"]
    assert {r["name"]: r["role"] for r in conflict["rules"]} == {
        "ceiling[2024]": "limit", "committed[b_floor,2024]": "requirement"}
    # 500 for B and exactly 5 for the support line, against a ceiling of 100
    need = 500 + 5 - 100
    ways = [(r["moves"][0]["name"], r["moves"][0]["change"], r["moves"][0]["amount"])
            for r in conflict["remedies"]]
    assert ways == [("ceiling[2024]", "raise", need), ("committed[b_floor,2024]", "lower", need)]
    assert conflict["message"].startswith(
        "The committed cost 'B's committed cost on P2' needs 505 (CHF thousands) in 2024, with "
        "the other rules, but the ceiling for 2024 is 100: raise the ceiling for 2024 [")
    assert "models/tiny/rules.toml: committed.b_floor] by 405." in conflict["message"]


# --- the shipped examples --------------------------------------------------------------------------

def example(name: str) -> LinearProgram:
    return build(load_plan(f"examples/{name}", REPO))


def single_moves(remedy: Mapping) -> list[tuple[str, str]]:
    return [(m["name"], m["change"]) for m in remedy["moves"]]


def assert_least(lp: LinearProgram, context: Sequence[Mapping], moves: Sequence[Mapping]) -> None:
    """The stated amounts cannot be shaved: a thousandth less on every rule is not enough."""
    shaved = [{**m, "amount": m["amount"] * (1 - 1e-5) - 2e-3} for m in moves]
    assert not feasible(lp, relaxed_rhs(lp, [*context, *shaved]))


def test_example_floors_above_the_ceiling() -> None:
    lp = example("floors-above-ceiling")
    record = assert_diagnosis(lp)
    (conflict,) = record["conflicts"]
    message = conflict["message"]
    assert message.startswith("The floors on the five thematic priorities need ")
    assert " in 2026-2027, with the other rules, but the ceiling for 2026-2027 is 341,360.4: " \
        "raise the ceiling for 2026-2027 [" in message
    raise_ceiling, lower_floors = conflict["remedies"]
    assert single_moves(raise_ceiling) == [("ceiling[2026-2027]", "raise")]
    assert sorted(single_moves(lower_floors)) == [
        (f"bound[floor_tp{k},2026-2027,min]", "lower") for k in range(1, 6)]
    for k in range(1, 6):
        assert f"rules.bounds.floor_tp{k}]" in message
    for remedy in (raise_ceiling, lower_floors):
        assert_least(lp, [], remedy["moves"])
    # the floors share the cut in proportion to their size, as far as the rules allow
    cuts = {m["name"]: m["amount"] / m["bound"] for m in lower_floors["moves"]}
    assert max(cuts.values()) - min(cuts.values()) < 1e-4
    # 2024-2025 is not in conflict: its ceiling is higher (the Reserve Account draws continue)
    assert all("2024-2025" not in r["name"] for r in conflict["rules"])


def test_example_committed_cost_above_the_envelope() -> None:
    lp = example("committed-above-envelope")
    record = assert_diagnosis(lp)
    (conflict,) = record["conflicts"]
    assert {(r["name"], r["role"]) for r in conflict["rules"]} == {
        ("envelope_max[BR,2027]", "limit"), ("committed[wrc27,2027]", "requirement")}
    raise_envelope, lower_wrc = conflict["remedies"]
    assert single_moves(raise_envelope) == [("envelope_max[BR,2027]", "raise")]
    assert single_moves(lower_wrc) == [("committed[wrc27,2027]", "lower")]
    assert raise_envelope["moves"][0]["amount"] == lower_wrc["moves"][0]["amount"]
    for remedy in (raise_envelope, lower_wrc):
        assert_least(lp, [], remedy["moves"])
    plan = lp.plan
    cap = 0.22 * plan.ceiling(2027)  # BR's max_share of the 2027 ceiling
    assert raise_envelope["moves"][0]["bound"] == pytest.approx(cap)
    assert conflict["message"].startswith(
        "The committed cost 'World Radiocommunication Conference 2027 (WRC-27)' needs ")
    assert "but the envelope of BR for 2027 is 38,880.644: raise the envelope of BR for 2027 [" \
        "models/itu-2024-2027/rules.toml: envelopes.BR] by " in conflict["message"]
    assert "committed.wrc27 (changed by scenarios/examples/committed-above-envelope.toml)" in \
        conflict["message"]


def test_example_unusable_earmarked_fund() -> None:
    lp = example("unusable-earmarked-fund")
    record = assert_diagnosis(lp)
    (conflict,) = record["conflicts"]  # one fund in four years, told once
    fund = lp.plan.fund("spectrum_monitoring")
    moves = conflict["remedies"][0]["moves"]
    assert [(m["name"], m["change"], m["amount"]) for m in moves] == [
        (f"fund[spectrum_monitoring,{y}]", "lower", pytest.approx(fund.available(y)))
        for y in lp.plan.years]
    assert {r["role"] for r in conflict["rules"]} == {"requirement"}
    message = conflict["message"]
    assert message.startswith("The expected receipts to spend of 'Spectrum monitoring projects "
                              "fund' in 2024, 2025, 2026 and 2027 cannot be spent: nothing in "
                              "the mandate can take the money: lower these")
    assert "financial_plan.funds.spectrum_monitoring" in message
    assert "widen the earmark, add a cell to the mandate, or set must_spend = false" in message


# --- shadow prices ---------------------------------------------------------------------------------

def level_objective(lp: LinearProgram, k: int, scale: float = 1.0) -> dict[int, float]:
    level = lp.levels[k]
    return {int(c): float(a) / scale for c, a in zip(level.cols, level.coefs, strict=True)}


def level_scale(lp: LinearProgram, k: int) -> float:
    """The largest cost of a level: rows bounding it are divided by it, so that the referee's
    feasibility tolerance (1e-7) stays a tolerance on amounts, not on costs near 1e-5."""
    return float(np.abs(lp.levels[k].coefs).max()) or 1.0


def held(lp: LinearProgram, upto: int, optimum: Sequence[float]) -> list:
    """Rows keeping each level before `upto` at its optimum, as the solver holds them."""
    tol = lp.plan.level_tolerance
    return [(LE, z * (1 + tol) + tol, level_objective(lp, k)) for k, z in enumerate(optimum[:upto])]


def lexicographic(lp: LinearProgram, rhs: np.ndarray | None = None, upto: int | None = None,
                  exact: bool = False) -> list[float]:
    """Optima of the levels before the tie-break, each solved with the earlier ones held as the
    solver holds them (`exact`: at their optimum, to solver noise, as holding the optimal face
    does)."""
    goals = [k for k, level in enumerate(lp.levels) if level.name != "reference"]
    optimum: list[float] = []
    for k in goals[:upto]:
        hold = ([(LE, (z + 1e-9 * max(1.0, abs(z))) / level_scale(lp, j),
                  level_objective(lp, j, level_scale(lp, j))) for j, z in enumerate(optimum)]
                if exact else held(lp, k, optimum))
        z = minimise(lp, rhs, level_objective(lp, k), hold)
        assert z is not None
        optimum.append(z)
    return optimum


def assert_prices_are_slopes(lp: LinearProgram, delta: float = 0.01) -> np.ndarray:
    """Each price lies between the left and right slopes of the final goal level's optimum (its
    subgradient), and equals both where they agree; returns the prices."""
    from alloc.explain.core import shadow_prices
    from alloc.lp.solve import solve

    solution = solve(lp)
    prices = shadow_prices(lp, solution.objectives)
    goals = [k for k, level in enumerate(lp.levels) if level.name != "reference"]
    last = goals[-1]
    earlier = lexicographic(lp, upto=len(goals) - 1)
    objective = level_objective(lp, last)
    base = minimise(lp, None, objective, held(lp, last, earlier))
    assert base == pytest.approx(prices.objective, abs=1e-7)
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
    from alloc.explain.core import shadow_prices
    from alloc.lp.solve import solve

    assert shadow_prices(lp, solve(lp).objectives).level == "level 2"
    assert_prices_are_slopes(lp)


# --- room for manoeuvre ----------------------------------------------------------------------------

def assert_rooms(lp: LinearProgram, tolerance: float) -> list:
    """Each end of each range is reached with every goal level within tolerance of its optimum;
    a little beyond either end is not."""
    from alloc.explain.core import _group_cols, flexibility
    from alloc.lp.solve import solve

    solution = solve(lp)
    assert solution.optimal
    rooms = flexibility(lp, solution.objectives, None, tolerance)
    goals = [k for k, level in enumerate(lp.levels) if level.name != "reference"]
    optimum = lexicographic(lp, exact=True)

    level_tol = lp.plan.level_tolerance

    def within(slack: float) -> list:
        """Every goal level within tolerance of its optimum; a level before the last at least
        as loose as the solve held it (its optimum x (1 + level tolerance) + level tolerance)."""
        out = []
        for j, (k, z) in enumerate(zip(goals, optimum, strict=True)):
            bound = z + tolerance * abs(z) + slack * max(1.0, abs(z))
            if j < len(goals) - 1:
                bound = max(bound, z * (1 + level_tol) + level_tol + slack)
            out.append((LE, bound / level_scale(lp, k), level_objective(lp, k, level_scale(lp, k))))
        return out

    for room in rooms:
        cols = {int(c): 1.0 for c in _group_cols(lp, room.kind, room.code)}
        assert room.low <= room.high
        for end, outward in ((room.low, -1.0), (room.high, 1.0)):
            # the end itself, to the millionth at which it is reported
            band = 1e-6 * max(1.0, abs(end))
            at = [(GE, end - band, cols), (LE, end + band, cols), *within(1e-6)]
            assert minimise(lp, None, None, at) is not None, f"{room.code} cannot reach {end}"
            step = max(1e-3, 1e-6 * abs(end))
            beyond = end + outward * step
            if beyond < 0:
                continue  # amounts are never negative: nothing beyond zero to try
            past = [(EQ, beyond, cols), *within(0.0)]
            assert minimise(lp, None, None, past) is None, f"{room.code} can go past {end}"
    return rooms


def test_room_for_manoeuvre_of_the_tiny_model(project: Path) -> None:
    lp = build(load_plan("tiny", project))
    rooms = assert_rooms(lp, 0.01)
    assert {(r.kind, r.code) for r in rooms} == {("priority", "P1"), ("priority", "P2"),
                                                 ("entity", "A"), ("entity", "B")}
    # with no tolerance, what the hand solution forces: A/P1 and A/S1 (5 a year) are fixed by
    # the ceiling, B's floor and A's envelope; nothing can move without raising the shortfall
    for room in assert_rooms(lp, 0.0):
        assert room.forced, room


@settings(PROPERTY, max_examples=max(3, EXAMPLES // 4))
@given(model=feasible_models(), tolerance=st.sampled_from([0.0, 0.01, 0.2]))
def test_room_for_manoeuvre_on_random_models(model: GeneratedModel, tolerance: float) -> None:
    with written(model) as root:
        try:
            plan = load_plan(model.scenario, root)
        except InputError:
            assume(False)
    assert_rooms(build(plan), tolerance)


# --- ranging ---------------------------------------------------------------------------------------

def test_ranging_ends_are_where_the_binding_rules_change(project: Path) -> None:
    from alloc.explain.core import _variant, binding, ranging
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


# --- the command -------------------------------------------------------------------------------------

def alloc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alloc", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def sheet_rows(path: Path, title: str) -> list[tuple]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    return list(book[title].iter_rows(values_only=True))


def test_run_writes_every_rule_with_its_price(project: Path) -> None:
    from alloc.explain.core import shadow_prices
    from alloc.lp.solve import solve

    result = alloc("run", "tiny", cwd=project)
    assert result.returncode == 0, result.stderr
    folder = project / "reports" / "tiny"
    frame = pd.read_csv(folder / "constraints.csv")
    assert list(frame.columns) == ["rule", "name", "source", "activity", "bound", "slack",
                                   "shadow_price"]
    lp = build(load_plan("tiny", project))
    rules = [n for n, r in zip(lp.row_names, lp.rules, strict=True)
             if RULE_GROUPS[r] != "reference"]
    assert list(frame["name"]) == rules
    prices = shadow_prices(lp, solve(lp).objectives)
    expected = dict(zip(lp.row_names, prices.prices, strict=True))
    for name, price in zip(frame["name"], frame["shadow_price"], strict=True):
        assert price == pytest.approx(expected[name], abs=1e-9)
    rows = sheet_rows(folder / "appendix-a.xlsx", "Constraints")
    notes = " ".join(str(r[0]) for r in rows[:4])
    assert "final goal-programming level" in notes and "degenerate" in notes
    header = next(k for k, r in enumerate(rows) if r[0] == "Binding")
    flags = [r[0] == "yes" for r in rows[header + 1:]]
    assert flags == sorted(flags, reverse=True), "binding rules come first"
    assert sum(flags) == 8
    sentences = {r[2]: r[3] for r in rows[header + 1:]}
    assert sentences["ceiling[2024]"] == (
        "Binding: each extra CHF thousand of ceiling for 2024 would reduce the weighted shortfall "
        "and excess against the level-1 targets by 0.02857.")


def test_explain_prints_and_writes_the_room_and_the_ranges(project: Path) -> None:
    result = alloc("explain", "tiny", "--cell", "B/P2/O", "--tolerance", "0.05", cwd=project)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in ("binding rules: 8 of 8", "room for manoeuvre", "within 5.0% of its optimum",
                 "ranging", "cell B/P2/O: 77 (CHF thousands)", "targets it counts in:",
                 "target[P2,2025]"):
        assert text in out, text
    folder = project / "reports" / "tiny"
    room = pd.read_csv(folder / "flexibility.csv")
    assert list(room.columns) == ["kind", "code", "name", "amount", "low", "high", "room",
                                  "forced", "tolerance"]
    assert set(room["code"]) == {"P1", "P2", "A", "B"} and (room["tolerance"] == 0.05).all()
    assert ((room["low"] <= room["amount"] + 1e-6) & (room["amount"] <= room["high"] + 1e-6)).all()
    ranges = pd.read_csv(folder / "ranging.csv")
    assert set(zip(ranges["kind"], ranges["code"].astype(str), strict=True)) == {
        ("ceiling", "2024"), ("ceiling", "2025"), ("target", "P1"), ("target", "P2")}
    titles = [r[0] for r in sheet_rows(folder / "appendix-a.xlsx", "Flexibility")]
    assert any(str(t).startswith("Room for manoeuvre") for t in titles)
    assert sheet_rows(folder / "appendix-a.xlsx", "Ranging")


def test_explain_refuses_a_cell_outside_the_mandate(project: Path) -> None:
    result = alloc("explain", "tiny", "--cell", "B/P2/0", cwd=project)
    assert result.returncode == 2
    assert "--cell" in result.stderr and "did you mean 'B/P2/O'" in result.stderr


@pytest.mark.parametrize("name", ["floors-above-ceiling", "committed-above-envelope",
                                  "unusable-earmarked-fund"])
def test_infeasible_examples_exit_1_with_the_diagnosis(project: Path, name: str) -> None:
    shutil.copytree(REPO / "scenarios" / "examples", project / "scenarios" / "examples")
    result = alloc("run", f"examples/{name}", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    folder = project / "reports" / name
    diagnosis = json.loads((folder / "infeasibility.json").read_text())
    assert diagnosis["status"] == "infeasible" and diagnosis["scenario"] == name
    for conflict in diagnosis["conflicts"]:
        assert conflict["message"] in result.stdout
    run = json.loads((folder / "run.json").read_text())
    assert run["status"] == "infeasible" and run["message"] == diagnosis["message"]
    assert not (folder / "allocation.csv").exists()
    text = (REPO / "scenarios" / "examples" / f"{name}.toml").read_text()
    assert text.startswith("#") and "Question" in text


def test_explain_of_an_infeasible_scenario_gives_the_same_diagnosis(project: Path) -> None:
    shutil.copytree(REPO / "scenarios" / "examples", project / "scenarios" / "examples")
    result = alloc("explain", "examples/committed-above-envelope", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    diagnosis = json.loads((project / "reports" / "committed-above-envelope" /
                            "infeasibility.json").read_text())
    assert diagnosis["message"] in result.stdout
    assert diagnosis["repair"]["moves"][0]["name"] == "envelope_max[BR,2027]"
