"""`alloc sweep --executor dask`: the same files as the local sweep, byte for byte; a worker lost
or a block failing once mid-sweep costs no variant and doubles none; an unreachable scheduler is
one clear line and exit 2. Clusters here are Dask LocalClusters of threads in the test's process
(light), with blocks of 5 variants so that a small sweep has several."""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

import dask.config  # noqa: E402

from alloc.cli import main  # noqa: E402
from alloc.model.scenario import resolve  # noqa: E402
from alloc.model.validate import validate  # noqa: E402
from alloc.sweep import core  # noqa: E402
from alloc.sweep.core import Engine, monte_carlo, run_variants  # noqa: E402

TESTS = Path(__file__).resolve().parents[1]
TINY = TESTS / "project"
DRAWS = 23      # blocks of 5: four whole, the last of 3


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "BLOCK", 5)


@pytest.fixture
def cluster() -> Iterator[distributed.LocalCluster]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None, silence_logs=logging.ERROR,
                                  scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"}
                                  ) as c:
        yield c


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["sweep", "tiny", "--project", str(TINY), *args])
    return code, out.getvalue(), err.getvalue()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _fields(results: list[core.Result]) -> list[tuple]:
    return [(r.id, r.values, r.status, r.objectives, r.priorities, r.entities, r.check, r.warm,
             r.unique, r.message) for r in results]


def test_dask_writes_the_files_of_the_local_sweep(tmp_path: Path,
                                                  cluster: distributed.LocalCluster) -> None:
    code, _, err = _cli("--draws", str(DRAWS), "--seed", "4", "--reports", str(tmp_path / "local"))
    assert code == 0, err
    code, out, err = _cli("--draws", str(DRAWS), "--seed", "4", "--reports", str(tmp_path / "dask"),
                          "--executor", "dask", "--scheduler", cluster.scheduler_address)
    assert code == 0, err
    assert err == "" and f"{DRAWS} variants ({DRAWS} optimal)" in out
    local = _files(tmp_path / "local" / "tiny" / "sweep")
    assert {"variants.csv", "summary.csv", "sweep.xlsx", "run.json"} <= set(local)
    assert _files(tmp_path / "dask" / "tiny" / "sweep") == local    # no timings in them: all


def test_a_local_cluster_gives_the_results_of_one_process() -> None:
    """No scheduler given: alloc starts a LocalCluster of --workers workers and closes it."""
    resolved = resolve("tiny", TINY)
    sweep = monte_carlo(validate(resolved), DRAWS, 5)
    seen: list[tuple[int, int]] = []
    dask_results = run_variants(resolved, sweep, 2, lambda d, t: seen.append((d, t)),
                                executor="dask", processes=False)
    assert _fields(dask_results) == _fields(run_variants(resolved, sweep))
    done = [d for d, _ in seen]
    steps = [b - a for a, b in zip([0, *done], done, strict=False)]
    assert [t for _, t in seen] == [DRAWS] * 5 and done[-1] == DRAWS
    assert sorted(steps) == [3, 5, 5, 5, 5]     # the bar moves block by block, as blocks finish


def test_a_block_failing_once_is_run_again_whole(monkeypatch: pytest.MonkeyPatch,
                                                 cluster: distributed.LocalCluster) -> None:
    resolved = resolve("tiny", TINY)
    sweep = monte_carlo(validate(resolved), DRAWS, 6)
    expected = _fields(run_variants(resolved, sweep))
    solve, failed = Engine.run, []

    def flaky(self: Engine, vid: int, values: tuple[float, ...]) -> core.Result:
        if vid == 12 and not failed:       # the middle of the third block, once
            failed.append(vid)
            raise OSError("connection to the worker reset")
        return solve(self, vid, values)

    monkeypatch.setattr(Engine, "run", flaky)
    got = run_variants(resolved, sweep, executor="dask", scheduler=cluster.scheduler_address)
    assert failed == [12]
    assert _fields(got) == expected                   # each variant once, as solved locally


def test_a_worker_lost_mid_sweep_costs_no_variant(monkeypatch: pytest.MonkeyPatch,
                                                  cluster: distributed.LocalCluster) -> None:
    """The worker solving variant 8 leaves the cluster while solving it: the scheduler gives its
    block to the other worker, which solves it from the start; what the lost worker still
    finishes is dropped."""
    resolved = resolve("tiny", TINY)
    sweep = monte_carlo(validate(resolved), DRAWS, 7)
    expected = _fields(run_variants(resolved, sweep))
    solve, lost = Engine.run, []

    def leaving(self: Engine, vid: int, values: tuple[float, ...]) -> core.Result:
        if vid == 8 and not lost:
            worker = distributed.get_worker()
            lost.append(worker.address)
            gone = threading.Event()

            async def close() -> None:
                await worker.close(executor_wait=False)
                gone.set()

            worker.loop.add_callback(close)
            gone.wait(30)
        return solve(self, vid, values)

    monkeypatch.setattr(Engine, "run", leaving)
    got = run_variants(resolved, sweep, executor="dask", scheduler=cluster.scheduler_address)
    assert len(lost) == 1 and lost[0] not in cluster.scheduler.workers
    assert _fields(got) == expected


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code, out, err = _cli("--draws", "3", "--reports", str(tmp_path), "--executor", "dask",
                              "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2 and out == ""
    assert "--scheduler tcp://127.0.0.1:9: no Dask scheduler could be reached there" in err
    assert "Traceback" not in err and "dask scheduler" in err
    assert not (tmp_path / "tiny").exists()
    code, _, err = _cli("--draws", "3", "--reports", str(tmp_path), "--scheduler", "tcp://x:1")
    assert code == 2 and "a scheduler is for --executor dask" in err


def test_a_spawned_worker_leaves_ctrl_c_to_the_command() -> None:
    """A LocalCluster's workers are spawned, importing the console script as `__mp_main__`: they
    must not answer Ctrl-C (sent to the whole process group) with the command's line as well.
    (Compared with the handlers the interpreter started with: a parent that ignores SIGINT, as a
    shell does for a job in the background, passes that on.)"""
    import subprocess
    import sys

    code = ("import signal, sys, types; sys.modules['__mp_main__'] = types.ModuleType('m'); "
            "was = [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)]; "
            "import alloc._entry; "
            "print([signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)] == was)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "True", done.stderr
    done = subprocess.run([sys.executable, "-c", code.replace(
        "sys.modules['__mp_main__'] = types.ModuleType('m'); ", "")], capture_output=True, text=True,
        timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_without_dask_installed_the_error_says_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)     # import distributed: ImportError
    code, _, err = _cli("--draws", "3", "--reports", str(tmp_path), "--executor", "dask")
    assert code == 2 and "pip install 'alloc[dask]'" in err and "Traceback" not in err
    assert not (tmp_path / "tiny").exists()
