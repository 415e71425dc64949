"""A bounded load test of `alloc serve` on localhost (issue 15, item 5).

Copies a project (models/ and scenarios/) into a temporary folder, starts `alloc serve
--allow-save` on a free port of 127.0.0.1 in a subprocess, and for --seconds runs --users browsing
users (the scenario list, scenario pages in every funds/period view, comparisons of two
scenarios) and --whatif-users users re-solving what-ifs with values of their own, each saving one
of them as a scenario under a unique name. Every user waits --think seconds on average between
two requests (uniformly 0 to twice that), as a person reading a page would.

At the end: every response must be the expected one (200 and the page's marker), every save
present on disk exactly once (scenarios/NAME.toml, with its parent, and no temporary file left);
prints the median, p95 and largest time per kind of request and exits 1 on any error or lost
save. --benchmarks FILE writes the figures as the "Web" section at the end of that file.

    python bench/load.py [--seconds 60] [--users 20] [--whatif-users 5] [--project DIR]
                         [--think 1.0] [--benchmarks BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Web: `alloc serve` under load (issue 15)"
MARKERS = {"list": "<h1>Scenarios", "scenario": 'id="a1-priority-entity"', "compare": " vs ",
           "scenario, first view": 'id="a1-priority-entity"', "compare, first view": " vs ",
           "what-if, alone": "<h2>Result: optimal",
           "what-if": "<h2>Result: ", "save": "Saved scenarios/"}
"""What the body of each kind of response must hold to count as the expected page."""


@dataclass
class Sample:
    kind: str
    seconds: float
    ok: bool
    detail: str = ""


@dataclass
class Report:
    samples: list[Sample] = field(default_factory=list)
    saves: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    seconds: float = 0.0
    users: int = 0
    whatif_users: int = 0
    think: float = 0.0
    load_before: str = ""
    load_after: str = ""
    whatif_status: dict[str, int] = field(default_factory=dict)
    warm_seconds: float | None = None
    solve_seconds: list[float] = field(default_factory=list)
    """The what-ifs' own times in the worker (load, build, solve, tables), as the page says."""

    @property
    def errors(self) -> list[Sample]:
        return [s for s in self.samples if not s.ok]

    def rows(self) -> list[tuple[str, int, int, float, float, float]]:
        """kind, requests, errors, median, p95, max (seconds)."""
        out = []
        for kind in ("scenario, first view", "compare, first view", "what-if, alone", "list",
                     "scenario", "compare", "what-if", "save"):
            times = sorted(s.seconds for s in self.samples if s.kind == kind)
            if not times:
                continue
            errors = sum(1 for s in self.samples if s.kind == kind and not s.ok)
            p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
            out.append((kind, len(times), errors, statistics.median(times), p95, times[-1]))
        pages = sorted(s.seconds for s in self.samples if s.kind in ("list", "scenario", "compare"))
        if pages:
            p95 = pages[min(len(pages) - 1, max(0, round(0.95 * len(pages)) - 1))]
            out.append(("all pages", len(pages), sum(1 for s in self.samples if s.kind in
                        ("list", "scenario", "compare") and not s.ok),
                        statistics.median(pages), p95, pages[-1]))
        return out

    def verdict(self) -> str:
        """The medians against the targets, in words."""
        rows = {r[0]: r for r in self.rows()}
        out = []
        for kind, target, what in (("all pages", 0.3, "Median page"),
                                   ("what-if", 1.5, "median what-if"),
                                   ("what-if, alone", 1.5, "a what-if alone")):
            if kind in rows:
                med = rows[kind][3]
                out.append(f"{what} {med * 1000:,.0f} ms: target {target * 1000:,.0f} ms "
                           + ("met" if med < target else "NOT met"))
        return "; ".join(out) + "." if out else ""

    def table(self) -> str:
        lines = ["| request | count | errors | median (ms) | p95 (ms) | max (ms) |",
                 "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for kind, n, err, med, p95, top in self.rows():
            lines.append(f"| {kind} | {n:,} | {err} | {med * 1000:,.0f} | {p95 * 1000:,.0f} | "
                         f"{top * 1000:,.0f} |")
        return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def copy_project(source: Path, into: Path) -> Path:
    project = into / "project"
    for part in ("models", "scenarios"):
        shutil.copytree(source / part, project / part, ignore=shutil.ignore_patterns("examples"))
    return project


def start_server(project: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen([sys.executable, "-m", "alloc", "serve", "--project", str(project),
                             "--port", str(port), "--allow-save"], stdout=out,
                            stderr=subprocess.STDOUT, cwd=project)


def wait_ready(base: str, server: subprocess.Popen[bytes], seconds: float = 120) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if server.poll() is not None:
            raise SystemExit(f"load: the server exited with {server.returncode} before serving")
        try:
            if httpx.get(base + "/", timeout=30).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"load: the server did not answer within {seconds:.0f} s")


class User:
    """One person's session (its own cookies, so its own CSRF token)."""

    def __init__(self, base: str, report: Report, lock: threading.Lock, rng: random.Random,
                 timeout: float = 60):
        self.client = httpx.Client(base_url=base, timeout=timeout, follow_redirects=False)
        self.report, self.lock, self.rng = report, lock, rng

    def request(self, kind: str, method: str, url: str, data: dict[str, str] | None = None,
                marker: str | None = None) -> str:
        started = time.perf_counter()
        try:
            answer = self.client.request(method, url, data=data)
            text, status = answer.text, answer.status_code
        except httpx.HTTPError as exc:
            text, status = "", 0
            detail = f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - started
        ok = status == 200 and (marker or MARKERS[kind]) in text
        if status:
            detail = "" if ok else f"{status} {method} {url}: " + _gist(text)
        with self.lock:
            self.report.samples.append(Sample(kind, seconds, ok, detail))
        return text if ok else ""

    def pause(self) -> None:
        time.sleep(self.rng.uniform(0, 2 * self.report.think))


def _gist(html: str) -> str:
    text = re.sub(r"<[^>]+>", " ", html)
    return " ".join(text.split())[:300]


def pairs(names: list[str]) -> list[tuple[str, str]]:
    """The comparisons users open: the reference scenario (baseline, else the first) against
    each other one, as a working group compares its options."""
    reference = "baseline" if "baseline" in names else names[0]
    return [(reference, n) for n in names if n != reference]


def warm_up(base: str, report: Report, lock: threading.Lock, names: list[str]) -> float:
    """Open every scenario and every comparison once, all at once (their first views solve);
    timed apart from the test. Returns the wall time it took."""
    started = time.perf_counter()
    jobs = [("scenario, first view", f"/scenario/{n}", None) for n in names]
    jobs += [("compare, first view", f"/compare?s={a}&s={b}", f"<h1>{a} vs {b}</h1>")
             for a, b in pairs(names)]
    threads = [threading.Thread(target=User(base, report, lock, random.Random(0), 900).request,
                                args=(kind, "GET", url, None, marker)) for kind, url, marker in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def alone(base: str, report: Report, lock: threading.Lock, name: str, count: int = 5) -> None:
    """A few what-ifs by one user with nobody else on the server: the time without queueing."""
    user = User(base, report, lock, random.Random(2))
    page = user.request("what-if, alone", "GET", f"/whatif/{name}", marker="<h1>What-if")
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    report.samples.pop()           # the form itself is not a what-if
    for i in range(count):
        user.request("what-if, alone", "POST", f"/whatif/{name}",
                     {"csrf": found.group(1) if found else "", "cut": f"{0.011 + i / 1000:.4f}"})


def browse(user: User, names: list[str], views: list[tuple[str, str]], until: float) -> None:
    while time.monotonic() < until:
        pick = user.rng.random()
        if pick < 0.15:
            user.request("list", "GET", "/")
        elif pick < 0.85 or len(names) < 2:
            funds, period = user.rng.choice(views)
            query = "&".join(f"{k}={v}" for k, v in (("funds", funds), ("period", period))
                             if v != "all")
            user.request("scenario", "GET", f"/scenario/{user.rng.choice(names)}"
                         + (f"?{query}" if query else ""))
        else:
            a, b = user.rng.choice(pairs(names))
            user.request("compare", "GET", f"/compare?s={a}&s={b}", marker=f"<h1>{a} vs {b}</h1>")
        user.pause()


def what_ifs(user: User, number: int, names: list[str], run_id: str, until: float) -> None:
    """Re-solves with values of its own; saves its second what-if (its first if the time is
    short) as load-RUN-NUMBER."""
    name = user.rng.choice(names)
    page = user.request("what-if", "GET", f"/whatif/{name}", marker="<h1>What-if")
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    token = found.group(1) if found else ""
    done = 0
    saved = False
    while time.monotonic() < until or not saved:
        values = {"csrf": token, "cut": f"{user.rng.uniform(0, 0.08):.4f}",
                  "ceiling": f"{user.rng.uniform(0.95, 1.05):.4f}"}
        if not saved and (done == 1 or time.monotonic() > until - 4 * user.report.think - 3):
            save = f"load-{run_id}-{number}"
            text = user.request("save", "POST", f"/whatif/{name}",
                                {**values, "save": "1", "name": save,
                                 "title": f"Load test {run_id}, user {number}"})
            saved = True
            with user.lock:
                user.report.saves.append(save)
        else:
            text = user.request("what-if", "POST", f"/whatif/{name}", values)
        status = re.search(r"<h2>Result: (\w+)(?: \(([0-9.]+) s\))?", text)
        with user.lock:
            key = status.group(1) if status else "error"
            user.report.whatif_status[key] = user.report.whatif_status.get(key, 0) + 1
            if status and status.group(2):
                user.report.solve_seconds.append(float(status.group(2)))
        done += 1
        user.pause()


def check_saves(project: Path, report: Report) -> None:
    """Every save on disk exactly once, whole, with its parent; no temporary file left behind."""
    folder = project / "scenarios"
    present = [p.name for p in folder.iterdir()]
    for save in report.saves:
        hits = [n for n in present if n == f"{save}.toml"]
        if len(hits) != 1:
            report.lost.append(f"{save}: {len(hits)} files")
            continue
        try:
            doc = tomllib.loads((folder / hits[0]).read_text(encoding="utf-8"))
            if "parent" not in doc.get("scenario", {}):
                report.lost.append(f"{save}: no parent in the file")
        except (OSError, ValueError) as exc:
            report.lost.append(f"{save}: {exc}")
    left = [n for n in present if n.endswith(".tmp")]
    if left:
        report.lost.append("temporary files left: " + ", ".join(left))


def run(project: Path, seconds: float = 60, users: int = 20, whatif_users: int = 5,
        think: float = 1.0, seed: int = 1, quiet: bool = False, cold: bool = False) -> Report:
    report = Report(seconds=seconds, users=users, whatif_users=whatif_users, think=think)
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="alloc-load-") as tmp:
        copy = copy_project(project, Path(tmp))
        names = sorted(p.stem for p in (copy / "scenarios").glob("*.toml"))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = Path(tmp) / "serve.log"
        server = start_server(copy, port, log)
        try:
            wait_ready(base, server)
            if not cold:
                report.warm_seconds = warm_up(base, report, lock, names)
                if not quiet:
                    print(f"load: every scenario and comparison opened once in "
                          f"{report.warm_seconds:.1f} s")
                alone(base, report, lock, "baseline" if "baseline" in names else names[0])
            first = httpx.get(f"{base}/scenario/{names[0]}", timeout=600).text
            views = sorted({(f, p) for f in ("all", "regular")
                            for p in ["all", *re.findall(r"period=([0-9-]+)", first)]})
            report.load_before = _load()
            if not quiet:
                print(f"load: {users} browsing and {whatif_users} what-if users for {seconds:.0f} s "
                      f"against {base} ({len(names)} scenarios, {len(views)} views each)")
            rng = random.Random(seed)
            until = time.monotonic() + seconds
            run_id = f"{os.getpid()}"
            threads = [threading.Thread(target=browse, args=(
                User(base, report, lock, random.Random(rng.random())), names, views, until))
                for _ in range(users)]
            threads += [threading.Thread(target=what_ifs, args=(
                User(base, report, lock, random.Random(rng.random())), i, names, run_id, until))
                for i in range(whatif_users)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            report.load_after = _load()
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        check_saves(copy, report)
        if report.errors or report.lost:
            sys.stderr.write("load: the server's log:\n" + log.read_text(errors="replace")[-3000:])
    return report


def _secs(value: float | None) -> str:
    return "skipped (--cold)" if value is None else f"{value:.0f} s"


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s" if values else "-"


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def write_section(path: Path, report: Report, command: str) -> None:
    """The "Web" section, replaced if there, else added at the end of the file."""
    cores = os.cpu_count()
    first = ("Before the test, every scenario and comparison was opened once, all at once (their "
             f"first views solve: {_secs(report.warm_seconds)} in all; the \"first view\" rows), "
             "then five what-ifs were run by one user with nobody else on the server (\"what-if, "
             "alone\")." if report.warm_seconds is not None else
             "With --cold: the scenarios' first views (their solves) fall inside the test.")
    paragraphs = [
        f"`{command}` (bench/load.py): `alloc serve --allow-save` in a subprocess on a free port "
        "of 127.0.0.1, against a copy of the project's models/ and scenarios/ in a temporary "
        f"folder; {report.users} users browsing (the scenario list, scenario pages in every funds "
        "and period view, the reference scenario compared with another) and "
        f"{report.whatif_users} users re-solving what-ifs (a cut and a factor on the ceiling of "
        "their own; each saves one as a scenario under a unique name), for "
        f"{report.seconds:.0f} s, every user pausing 0 to {2 * report.think:g} s (uniformly) "
        f"between two requests. {first}",
        f"Machine: {cores} cores **shared with other sessions' test runs** (load average "
        f"{report.load_before} before the test, {report.load_after} after: 1, 5, 15 min), Python "
        f"{platform.python_version()}. Targets: median page under 300 ms, what-if under 1.5 s.",
        "\n" + report.table() + "\n",
        f"{report.verdict()} Errors: {len(report.errors)}. Saves: {len(report.saves)}, each on "
        "disk exactly once "
        f"({'none lost' if not report.lost else 'LOST: ' + '; '.join(report.lost)}). What-if "
        f"answers: {', '.join(f'{k} {v}' for k, v in sorted(report.whatif_status.items()))}.",
        "A what-if's own time in its worker (load and validate the what-if file, build, solve, "
        "check, the rounded table A1), as its page says: median "
        f"{_median(report.solve_seconds)} under the load; the rest of its time is waiting for one "
        "of the two what-if workers. About half of that own time is making table A1 "
        "(`alloc.report.tables` rounds every table of every year to get it, ~0.17 s alone), about "
        "a third the solve and its check.",
    ]
    body = SECTION + "\n\n" + "\n\n".join(
        p.strip("\n") if p.startswith("\n") else textwrap.fill(p, 100, break_on_hyphens=False,
                                                                break_long_words=False)
        for p in paragraphs) + "\n"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start = text.find(SECTION)
    if start >= 0:
        following = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + (text[following + 1:] if following >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + body
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=ROOT)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--whatif-users", type=int, default=5)
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean pause between two requests of a user, seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cold", action="store_true",
                        help="no warm-up: the scenarios' first views (their solves) fall in the test")
    parser.add_argument("--benchmarks", type=Path, default=None,
                        help="write the figures as the Web section of this file (BENCHMARKS.md)")
    args = parser.parse_args(argv)
    report = run(args.project, args.seconds, args.users, args.whatif_users, args.think, args.seed,
                 cold=args.cold)
    print(report.table())
    print(report.verdict())
    print(f"errors: {len(report.errors)}; saves: {len(report.saves)}, lost: {len(report.lost)}; "
          f"what-if answers: {report.whatif_status}; load average {report.load_before} -> "
          f"{report.load_after}")
    if report.solve_seconds:
        print(f"what-if solve in the worker: median {statistics.median(report.solve_seconds):.2f} s "
              f"(the rest of a what-if's time is waiting for a worker and the page)")
    for sample in report.errors[:10]:
        print(f"  error: {sample.kind} after {sample.seconds:.2f} s: {sample.detail}")
    for lost in report.lost:
        print(f"  lost: {lost}")
    if args.benchmarks is not None:
        command = "python bench/load.py " + " ".join(argv if argv is not None else sys.argv[1:])
        write_section(args.benchmarks, report, command.strip())
    return 1 if report.errors or report.lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
