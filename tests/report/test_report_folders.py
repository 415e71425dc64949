"""alloc replaces or deletes only what it wrote; signals tell the truth; a sweep and a run of the
same scenario at once both keep their output; a run that is not optimal never replaces a good one."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alloc.cli import main
from alloc.errors import InputError
from alloc.report import folders as folders

TESTS = Path(__file__).parents[1]


def alloc(*args: str, cwd: Path | None = None, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alloc", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, **kw)  # type: ignore[call-overload]


def snapshot(root: Path) -> dict[str, str]:
    """Every file and link below root with a digest of its content (links by their text)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = "link:" + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[rel] = "dir"
    return out


def owned_by_alloc(root: Path, rel: str) -> bool:
    """A path alloc may create: a lock or scratch name, or anything inside a marked folder."""
    path = root / rel
    if folders._SCRATCH.match(path.name):
        return True
    for parent in [path, *path.parents]:
        if parent == root:
            break
        if (parent / folders.MARKER).is_file():
            return True
    return False


# --- folders alloc did not write ----------------------------------------------------------------

@pytest.mark.parametrize("reports", [".", "models", "scenarios", "models/tiny", "scenarios/tiny.toml",
                                     "../outside", "user"])
def test_reports_folders_alloc_must_not_write_into_are_refused(project: Path, reports: str) -> None:
    (project.parent / "outside").mkdir()
    (project.parent / "outside" / "letter.docx").write_text("mine")
    (project / "user").mkdir()
    (project / "user" / "notes.txt").write_text("mine")
    before = snapshot(project.parent)
    result = alloc("run", "tiny", "--reports", reports, cwd=project)
    assert result.returncode == 2, result.stderr
    assert "--reports" in result.stderr and "Traceback" not in result.stderr
    assert snapshot(project.parent) == before


def test_a_folder_alloc_did_not_write_is_never_replaced(project: Path) -> None:
    mine = project / "reports" / "tiny"
    mine.mkdir(parents=True)
    (mine / "budget.xlsx").write_text("the user's own work")
    (project / "reports" / "README.md").write_text("read me")
    before = snapshot(project)
    result = alloc("run", "tiny", cwd=project)
    assert result.returncode == 2
    assert "reports/tiny: is a folder that alloc did not write" in result.stderr
    assert snapshot(project) == before


def test_a_link_alloc_did_not_make_is_never_replaced(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "run.json").write_text("{}")
    (project / "reports").mkdir()
    (project / "reports" / "tiny").symlink_to(elsewhere)
    result = alloc("run", "tiny", cwd=project)
    assert result.returncode == 2 and "is a link that alloc did not write" in result.stderr
    assert (project / "reports" / "tiny").resolve() == elsewhere.resolve()
    assert (elsewhere / "run.json").read_text() == "{}"


def test_the_default_reports_folder_may_hold_other_things(project: Path) -> None:
    (project / "reports").mkdir()
    (project / "reports" / "notes.txt").write_text("mine")
    assert alloc("run", "tiny", cwd=project).returncode == 0
    assert (project / "reports" / "notes.txt").read_text() == "mine"
    assert (project / "reports" / "tiny" / folders.MARKER).is_file()


def test_reports_written_before_the_marker_are_still_replaced(project: Path) -> None:
    assert alloc("run", "tiny", cwd=project).returncode == 0
    link = project / "reports" / "tiny"
    (link / folders.MARKER).unlink()
    assert alloc("run", "tiny", cwd=project).returncode == 0
    assert (link / folders.MARKER).is_file()
    assert len(list((project / "reports").glob(".tiny.run-*"))) == 1


def test_a_comparison_folder_is_only_replaced_by_a_comparison(project: Path) -> None:
    assert alloc("run", "tiny", cwd=project).returncode == 0
    with pytest.raises(InputError, match="alloc did not write"):
        folders.check_target(project / "reports" / "tiny", folders.COMPARISON)
    folders.check_target(project / "reports" / "tiny", folders.RUN)


def test_leftovers_of_killed_runs_are_cleaned_but_not_a_live_runs(project: Path) -> None:
    assert alloc("run", "tiny", cwd=project).returncode == 0
    reports = project / "reports"
    for name in (".tiny.tmp-dead", ".tiny.run-orphan", ".tiny.old-aside", ".other.tmp-dead"):
        (reports / name).mkdir()
        (reports / name / "x").write_text("half")
        os.utime(reports / name, (time.time() - 3600, time.time() - 3600))  # a killed run's, old
    young = reports / ".tiny.tmp-young"  # made a moment ago, not yet locked by its writer
    young.mkdir()
    (reports / ".tiny.link-dangling").symlink_to(".tiny.run-orphan")
    live = reports / ".tiny.tmp-live"
    live.mkdir()
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert alloc("run", "tiny", cwd=project).returncode == 0
        left = sorted(p.name for p in reports.iterdir() if p.name.startswith("."))
        current = os.readlink(reports / "tiny")
        assert left == sorted([".tiny.lock", current, ".tiny.tmp-live", ".tiny.tmp-young"])
    finally:
        os.close(fd)


# --- a run that is not optimal -----------------------------------------------------------------

INFEASIBLE = '\n[rules.committed.too-much]\nentity = "A"\npriority = "P1"\noutput = "O"\n' \
             'amount = 100000\n'


def test_a_run_that_is_not_optimal_never_replaces_a_good_report(project: Path) -> None:
    scenario = project / "scenarios" / "tiny.toml"
    good = scenario.read_text()
    assert alloc("run", "tiny", cwd=project).returncode == 0
    folder = project / "reports" / "tiny"
    before = snapshot(folder)
    scenario.write_text(good + INFEASIBLE)
    result = alloc("run", "tiny", cwd=project)
    assert result.returncode == 1, result.stderr
    assert "reports/tiny/not-optimal/" in result.stdout and "is kept" in result.stdout
    assert {k: v for k, v in snapshot(folder).items() if not k.startswith("not-optimal")} == before
    record = json.loads((folder / "not-optimal" / "run.json").read_text())
    assert record["status"] == "infeasible"
    assert (folder / "not-optimal" / "infeasibility.json").is_file()
    # a time-limited run is not optimal either
    scenario.write_text(good)
    # the next optimal run replaces the report whole, without the stale diagnosis
    assert alloc("run", "tiny", cwd=project).returncode == 0
    assert not (folder / "not-optimal").exists()


def test_without_a_good_report_the_diagnosis_is_the_report(project: Path) -> None:
    scenario = project / "scenarios" / "tiny.toml"
    scenario.write_text(scenario.read_text() + INFEASIBLE)
    assert alloc("run", "tiny", cwd=project).returncode == 1
    record = json.loads((project / "reports" / "tiny" / "run.json").read_text())
    assert record["status"] == "infeasible"


# --- a sweep and a run at the same time ------------------------------------------------------

def test_a_sweep_and_a_run_of_the_same_scenario_both_keep_their_output(project: Path) -> None:
    def sweep(_: int) -> subprocess.CompletedProcess[str]:
        return alloc("sweep", "tiny", "--ceiling", "0.9,0.95,1.0,1.05,1.1", "--quiet", cwd=project)

    def run(_: int) -> subprocess.CompletedProcess[str]:
        return alloc("run", "tiny", "--quiet", cwd=project)

    with ThreadPoolExecutor(4) as pool:
        jobs = [pool.submit(f, i) for i in range(3) for f in (sweep, run)]
        results = [j.result() for j in jobs]
    for r in results:
        assert r.returncode == 0, r.stderr
    folder = project / "reports" / "tiny"
    assert json.loads((folder / "run.json").read_text())["status"] == "optimal"
    assert len((folder / "sweep" / "variants.csv").read_text().splitlines()) == 6
    left = sorted(p.name for p in (project / "reports").iterdir() if p.name.startswith("."))
    assert left == sorted([".tiny.lock", os.readlink(folder)])


def test_a_sweep_before_any_run_makes_a_report_to_hold_it(project: Path) -> None:
    assert alloc("sweep", "tiny", "--ceiling", "0.9,1.0", "--quiet", cwd=project).returncode == 0
    assert (project / "reports" / "tiny" / "sweep" / "variants.csv").is_file()
    assert alloc("run", "tiny", "--quiet", cwd=project).returncode == 0
    assert (project / "reports" / "tiny" / "sweep" / "variants.csv").is_file()


# --- signals ------------------------------------------------------------------------------------

def _start(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "alloc", *args, "--project", str(project)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _whole(folder: Path) -> None:
    run = json.loads((folder / "run.json").read_text())
    assert run["status"] == "optimal"
    for name in ("allocation.csv", "appendix-a.xlsx", "appendix-a.md", folders.MARKER):
        assert (folder / name).stat().st_size > 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_at_any_moment_says_truly_which_report_stands(project: Path, sig: int) -> None:
    assert alloc("run", "baseline", cwd=project).returncode == 0
    link = project / "reports" / "baseline"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import alloc._entry"], check=True, timeout=60)
    # the interpreter's own start, before alloc's first line can hold a signal, with a margin
    startup = 1.5 * (time.perf_counter() - started)
    started = time.perf_counter()
    assert alloc("run", "baseline", "--quiet", cwd=project).returncode == 0
    duration = time.perf_counter() - started
    seen = set()
    for fraction in (0.0, 0.05, 0.15, 0.3, 0.5, 0.7, 0.85, 0.93, 0.97, 1.0, 1.05):
        previous = os.readlink(link)
        process = _start(project, "run", "baseline")
        time.sleep(startup + (duration - startup) * fraction)
        if process.poll() is not None:
            process.communicate()
            continue
        process.send_signal(sig)
        out, err = process.communicate(timeout=300)
        assert "Traceback" not in err, err
        _whole(link)
        if process.returncode == 0:  # the signal came as the process was already leaving
            assert "wrote" in out and err == "", (out, err)
            seen.add("finished")
            continue
        if process.returncode == -sig:  # before the interpreter ran alloc's first line (load)
            assert out == "" and err == "" and os.readlink(link) == previous, (out, err)
            seen.add("before start")
            continue
        assert process.returncode == 130, (fraction, process.returncode, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        if "written whole" in lines[0]:
            assert os.readlink(link) != previous, err
            seen.add("new")
        else:
            assert "unchanged" in lines[0] or "nothing was written" in lines[0], err
            assert os.readlink(link) == previous, err
            seen.add("previous")
    assert "previous" in seen


def test_ctrl_c_on_a_sweep_with_workers_ends_them_all_quietly(project: Path) -> None:
    process = _start(project, "sweep", "baseline", "--draws", "3000", "--workers", "2")
    time.sleep(4)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip().splitlines()[-1].startswith("alloc: interrupted")
    assert len([line for line in err.splitlines() if line.startswith("alloc:")]) == 1
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)
    assert not (project / "reports" / "baseline" / "sweep").exists()


# --- property: nothing outside alloc's own folders changes -------------------------------------

NAMES = st.text(st.sampled_from("ab.-_ é/\\"), min_size=1, max_size=6) | st.sampled_from(
    [".", "..", "compare", "README.md", "reports", "models", "con", "tiny", ".hidden", "a b"])
REPORTS = st.sampled_from([None, ".", "..", "models", "scenarios", "reports", "reports/x", "out",
                           "../sibling", "reports/compare", "reports/tiny", "scenarios/tiny.toml",
                           "models/tiny", "reports/README.md", "user", "fresh/new"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES, reports=REPORTS)
def test_whatever_the_names_nothing_outside_allocs_folders_changes(name: str, reports: str | None
                                                                  ) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = root / "project"
        shutil.copytree(TESTS / "project", project)
        (root / "sibling").mkdir()
        (root / "sibling" / "keep.txt").write_text("mine")
        (project / "user").mkdir()
        (project / "user" / "keep.txt").write_text("mine")
        (project / "reports").mkdir()
        (project / "reports" / "README.md").write_text("generated reports")
        scenario = project / "scenarios" / f"{name}.toml"
        try:
            scenario.parent.mkdir(parents=True, exist_ok=True)
            scenario.write_text('[scenario]\nparent = "tiny"\n')
        except (OSError, ValueError):
            return
        before = snapshot(root)
        cwd = os.getcwd()
        os.chdir(project)
        try:
            args = ["run", str(scenario), "--quiet"]
            code = main(args + (["--reports", reports] if reports is not None else []))
        finally:
            os.chdir(cwd)
        assert code in (0, 2)
        after = snapshot(root)
        for rel, digest in before.items():
            assert after.get(rel) == digest, (name, reports, rel)
        new = set(after) - set(before)
        for rel in new:
            holds_ours = after[rel] == "dir" and any(
                o.startswith(rel + "/") and owned_by_alloc(root, o) for o in new)
            assert owned_by_alloc(root, rel) or holds_ours, (name, reports, rel)


def test_a_signal_that_reaches_another_thread_waits_for_the_switch() -> None:
    """The mask holds this thread only: a signal the kernel gives a solver's thread still runs
    Python's handler in the main thread, mid-switch. The hold defers it to the switch's end."""
    calls: list[str] = []

    def handler(signum: int, frame: object) -> None:
        if folders.defer(signum):
            calls.append("deferred")
            return
        calls.append("handled")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        with folders._signals_held():
            handler(signal.SIGINT, None)     # what Python runs when another thread got it
            calls.append("switched")
        assert calls == ["deferred", "switched", "handled"]
        assert not folders.defer(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)
