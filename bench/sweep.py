#!/usr/bin/env python
"""Benchmark: `alloc sweep --draws N` on a Dask LocalCluster of 1 and of 2 workers (and, for
comparison, the local executor with as many processes), each a fresh `alloc sweep` process timed
from start to exit (wall, and the CPU of the process and its children: the local executor's
worker processes, and a LocalCluster's nanny and worker processes, which it starts and waits for).
The configurations run in turns, their order rotating from one repeat to the next; medians are
reported. Every run's files are compared with the first's: the executor must not change a byte.

    python bench/sweep.py --draws 2000 --repeat 3 --json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFIGS = {"local-1": ["--workers", "1"], "dask-1": ["--executor", "dask", "--workers", "1"],
           "local-2": ["--workers", "2"], "dask-2": ["--executor", "dask", "--workers", "2"]}


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def one(name: str, draws: int, seed: int, scenario: str, reports: Path, project: Path = REPO
        ) -> dict:
    alloc = Path(sys.executable).with_name("alloc")
    cmd = [str(alloc), "sweep", scenario, "--project", str(project), "--draws", str(draws), "--seed",
           str(seed), "--max-variants", str(draws), "--reports", str(reports), "--quiet",
           *CONFIGS[name]]
    c0, t0 = _children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    t1, c1 = time.perf_counter(), _children_cpu()
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {done.returncode}\n{done.stderr}")
    files = {p.name: p.read_bytes() for p in sorted((reports / scenario / "sweep").iterdir())}
    return {"config": name, "wall_s": t1 - t0, "cpu_s": c1 - c0, "files": files,
            "load_average": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--project", type=Path, default=REPO,
                        help="the project holding the scenario (default: the repository's, the "
                        "reference model; tests/project has the small model `tiny`)")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="alloc-bench-sweep-") as tmp:
        for i in range(args.repeat):
            k = i % len(args.configs)
            for name in args.configs[k:] + args.configs[:k]:
                run = one(name, args.draws, args.seed, args.scenario, Path(tmp) / f"{name}-{i}",
                          args.project)
                runs.append(run)
                print(f"# {name}: {run['wall_s']:.1f} s wall, load {run['load_average']:.1f}",
                      file=sys.stderr, flush=True)
    first = runs[0]["files"]
    same = all(r["files"] == first for r in runs)
    out = []
    for name in args.configs:
        mine = [r for r in runs if r["config"] == name]
        out.append({"config": name, "draws": args.draws,
                    "wall_s": round(statistics.median(r["wall_s"] for r in mine), 2),
                    "cpu_s": round(statistics.median(r["cpu_s"] for r in mine), 2),
                    "walls": [round(r["wall_s"], 2) for r in mine],
                    "load_average": [round(r["load_average"], 1) for r in mine]})
    base = {r["config"]: r["wall_s"] for r in out}
    for r in out:
        ref = base.get(r["config"].split("-")[0] + "-1")
        r["speedup_vs_1"] = round(ref / r["wall_s"], 2) if ref else None
    if args.json:
        print(json.dumps({"same_files": same, "results": out}, indent=1))
    else:
        for r in out:
            print(f"{r['config']:>8} {r['wall_s']:>8.1f} s wall {r['cpu_s']:>8.1f} s cpu "
                  f"x{r['speedup_vs_1']}")
        print("same files in every run" if same else "FILES DIFFER between runs")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
