"""`alloc sweep`: a variant solved warm is the fresh run of the same parameters, and the outputs.

The fresh runs are real scenario files (parent: baseline) with the variant's values written as
overrides, loaded, built and solved from scratch: they share no state with the sweep's HiGHS
instance.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tomllib
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from alloc.cli import main
from alloc.lp.build import build
from alloc.lp.solve import allocation_frame, solve
from alloc.model.load import load_plan
from alloc.model.scenario import resolve
from alloc.model.validate import validate
from alloc.options import parse_values
from alloc.sweep.core import (
    BLOCK,
    Engine,
    Parameter,
    Sweep,
    derive_plan,
    grid,
    monte_carlo,
    run_variants,
    variant_document,
)

MODEL = "itu-2024-2027"
TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent


def _toml(value: object) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + " }"
    return repr(float(value)) if isinstance(value, int | float) else repr(value)


def write_fresh_scenario(project: Path, name: str, parameters: list[Parameter],
                         values: tuple[float, ...]) -> None:
    """The variant as a scenario file a user could have written."""
    lines = ["[scenario]", 'parent = "baseline"', f'title = "{name}"', ""]
    plan_file = project / "models" / MODEL / "financial-plan.toml"
    revenue = tomllib.loads(plan_file.read_text())["revenue"]
    for p, value in zip(parameters, values, strict=True):
        if p.path is None:
            for code, line in revenue.items():
                key = "units" if "units" in line else "amount"
                raw = line[key]
                scaled = ({y: v * value for y, v in raw.items()} if isinstance(raw, dict)
                          else raw * value)
                lines += [f"[financial_plan.revenue.{code}]", f"{key} = {_toml(scaled)}", ""]
        else:
            *table, key = p.path
            lines += [f"[{'.'.join(table)}]", f"{key} = {_toml(value)}", ""]
    (project / "scenarios" / f"{name}.toml").write_text("\n".join(lines))


GRID = [
    (Parameter("receipt_rate[development_trust]",
               ("financial_plan", "funds", "development_trust", "receipt_rate")), [0.55, 0.95]),
    (Parameter("goal_weight[G1]", ("rules", "objective", "goal_weights", "G1")), [1.0, 1.4]),
    (Parameter("ceiling_factor", None), [0.97, 1.0]),
]


def test_a_variant_is_the_fresh_run_of_its_parameters(project: Path) -> None:
    resolved = resolve("baseline", project)
    sweep = grid(GRID)
    assert len(sweep.variants) == 8
    results = run_variants(resolved, sweep)
    assert sum(r.warm for r in results) >= 7          # one cold start, then warm re-solves
    for r in results:
        assert r.status == "optimal" and r.check == "passed", r
        name = f"variant-{r.id}"
        write_fresh_scenario(project, name, sweep.parameters, r.values)
        fresh = solve(build(load_plan(name, project)))
        assert fresh.status == "optimal"
        for level, value in fresh.objectives.items():
            assert r.objectives[level] == pytest.approx(value, rel=1e-6, abs=1e-9), (r.id, level)
        # the strictly convex tie-breaks make the allocation itself unique: warm equals cold
        assert r.unique and not fresh.not_unique
        total = fresh.allocation["amount"].sum()
        assert sum(r.entities.values()) == pytest.approx(total, abs=1e-5)
        by_entity = fresh.allocation.groupby("entity")["amount"].sum()
        for entity, amount in r.entities.items():
            assert amount == pytest.approx(float(by_entity.get(entity, 0.0)), abs=1e-5), (r.id,
                                                                                         entity)


@pytest.mark.parametrize(("path", "value"), [
    (("financial_plan", "funds", "development_trust", "receipt_rate"), 0.61),
    (("financial_plan", "funds", "cyber_standards", "pledge"), 5000.0),
    (("rules", "targets", "TP1", "share"), 0.12),
    (("rules", "targets", "TP2", "amount"), 45000.0),
    (("rules", "targets", "TP2", "shortfall_weight"), 3.0),
    (("rules", "targets", "TP2", "excess_weight"), 0.25),
])
def test_the_shortcut_plan_is_the_validated_plan(project: Path, path: tuple, value: float) -> None:
    """Variants skip validation only where doing so gives exactly the validated plan."""
    (project / "scenarios" / "with-targets.toml").write_text(
        '[scenario]\nparent = "baseline"\ntitle = "Targets after the value level"\n\n'
        '[rules.targets.TP1]\npriority = "TP1"\nshare = 0.14\nlevel = 2\n\n'
        '[rules.targets.TP2]\npriority = "TP2"\namount = 50000\nlevel = 2\n')
    resolved = resolve("with-targets", project)
    p = Parameter("x", path)
    fast = derive_plan(validate(resolved), [p], [value])
    slow = validate(variant_document(resolved, [p], [value]))
    assert fast is not None and fast == slow
    assert validate(resolved) != slow        # the variant did change something


def test_out_of_range_values_are_validated_and_reported(project: Path) -> None:
    resolved = resolve("baseline", project)
    p = Parameter("rate", ("financial_plan", "funds", "development_trust", "receipt_rate"))
    assert derive_plan(validate(resolved), [p], [1.5]) is None
    (result,) = run_variants(resolved, Sweep([p], [(1.5,)]))
    assert result.status == "invalid" and "receipt_rate" in result.message


def test_monte_carlo_draws_are_seeded_and_within_rates(project: Path) -> None:
    plan = load_plan("baseline", project)
    a, b, c = (monte_carlo(plan, 200, seed) for seed in (7, 7, 8))
    assert a.variants == b.variants != c.variants
    values = np.array(a.variants)
    assert values.shape == (200, len(plan.funds))
    assert ((values >= 0) & (values <= 1)).all()
    expected = np.array([f.receipt_rate for f in plan.funds])
    assert np.abs(values.mean(axis=0) - expected).max() < 0.02     # a Beta keeps the mean
    assert values.std(axis=0).min() > 0.08 and values.std(axis=0).max() < 0.12


def test_workers_give_the_results_of_one_process(project: Path) -> None:
    """More variants than one block (BLOCK = 50), so that two processes share the work: 52, so
    that the second block is short (its two variants solved fresh, then warm)."""
    assert BLOCK == 50
    resolved = resolve("baseline", project)
    sweep = monte_carlo(validate(resolved), 52, 3)
    one = run_variants(resolved, sweep, workers=1)
    two = run_variants(resolved, sweep, workers=2)
    assert [r.id for r in two] == list(range(1, 53))
    for a, b in zip(one, two, strict=True):        # blocks start fresh: the very same answers
        assert (a.values, a.status, a.objectives, a.priorities, a.entities) == (
            b.values, b.status, b.objectives, b.priorities, b.entities)


def test_infeasible_variants_are_reported_not_fatal(project: Path) -> None:
    resolved = resolve("baseline", project)
    floor = Parameter("floor", ("rules", "bounds", "tp1_floor", "min"))
    results = run_variants(resolved, grid([(floor, [20000.0, 9e7, 21000.0])]))
    assert [r.status for r in results] == ["optimal", "infeasible", "optimal"]
    assert results[2].check == "passed"
    engine = Engine(resolved, [floor])
    again = engine.run(3, (21000.0,))
    assert again.objectives == pytest.approx(results[2].objectives, rel=1e-7, abs=1e-10)


def test_parse_values() -> None:
    assert parse_values("0.6:0.8:0.1") == [0.6, 0.7, 0.8]
    assert parse_values("1,2.5") == [1.0, 2.5]


def _sweep_cli(project: Path, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["sweep", "baseline", "--project", str(project), *extra])
    return code, out.getvalue(), err.getvalue()


def test_sweep_command_writes_variants_summary_and_workbook(project: Path) -> None:
    code, out, err = _sweep_cli(project, "--draws", "6", "--seed", "2", "--workers", "2")
    assert code == 0, err
    assert err == ""                                   # no progress bar off a terminal
    assert "6 variants (6 optimal)" in out
    folder = project / "reports" / "baseline" / "sweep"
    variants = pd.read_csv(folder / "variants.csv")
    assert list(variants["variant"]) == list(range(1, 7))
    assert set(variants["status"]) == {"optimal"} and set(variants["check"]) == {"passed"}
    plan = load_plan("baseline", project)
    for p in plan.priorities:
        assert (f"priority[{p.code}]" in variants) == (not p.support)
    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary["kind"]).count("priority") == 5
    assert (summary["p5"] <= summary["p50"]).all() and (summary["p50"] <= summary["p95"]).all()
    book = openpyxl.load_workbook(folder / "sweep.xlsx")
    assert book.sheetnames == ["about", "summary", "variants"]
    assert len(book["summary"]._charts) == 2                 # per priority and per entity
    about = {r[0]: r[1] for r in book["about"].iter_rows(min_row=4, values_only=True) if r[0]}
    assert about["seed"] == "2" and about["draws"] == "6"
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert record["design"]["seed"] == 2 and record["design"]["draws"] == 6
    assert set(record["design"]["funds"]) == {f.code for f in plan.funds}
    assert record["statuses"] == {"optimal": 6} and record["inputs_sha256"] == dict(plan.input_files)
    # the record makes the sweep again: its seed, draws and spreads give the same variants
    again = monte_carlo(plan, record["design"]["draws"], record["design"]["seed"],
                        {code: fund["sd_asked"] for code, fund in record["design"]["funds"].items()
                         if fund["distribution"] == "beta"})
    assert [list(v) for v in again.variants] == variants[
        [p.label for p in again.parameters]].to_numpy().tolist()
    first = {name: (folder / name).read_bytes() for name in ("sweep.xlsx", "run.json")}
    assert _sweep_cli(project, "--draws", "6", "--seed", "2", "--workers", "2")[0] == 0
    for name, content in first.items():                          # same sweep, same bytes
        assert (folder / name).read_bytes() == content, name


def test_sweep_command_grid_and_bad_arguments(project: Path) -> None:
    code, out, _ = _sweep_cli(project, "--receipt-rate", "development_trust=0.5,0.9",
                              "--ceiling", "0.99:1.0:0.01", "--quiet")
    assert code == 0 and out == ""
    variants = pd.read_csv(project / "reports" / "baseline" / "sweep" / "variants.csv")
    assert len(variants) == 4
    assert list(variants["ceiling_factor"]) == [0.99, 0.99, 1.0, 1.0]   # the first varies slowest
    record = json.loads((project / "reports" / "baseline" / "sweep" / "run.json").read_text())
    assert record["kind"] == "grid" and record["design"]["grid"] == {
        "ceiling_factor": [0.99, 1.0], "receipt_rate[development_trust]": [0.5, 0.9]}
    code, _, err = _sweep_cli(project, "--receipt-rate", "nofund=0.5")
    assert code == 2 and "nofund" in err
    code, _, err = _sweep_cli(project)
    assert code == 2 and "nothing to sweep" in err


def test_a_fund_states_its_receipt_spread_in_the_scenario(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(REPO / "models", root / "models")
    shutil.copytree(REPO / "scenarios", root / "scenarios")
    (root / "scenarios" / "sure.toml").write_text(
        '[scenario]\nparent = "baseline"\n'
        '[financial_plan.funds.development_trust]\nreceipt_rate_spread = 0.0\n')
    plan = validate(resolve("sure", root))
    sweep = monte_carlo(plan, 50, 1)
    names = [p.label for p in sweep.parameters]
    trust = names.index("receipt_rate[development_trust]")
    other = names.index("receipt_rate[cyber_standards]")
    values = np.array(sweep.variants)
    assert (values[:, trust] == 0.85).all()
    assert values[:, other].std() > 0.01


def test_a_later_run_keeps_the_sweep(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    assert main(["sweep", "tiny", "--project", str(REPO / "tests" / "project"), "--reports",
                 str(reports), "--draws", "3", "--seed", "1", "--quiet"]) == 0
    assert main(["run", "tiny", "--project", str(TESTS / "project"), "--reports",
                 str(reports), "--quiet"]) == 0
    assert (reports / "tiny" / "sweep" / "variants.csv").exists()


def _bench():
    import sys
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import bench
    finally:
        sys.path.pop(0)
    return bench


def test_a_warm_variant_and_a_cold_alloc_run_agree_on_every_cell(tmp_path: Path) -> None:
    """Issue 12: the optimum is unique, so a variant solved warm by the sweep's instance and a
    cold `alloc run` of a scenario file stating the same values agree to 1e-6 on every cell and
    fund, on an organisation with requirements (the benchmark's at 1e3 columns: requirements in
    three tranches, targets, earmarked funds), not only on the goal levels' optima."""
    scenario = _bench().generate(tmp_path, 1e3, seed=2)
    resolved = resolve(scenario, tmp_path)
    plan = validate(resolved)
    assert plan.requirements
    sweep = monte_carlo(plan, 4, seed=5)
    engine = Engine(resolved, sweep.parameters)
    keys = ["entity", "priority", "output", "year", "fund"]
    for vid, values in enumerate(sweep.variants, 1):
        result = engine.run(vid, values)
        assert result.status == "optimal" and result.check == "passed", result
        assert result.warm == (vid > 1)
        assert engine.model is not None and not engine.model.quadratic_failed
        warm = allocation_frame(engine.model.lp, engine.model.values()).set_index(keys)["amount"]
        lines = ["[scenario]", f'parent = "{scenario}"', f'title = "variant {vid}"', ""]
        for p, value in zip(sweep.parameters, values, strict=True):
            assert p.path is not None
            *table, key = p.path
            lines += [f"[{'.'.join(table)}]", f"{key} = {value!r}", ""]
        (tmp_path / "scenarios" / f"variant-{vid}.toml").write_text("\n".join(lines))
        reports = tmp_path / "reports"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert main(["run", f"variant-{vid}", "--project", str(tmp_path), "--reports",
                         str(reports), "--quiet"]) == 0
        run = json.loads((reports / f"variant-{vid}" / "run.json").read_text())
        assert run["unique"]["proven"], run["unique"]
        cold = pd.read_csv(reports / f"variant-{vid}" / "allocation.csv")
        cold = cold.set_index(keys)["amount"]
        both = pd.concat([warm.rename("warm"), cold.rename("cold")], axis=1).fillna(0.0)
        gap = (both["warm"] - both["cold"]).abs()
        assert gap.max() <= 1e-6 * max(1.0, both["cold"].abs().max()), both[gap > 1e-6].head()
        assert list(run["objective"]) == list(result.objectives)
        for level, value in run["objective"].items():
            assert result.objectives[level] == pytest.approx(value, rel=1e-6, abs=1e-9), level
