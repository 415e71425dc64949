#!/usr/bin/env python
"""Peak memory of one `alloc run` by phase, in one process: load, the levels up to the priced
level, the priced level solved beside the last levels (where it is), what follows the levels,
and the writing.

The resident set (`VmRSS`) is sampled every half second on a thread, and each phase keeps the
highest figure seen while it lasted; Linux only (it reads /proc/self/status). The priced level is
solved beside the last levels only above 50,000 columns, with two cores and the memory for it
(`alloc.lp.solve.room_beside`); otherwise that phase does not appear.

    python bench/phases.py --project DIR --scenario NAME [--reports DIR]

Generate a synthetic organisation first (bench/bench.py's `generate`), e.g. at 1e6 columns:
    python -c "import sys; sys.path.insert(0, 'bench'); import bench, pathlib; \\
        p = pathlib.Path('/tmp/p6'); p.mkdir(); print(bench.generate(p, 1e6))"
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time


def rss_mb() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return 0


class Phases:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.phase = "start"
        self.peak: dict[str, int] = {}
        self.log: list[dict[str, object]] = []
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            rss, phase = rss_mb(), self.phase
            self.peak[phase] = max(self.peak.get(phase, 0), rss)
            time.sleep(0.5)

    def mark(self, name: str) -> None:
        rss = rss_mb()
        self.peak[self.phase] = max(self.peak.get(self.phase, 0), rss)
        self.log.append({"at_s": round(time.perf_counter() - self.started, 1), "rss_mb": rss,
                         "phase": name})
        self.phase = name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", required=True)
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--reports", default=None, help="default: a temporary folder")
    args = parser.parse_args(argv)

    from alloc import api
    from alloc.lp import solve

    phases = Phases()
    start = solve._PricedBeside.start
    answer = solve._PricedBeside.answer

    def beside(self: solve._PricedBeside, objectives: dict[str, float]) -> None:
        phases.mark("priced level beside the last levels")
        start(self, objectives)

    def answered(self: solve._PricedBeside) -> object:
        out = answer(self)
        phases.mark("after the levels")
        return out

    solve._PricedBeside.start = beside  # type: ignore[method-assign]
    solve._PricedBeside.answer = answered  # type: ignore[method-assign,assignment]
    phases.mark("load")
    plan = api.load(args.scenario, args.project)
    phases.mark("levels")
    result = api.solve(plan)
    phases.mark("write")
    with tempfile.TemporaryDirectory() as scratch:
        api.write(result, args.reports or scratch, args.project)
        phases.mark("end")
    time.sleep(0.6)
    print(json.dumps({"marks": phases.log, "peak_rss_mb": phases.peak,
                      "seconds": result.seconds}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
