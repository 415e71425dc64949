#!/usr/bin/env python
"""Benchmark: alloc's load, build, solve and check against direct HiGHS on the same LP.

Synthetic organisations are generated deterministically from a seed at about 1e3, 1e4, 1e5 and
1e6 LP columns (more entities, priorities, outputs, years and funds as the size grows), written in
alloc's own model format (a temporary project with models/<name>/ and scenarios/<name>.toml) and
feasible by construction: every figure is derived from a witness allocation that keeps every rule.

"The identical LP": alloc solves pre-emptive goal-programming levels (level-1 targets, level-2
targets, the reference distribution), each later level held on the earlier level's optimal face.
The reference solves that same sequence of level LPs with plain highspy, written out here without
alloc's code: the matrix alloc built, as numpy CSC, in one `passModel`, `run`, then per later level
the face fixed by bounds, the level bound added as a row, the costs changed and `run` again on the
same instance. Its time starts at the CSC arrays and ends with the solution read back; alloc's total
starts at the files. Both use the same HiGHS options. The objectives of every level must agree to
1e-6 relative, or the script exits 1.

Beside that in-process ratio, an end-to-end one (`e2e_*`, see `end_to_end`): a fresh `alloc run`
process writing every report against a fresh bench/reference.py process that loads the same LP
with numpy and solves the same levels with highspy, each timed from start to exit.

Each size runs in a fresh process, so that peak_rss_mb is that size's own (the whole process:
alloc's run and the reference).

    python bench/bench.py --sizes 1e3,1e4 --json
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from reference import RefLevel, reference_solve
from reference import save as save_reference

SIZES = (1e3, 1e4, 1e5, 1e6)
TRANCHES = (("core", 1.0, 0.6), ("current", 0.6, 0.35), ("enhanced", 0.3, 0.15))
"""Requirement tranches: code, factor (value per unit relative to the priority's weight) and
part of the witness's spending in the cell and year (together 1.1: requirements exceed it)."""
FIELDS = ("n_vars", "n_rows", "nnz", "load_s", "build_s", "solve_s", "check_s", "total_s",
          "reference_s", "ratio", "peak_rss_mb", "objective", "reference_objective")


@dataclass(frozen=True)
class Shape:
    """How an organisation grows with the size: years, funds, priorities, outputs, support lines."""

    years: int
    funds: int
    priorities: int
    outputs: int
    support: int


def shape_for(size: float) -> Shape:
    if size <= 3e3:
        return Shape(4, 2, 4, 4, 2)
    if size <= 3e4:
        return Shape(4, 3, 8, 6, 3)
    if size <= 3e5:
        return Shape(6, 4, 12, 10, 4)
    return Shape(8, 6, 20, 16, 5)


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()) + " }"
    return str(v)


def _table(name: str, body: dict) -> str:
    return f"[{name}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in body.items()) + "\n"


def _by_year(years: list[int], amounts: np.ndarray) -> dict[str, float]:
    return {str(y): float(a) for y, a in zip(years, amounts, strict=True)}


def generate(root: Path, size: float, seed: int = 1) -> str:
    """Write a feasible synthetic organisation of about `size` LP columns; returns the scenario."""
    rng = np.random.default_rng([seed, int(size)])
    sh = shape_for(size)
    years = list(range(2024, 2024 + sh.years))
    thematic = [f"TP{i + 1}" for i in range(sh.priorities)]
    support = [f"EN{i + 1}" for i in range(sh.support)]
    outputs = [f"PS{i + 1}" for i in range(sh.outputs)]
    fund_codes = [f"F{i + 1}" for i in range(sh.funds)]
    fund_pri = {f: (None if i == 0 else sorted(rng.choice(thematic, max(1, sh.priorities // 3),
                                                          replace=False).tolist(),
                                               key=lambda c: int(c[2:])))
                for i, f in enumerate(fund_codes)}

    def fund_admits(f: str, e_index: int, p: str) -> bool:
        i = fund_codes.index(f)
        if i == 0:
            return True
        pri = fund_pri[f]
        return e_index % 3 == i % 3 and pri is not None and p in pri

    # entities until the LP has about `size` columns: 3 per allocation column (x, above, below)
    # and one per requirement (TRANCHES per cell and year)
    cells: list[tuple[int, str, str]] = []
    n_alloc = 0
    e = 0
    while 3 * n_alloc + len(TRANCHES) * len(years) * len(cells) < size or e < 2:
        mine = [(e, p, o) for p in thematic for o in outputs if rng.random() < 0.5]
        if not mine:
            mine = [(e, thematic[e % len(thematic)], outputs[0])]
        mine += [(e, s, "support") for s in support if rng.random() < 0.6] or [(e, support[0], "support")]
        for c in mine:
            n_alloc += len(years) * (1 + sum(fund_admits(f, e, c[1]) for f in fund_codes))
        cells.extend(mine)
        e += 1
    entities = [f"E{i + 1:03d}" for i in range(e)]

    # the witness: regular and fund spending per cell and year, whole CHF thousands
    n_c, n_y = len(cells), len(years)
    base = rng.uniform(50, 500, n_c)
    reg = np.maximum(np.rint(base[:, None] * (1 + 0.08 * rng.uniform(-1, 1, (n_c, n_y)))), 1.0)
    fund_w = {}
    for f in fund_codes:
        ok = np.array([fund_admits(f, ce, cp) for ce, cp, _ in cells])
        fund_w[f] = np.where(ok[:, None], np.rint(base[:, None] * 0.2 * rng.uniform(0, 1, (n_c, n_y))),
                             0.0)
    psc_rate = {f: (0.07 if i == 1 else 0.0) for i, f in enumerate(fund_codes)}
    reg_y = reg.sum(axis=0)
    psc_y = sum(psc_rate[f] * fund_w[f].sum(axis=0) for f in fund_codes)
    revenue_y = reg_y - psc_y

    model = root / "models" / "synthetic"
    model.mkdir(parents=True, exist_ok=True)
    (model / "model.toml").write_text(
        '# Synthetic organisation generated by bench/bench.py; every figure is made up.\n'
        f'title = "Synthetic organisation, about {size:.0e} LP columns (seed {seed})"\n'
        'unit = "CHF thousands"\ninputs_date = "2024-01-01"\n')
    fw = ["[goals.G1]\nname = \"Goal one\"\n\n[goals.G2]\nname = \"Goal two\"\n\n"]
    fw += [_table(f"entities.{c}", {"name": f"Entity {c}"}) for c in entities]
    fw += [_table(f"priorities.{p}", {"name": f"Priority {p}", "goal_shares": {"G1": 0.5, "G2": 0.5}})
           for p in thematic]
    fw += [_table(f"outputs.{o}", {"name": f"Output {o}"}) for o in outputs]
    fw += [_table(f"support.{s}", {"name": f"Support line {s}"}) for s in support]
    (model / "framework.toml").write_text("".join(fw))

    fp = [_table("plan", {"years": years})]
    shares = (("assessed", 0.6), ("cost_recovery", 0.3))
    rest = revenue_y.copy()
    for group, share in shares:
        amounts = np.rint(revenue_y * share)
        rest -= amounts
        fp.append(_table(f"revenue.{group}", {"name": f"Revenue: {group}", "group": group,
                                              "amount": _by_year(years, amounts)}))
    fp.append(_table("revenue.other", {"name": "Revenue: other", "group": "other",
                                       "amount": _by_year(years, rest)}))
    for i, f in enumerate(fund_codes):
        rate = float(np.round(rng.uniform(0.6, 0.95), 2))
        spend = fund_w[f].sum(axis=0) * (1 + psc_rate[f])
        pledge = np.ceil(spend / rate * 1.1) + 1
        body: dict = {"name": f"Fund {f}", "pledge": _by_year(years, pledge),
                      "receipt_rate": rate, "support_cost_rate": psc_rate[f]}
        if i > 0:
            body["earmark"] = {"entities": [c for k, c in enumerate(entities) if k % 3 == i % 3],
                               "priorities": fund_pri[f]}
        fp.append(_table(f"funds.{f}", body))
    (model / "financial-plan.toml").write_text("".join(fp))

    # rules: envelopes, committed costs, bounds, stability, targets, all kept by the witness
    ce = np.array([c[0] for c in cells])
    cp = np.array([c[1] for c in cells], dtype=object)
    co = np.array([c[2] for c in cells], dtype=object)
    rules = [_table("budget", {"balance": True, "ceiling_period": "year"})]
    for k, code in enumerate(entities):
        share = reg[ce == k].sum(axis=0) / reg_y
        rules.append(_table(f"envelopes.{code}", {
            "min_share": float(np.floor(max(share.min() - 0.02, 0) * 1e4) / 1e4),
            "max_share": float(min(np.ceil((share.max() + 0.02) * 1e4) / 1e4, 1.0))}))
        first = int(np.flatnonzero(ce == k)[0])
        rules.append(_table(f"committed.c{code}", {
            "name": f"Committed cost of {code}", "entity": code, "priority": cells[first][1],
            "output": cells[first][2], "amount": {str(years[-1]): float(np.floor(reg[first, -1] * 0.5))},
            "kind": "minimum", "funds": "regular"}))
    for p in thematic:
        amount = reg[cp == p].sum(axis=0)
        if amount.min() > 0:
            rules.append(_table(f"bounds.{p}_floor", {
                "name": f"{p}: a floor of regular budget", "priority": p,
                "min": float(np.floor(amount.min() * 0.6)), "period": "year", "funds": "regular"}))
    total_all = reg.sum(axis=0) + sum(fund_w[f].sum(axis=0) for f in fund_codes)
    sup = reg[np.isin(cp, support)].sum(axis=0) + sum(fund_w[f][np.isin(cp, support)].sum(axis=0)
                                                     for f in fund_codes)
    rules.append(_table("bounds.support_cap", {
        "name": "Support lines: a cap as a share of all resources", "priority": support,
        "max_share": float(min(np.ceil((sup / total_all).max() * 100 + 2) / 100, 1.0)),
        "period": "year", "funds": "all"}))
    rules.append(_table("stability", {"max_change": 0.3}))
    all_w = reg.sum(axis=1) + sum(fund_w[f].sum(axis=1) for f in fund_codes)
    grand = float(all_w.sum())
    for i, p in enumerate(thematic):
        amount = float(all_w[cp == p].sum())
        body = {"name": f"{p} target", "priority": p, "period": "plan", "funds": "all", "level": 1,
                "shortfall_weight": 1.0, "excess_weight": 0.5}
        if i < 2:
            body["share"] = round(amount / grand * rng.uniform(0.9, 1.1), 4)
        else:
            body["amount"] = float(np.rint(amount * rng.uniform(0.85, 1.15)))
        rules.append(_table(f"targets.{p}", body))
    for o in outputs[:4]:
        amount = float(all_w[co == o].sum())
        rules.append(_table(f"targets.{o}", {
            "name": f"{o} target", "output": o, "amount": float(np.rint(amount * rng.uniform(0.9, 1.1))),
            "period": "plan", "funds": "all", "level": 2, "shortfall_weight": 1.0,
            "excess_weight": 1.0}))
    rules.append(_table("objective", {"level_tolerance": 1e-6}))
    rules += [_table(f"objective.tranches.{code}", {"name": f"Tranche {code}", "factor": factor})
              for code, factor, _ in TRANCHES]
    rules.append(_table("objective.weights", {
        p: float(np.round(rng.uniform(0.5, 1.5), 2)) for p in [*thematic, *support]}))
    (model / "rules.toml").write_text("".join(rules))

    # requirements: per cell and year, tranches of falling value adding up to REQUIRED times the
    # witness's spending there, so that they exceed what the ceiling and funds pay
    spend = reg + sum(fund_w[f] for f in fund_codes)
    req = ["entity,priority,output,tranche,year,amount,value,note"]
    for i, (k, p, o) in enumerate(cells):
        for j, y in enumerate(years):
            for code, _, part in TRANCHES:
                amount = float(np.rint(spend[i, j] * part * rng.uniform(0.9, 1.1)))
                if amount > 0:
                    req.append(f"{entities[k]},{p},{o},{code},{y},{amount:.0f},,")
    (model / "requirements.csv").write_text("\n".join(req) + "\n")

    lines = ["entity,priority,output,min,max,note"]
    for i, (k, p, o) in enumerate(cells):
        lo = f"{np.floor(reg[i].min() * 0.5):.0f}" if i % 20 == 7 else ""
        lines.append(f"{entities[k]},{p},{o},{lo},,")
    (model / "mandate.csv").write_text("\n".join(lines) + "\n")
    prev = ["entity,priority,amount"]
    pairs: dict[tuple[int, str], np.ndarray] = {}
    for i, (k, p, _) in enumerate(cells):
        pairs[(k, p)] = pairs.get((k, p), 0) + reg[i]
    for (k, p), amounts in pairs.items():
        prev.append(f"{entities[k]},{p},{float(np.mean(amounts)):.3f}")
    (model / "previous-allocation.csv").write_text("\n".join(prev) + "\n")
    (root / "scenarios").mkdir(exist_ok=True)
    (root / "scenarios" / "synthetic.toml").write_text(
        '[scenario]\nmodel = "synthetic"\ntitle = "Synthetic organisation"\n')
    return "synthetic"


def to_csc(start: np.ndarray, index: np.ndarray, value: np.ndarray, n_cols: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows to columns with numpy alone (the reference's input, made outside its timing)."""
    rows = np.repeat(np.arange(len(start) - 1, dtype=np.int32), np.diff(start))
    order = np.argsort(index, kind="stable")
    col_start = np.zeros(n_cols + 1, dtype=np.int32)
    np.cumsum(np.bincount(index, minlength=n_cols), out=col_start[1:])
    return col_start, rows[order], value[order]


def alloc_run(root: Path, scenario: str, quadratic: bool = True) -> dict:
    """One timed run of alloc: files to a checked solution, the way `alloc run` does it."""
    from alloc.lp.backends.highs import HighsModel
    from alloc.lp.build import build
    from alloc.lp.solve import SolveOptions, _Run, solution_of, solve_levels
    from alloc.lp.verify import check
    from alloc.model.load import load_plan

    c0, t0 = time.process_time(), time.perf_counter()
    plan = load_plan(scenario, root)
    t1 = time.perf_counter()
    lp = build(plan)
    t2 = time.perf_counter()
    model = HighsModel(lp)
    status, objectives, _ = solve_levels(model, quadratic=quadratic)
    if status != "optimal":
        raise RuntimeError(f"alloc: {status}")
    if model.quadratic_failed:
        raise RuntimeError(f"alloc: the quadratic level {model.quadratic_failed} failed")
    run = _Run(status, "highs", objectives, "", model.values(), model.duals())
    solution = solution_of(lp, run, SolveOptions(quadratic=quadratic), check_answer=False)
    t3 = time.perf_counter()
    violations = check(plan, solution.allocation)
    t4, c4 = time.perf_counter(), time.process_time()
    if violations:
        raise RuntimeError(f"alloc: the check found {len(violations)} violations")
    return {"n_vars": lp.n_cols, "n_rows": lp.n_rows, "nnz": int(lp.matrix()[0][-1]),
            "load_s": t1 - t0, "build_s": t2 - t1, "solve_s": t3 - t2, "check_s": t4 - t3,
            "total_s": t4 - t0, "total_cpu_s": c4 - c0, "objectives": list(objectives.values()),
            "levels": list(objectives)}


def reference_inputs(root: Path, scenario: str, quadratic: bool = True) -> tuple:
    """The LP alloc builds, as the reference takes it: CSC arrays, row bounds, the levels alloc
    solves (its tie-breaks where it solves them quadratic, else their stand-in) (untimed)."""
    from alloc.lp.backends import highs
    from alloc.lp.build import GE, LE, build
    from alloc.lp.program import solved_levels
    from alloc.model.load import load_plan

    plan = load_plan(scenario, root)
    lp = build(plan)
    start, index, value = lp.matrix()
    csc = to_csc(start, index, value, lp.n_cols)
    sense, rhs = lp.senses, lp.rhs
    lower = np.where(sense == LE, -np.inf, rhs)
    upper = np.where(sense == GE, np.inf, rhs)
    n_quadratic = sum(len(lv.cols) for lv in lp.levels if lv.quadratic is not None)
    chosen = solved_levels(lp, quadratic and n_quadratic <= highs.QUADRATIC_COLUMNS)
    levels = [RefLevel(lp.levels[k].cols.astype(np.int32), lp.levels[k].solver_coefs,
                       lp.levels[k].solver_quadratic, lp.levels[k].coefs.astype(float),
                       lp.levels[k].quadratic, lp.levels[k].constant,
                       highs.level_options(lp.n_cols, k, lp.levels[k])) for k in chosen]
    return ((*csc, lp.n_cols, lower, upper, levels, plan.level_tolerance,
             dict(highs.HIGHS_OPTIONS)), [lp.levels[k].name for k in chosen])


def reference_run(inputs: tuple) -> dict:
    c0, r0 = time.process_time(), time.perf_counter()
    objectives, _ = reference_solve(*inputs)
    r1, c1 = time.perf_counter(), time.process_time()
    return {"reference_s": r1 - r0, "reference_cpu_s": c1 - c0, "reference_objectives": objectives}


TIMES = ("load_s", "build_s", "solve_s", "check_s", "total_s", "reference_s", "total_cpu_s",
         "reference_cpu_s")


LAUNCHER = """
import json, os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
t1 = time.perf_counter()
print(json.dumps({"wall": t1 - t0, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss_kb": usage.ru_maxrss, "code": os.waitstatus_to_exitcode(status)}),
      file=sys.stderr)
"""
"""A small Python process that runs the command and reports its wall time, CPU time and peak RSS.
Why: on Linux a child's ru_maxrss starts from its parent's at the fork (the kernel keeps the old
memory's high-water mark across exec), so measured from this benchmark (which holds the LP) it
would report the benchmark's memory; forked from this small launcher it is the command's own
(plus the launcher's ~10 MB at most). Wall time is from just before the fork to the exit."""


def timed_process(cmd: list[str]) -> tuple[float, float, str, float]:
    """Run a fresh process: its wall time (start to exit), CPU time (user + system, its own and
    its children's, os.wait4's), its output and its peak RSS in MB (see LAUNCHER)."""
    with tempfile.TemporaryFile() as err:
        done = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], stdout=subprocess.PIPE,
                              stderr=err)
        err.seek(0)
        lines = err.read().decode(errors="replace").strip().splitlines()
        record = json.loads(lines[-1]) if lines else {"code": done.returncode}
        if done.returncode != 0 or record["code"] != 0:
            raise RuntimeError(f"{' '.join(cmd)}: exit {record['code']}\n" + "\n".join(lines))
    return record["wall"], record["cpu"], done.stdout.decode(), record["rss_kb"] / 1024


def end_to_end(root: Path, scenario: str, inputs: tuple, names: list[str], repeat: int) -> dict:
    """What a user pays: a fresh `alloc run SCENARIO` process (start, imports, load, build,
    solve, check, every report written) against a fresh process of bench/reference.py (start,
    imports of numpy and highspy, the LP loaded from a .npz with numpy, the same levels solved
    with the same options, the column values saved with numpy). In turns, the order alternating;
    medians. Every level's optimum must agree (1e-6 relative)."""
    precompile()
    here = Path(__file__).resolve().parent
    lp_file = root / "reference-lp.npz"
    save_reference(str(lp_file), inputs, names)
    alloc = Path(sys.executable).with_name("alloc")
    runs = []
    for i in range(repeat):
        reports = root / f"reports-{i}"
        ours = [str(alloc), "run", scenario, "--project", str(root), "--reports", str(reports),
                "--quiet"]
        theirs = [sys.executable, str(here / "reference.py"), str(lp_file), str(root / f"x-{i}.npy")]
        order = [("alloc", ours), ("reference", theirs)]
        row: dict = {}
        for name, cmd in order if i % 2 == 0 else order[::-1]:
            wall, cpu, out, rss = timed_process(cmd)
            row.update({f"{name}_s": wall, f"{name}_cpu_s": cpu, f"{name}_rss_mb": rss})
            if name == "reference":
                row["reference_objectives"] = json.loads(out.strip().splitlines()[-1])
        row["objectives"] = json.loads((reports / scenario / "run.json").read_text())["objective"]
        runs.append(row)
    agree = all(list(r["objectives"]) == names and all(
        math.isclose(r["objectives"][n], r["reference_objectives"][n], rel_tol=1e-6, abs_tol=1e-9)
        for n in names) for r in runs)
    med = {k: statistics.median(r[k] for r in runs) for k in
           ("alloc_s", "reference_s", "alloc_cpu_s", "reference_cpu_s")}
    peaks = {k: max(r[k] for r in runs) for k in ("alloc_rss_mb", "reference_rss_mb")}
    return {**{f"e2e_{k}": round(v, 4) for k, v in med.items()},
            **{f"e2e_{k}": round(v, 1) for k, v in peaks.items()},
            "e2e_ratio": round(med["alloc_s"] / med["reference_s"], 3),
            "e2e_cpu_ratio": round(med["alloc_cpu_s"] / med["reference_cpu_s"], 3),
            "e2e_ratios": [round(r["alloc_s"] / r["reference_s"], 3) for r in runs],
            "e2e_agree": agree, "e2e_objectives": runs[-1]["objectives"],
            "e2e_reference_objectives": runs[-1]["reference_objectives"]}


def precompile() -> None:
    """alloc's modules compiled to bytecode, as `pip install` does: an editable install with
    PYTHONDONTWRITEBYTECODE set (as on the project's machine) would otherwise compile every module
    from source in every fresh process (0.15-0.3 s), which no installed alloc pays."""
    import compileall

    import alloc

    compileall.compile_dir(str(Path(alloc.__file__).parent), quiet=1)


def alternated(commands: dict[str, list[str]], repeat: int) -> dict[str, dict[str, float]]:
    """Each command once per repeat, the order rotating from one repeat to the next; per command
    the median wall and CPU time and the largest peak RSS."""
    names = list(commands)
    runs: dict[str, list[tuple[float, float, float]]] = {n: [] for n in names}
    for i in range(repeat):
        for name in names[i % len(names):] + names[: i % len(names)]:
            wall, cpu, _, rss = timed_process(commands[name])
            runs[name].append((wall, cpu, rss))
    return {n: {"s": statistics.median(r[0] for r in runs[n]),
                "cpu_s": statistics.median(r[1] for r in runs[n]),
                "rss_mb": max(r[2] for r in runs[n])} for n in names}


def commands(repeat: int, seed: int) -> dict:
    """The command-level targets of issue 16, fresh processes in turns: `alloc run baseline` on
    the reference model (a project made by `alloc init`) against `python -c "import numpy,
    pandas, highspy"`, `alloc explain` against `alloc run` on it and on a 1e4 organisation."""
    precompile()
    alloc = str(Path(sys.executable).with_name("alloc"))
    out: dict = {"repeat": repeat, "seed": seed}
    with tempfile.TemporaryDirectory(prefix="alloc-bench-") as tmp:
        ref = Path(tmp) / "reference"
        subprocess.run([alloc, "init", str(ref)], check=True, capture_output=True)

        def command(verb: str, project: Path, scenario: str) -> list[str]:
            return [alloc, verb, scenario, "--project", str(project), "--reports",
                    str(project / f"reports-{verb}"), "--quiet"]

        got = alternated({"imports": [sys.executable, "-c", "import numpy, pandas, highspy"],
                          "run": command("run", ref, "baseline"),
                          "explain": command("explain", ref, "baseline")}, repeat)
        big = Path(tmp) / "synthetic"
        scenario = generate(big, 1e4, seed)
        got_big = alternated({"run": command("run", big, scenario),
                              "explain": command("explain", big, scenario)}, repeat)
    for label, table in (("reference", got), ("1e4", got_big)):
        for name, m in table.items():
            out.update({f"{label}_{name}_{k}": round(v, 4 if k != "rss_mb" else 1)
                        for k, v in m.items()})
    out["run_over_imports"] = round(got["run"]["s"] / got["imports"]["s"], 3)
    out["run_over_imports_cpu"] = round(got["run"]["cpu_s"] / got["imports"]["cpu_s"], 3)
    for label, table in (("reference", got), ("1e4", got_big)):
        out[f"{label}_explain_over_run"] = round(table["explain"]["s"] / table["run"]["s"], 3)
        out[f"{label}_explain_over_run_cpu"] = round(
            table["explain"]["cpu_s"] / table["run"]["cpu_s"], 3)
    out["load_average"] = os.getloadavg()[0]
    return out


def child(size: float, repeat: int, seed: int, quadratic: bool = True,
          in_process: bool = True, e2e: bool = True) -> dict:
    """Alternate which goes first (alloc, the reference) from one repeat to the next, so that a
    change of load on the machine does not favour either side."""
    with tempfile.TemporaryDirectory(prefix="alloc-bench-") as tmp:
        root = Path(tmp)
        scenario = generate(root, size, seed)
        inputs, names = reference_inputs(root, scenario, quadratic)
        runs = []
        for i in range(repeat if in_process else 0):
            if i % 2 == 0:
                ours = alloc_run(root, scenario, quadratic)
                gc.collect()                  # alloc's HiGHS instance gone before the reference's
                runs.append({**ours, **reference_run(inputs)})
            else:
                ref = reference_run(inputs)
                gc.collect()
                runs.append({**alloc_run(root, scenario, quadratic), **ref})
            gc.collect()
        if any(r["levels"] != names for r in runs):
            raise RuntimeError(f"alloc solved the levels {runs[-1]['levels']}, the reference {names}")
        shape = {"size": size, "n_vars": int(inputs[3]), "n_rows": len(inputs[4]),
                 "nnz": len(inputs[1]), "levels": names, "tie_break": names[-1], "repeat": repeat,
                 "seed": seed}
        e2e_row = end_to_end(root, scenario, inputs, names, repeat) if e2e else {}
    if not runs:
        return {**shape, **e2e_row, "agree": e2e_row.get("e2e_agree", True),
                "load_average": os.getloadavg()[0]}
    med = {k: statistics.median(r[k] for r in runs) for k in TIMES}
    last = runs[-1]
    agree = all(math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
                for r in runs for a, b in zip(r["objectives"], r["reference_objectives"], strict=True))
    agree = agree and e2e_row.get("e2e_agree", True)
    return {**shape, **e2e_row,
            **{k: round(v, 4) for k, v in med.items()},
            "ratio": round(med["total_s"] / med["reference_s"], 3),
            "cpu_ratio": round(med["total_cpu_s"] / med["reference_cpu_s"], 3),
            "ratios": [round(r["total_s"] / r["reference_s"], 3) for r in runs],
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "objective": last["objectives"][-1], "reference_objective": last["reference_objectives"][-1],
            "objectives": last["objectives"], "reference_objectives": last["reference_objectives"],
            "agree": agree, "load_average": os.getloadavg()[0]}


def sizes(text: str) -> list[float]:
    """--sizes 1e3,1e4 (or 1e3 1e4)."""
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes such as 1e3,1e4, not {text!r}") from None


E2E_FIELDS = ("e2e_alloc_s", "e2e_reference_s", "e2e_ratio", "e2e_alloc_cpu_s",
              "e2e_reference_cpu_s", "e2e_cpu_ratio", "e2e_ratios", "e2e_alloc_rss_mb",
              "e2e_reference_rss_mb")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", "--size", dest="size", nargs="+", type=sizes,
                        default=[list(SIZES)],
                        help="sizes in LP columns, e.g. 1e3,1e4 (default: 1e3 1e4 1e5 1e6)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timed runs per size; medians are reported (default: 5 up to 1e4, "
                             "3 at 1e5, 1 at 1e6)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--only", choices=("in-process", "end-to-end", "commands"),
                        default=None,
                        help="measure one ratio only (default: both), or the command-level "
                        "ratios: `alloc run` on the reference model against importing numpy, "
                        "pandas and highspy, `alloc explain` against `alloc run` (reference "
                        "model and 1e4)")
    parser.add_argument("--linear", action="store_true",
                        help="the linear stand-in instead of the quadratic tie-breaks (what "
                             "SolveOptions(quadratic=False) solves), to measure what they cost; "
                             "in-process only")
    parser.add_argument("--quadratic-columns", type=int, default=None,
                        help="solve the quadratic tie-breaks up to this many columns (default: "
                             "alloc's QUADRATIC_COLUMNS), to measure them beyond it; in-process "
                             "only")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.size = [x for group in args.size for x in group]
    changed = args.linear or args.quadratic_columns is not None
    if changed and args.only == "end-to-end":
        parser.error("--linear and --quadratic-columns change what alloc solves in process; "
                     "`alloc run` solves its defaults: measure them in process only")
    in_process = args.only != "end-to-end"
    e2e = args.only != "in-process" and not changed
    if args.only == "commands":
        print(json.dumps(commands(args.repeat or 5, args.seed), indent=1))
        return 0
    if args.child:
        (size,) = args.size
        if args.quadratic_columns is not None:
            from alloc.lp.backends import highs
            highs.QUADRATIC_COLUMNS = args.quadratic_columns
        print(json.dumps(child(size, args.repeat, args.seed, not args.linear, in_process, e2e)))
        return 0
    results = []
    for size in args.size:
        repeat = args.repeat or (5 if size <= 1e4 else 3 if size <= 1e5 else 1)
        cmd = [sys.executable, __file__, "--child", "--size", str(size), "--repeat", str(repeat),
               "--seed", str(args.seed), *(["--linear"] if args.linear else []),
               *([] if args.only is None else ["--only", args.only]),
               *([] if args.quadratic_columns is None
                 else ["--quadratic-columns", str(args.quadratic_columns)])]
        done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 2
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if not args.json:
            _print_row(results[-1], header=len(results) == 1)
    if args.json:
        keys = ("size", "n_vars", "n_rows", "nnz")
        if in_process:
            keys += (*FIELDS[3:], "total_cpu_s", "reference_cpu_s", "cpu_ratio", "ratios")
        if e2e:
            keys += E2E_FIELDS
        keys += ("repeat", "seed", "load_average", "tie_break", "levels")
        print(json.dumps([{k: r[k] for k in keys} for r in results], indent=1))
    bad = [r for r in results if not r["agree"]]
    for r in bad:
        print(f"bench: objectives disagree at {r['size']:.0e}: alloc "
              f"{r.get('objectives', r.get('e2e_objectives'))} against the reference "
              f"{r.get('reference_objectives', r.get('e2e_reference_objectives'))}", file=sys.stderr)
    return 1 if bad else 0


def _print_row(r: dict, header: bool) -> None:
    if header:
        print(f"{'size':>6} {'n_vars':>9} {'n_rows':>9} {'nnz':>10} {'load':>7} {'build':>7} "
              f"{'solve':>7} {'check':>7} {'total':>7} {'ref':>7} {'ratio':>6} {'cpu':>6} "
              f"{'rss MB':>7} {'e2e alloc':>9} {'e2e ref':>8} {'e2e':>6} {'e2e cpu':>7} "
              "last level")
    def f(key: str, spec: str) -> str:
        width = int(spec.split(".")[0].lstrip(">").rstrip(",") or 0)
        return format(r[key], spec) if key in r else "-".rjust(width)

    print(f"{r['size']:>6.0e} {r['n_vars']:>9,} {r['n_rows']:>9,} {r['nnz']:>10,} "
          f"{f('load_s', '>7.3f')} {f('build_s', '>7.3f')} {f('solve_s', '>7.3f')} "
          f"{f('check_s', '>7.3f')} {f('total_s', '>7.3f')} {f('reference_s', '>7.3f')} "
          f"{f('ratio', '>6.2f')} {f('cpu_ratio', '>6.2f')} {f('peak_rss_mb', '>7.0f')} "
          f"{f('e2e_alloc_s', '>9.3f')} {f('e2e_reference_s', '>8.3f')} {f('e2e_ratio', '>6.2f')} "
          f"{f('e2e_cpu_ratio', '>7.2f')} {r['tie_break']}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
