"""`alloc sweep --executor dask`: the blocks of variants on a Dask cluster (dask.distributed).

The seam is the same as for the local processes: a block of variants (`core.BLOCK`) is solved
from a freshly built model, so that its answers depend on the sweep alone, never on which worker
ran it nor on what ran there before; the files are therefore the same bytes as a local sweep's.
The scenario is sent once to every worker (scattered), the blocks are tasks; a block whose worker
is lost is run again from scratch on another (the scheduler's `allowed-failures`), one that raised
is retried (`RETRIES`), and each block's results are kept once, by its place in the sweep: no
variant lost, none twice.

Dask is optional (`pip install 'alloc[dask]'`): imported here only, when asked for.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from alloc.errors import InputError, Problem, SolveError

if TYPE_CHECKING:
    from alloc.model.scenario import Resolved
    from alloc.sweep.core import Parameter, Result

RETRIES = 2
"""Times a block that raised on a worker is run again before the sweep stops with its error."""
INSTALL = "pip install 'alloc[dask]'"


def _solve_block(shared: tuple[Resolved, list[Parameter]],
                 block: list[tuple[int, tuple[float, ...]]]) -> list[Result]:
    """A task: one block of variants on a fresh engine (as `core._run_block` in a local process)."""
    from alloc.sweep.core import Engine

    engine = Engine(*shared)
    return [engine.run(vid, values) for vid, values in block]


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise InputError([Problem("command line", "--executor dask", (
            f"Dask is not installed here; install it with {INSTALL} (on the workers too), or "
            "leave out --executor dask to solve on this machine"))]) from None
    return distributed


def connect_timeout() -> float:
    """Seconds to wait for the scheduler: Dask's `distributed.comm.timeouts.connect` (10 s unless
    set, e.g. DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=30s)."""
    import dask.config
    from dask.utils import parse_timedelta

    return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s") or 10)


def _client(distributed: Any, scheduler: str | None, workers: int,
            processes: bool) -> tuple[Any, Any]:
    """A client of the scheduler at `scheduler`, or of a LocalCluster of `workers` workers."""
    if scheduler is None:
        cluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=processes,
            dashboard_address=None, silence_logs=logging.ERROR,
            scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"})  # no fixed port
        return distributed.Client(cluster), cluster
    timeout = connect_timeout()
    try:
        return distributed.Client(scheduler, timeout=timeout), None
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError([Problem("command line", f"--scheduler {scheduler}", (
            f"no Dask scheduler could be reached there ({reason}; waited up to {timeout:g} s); start "
            "one (`dask scheduler`) and its workers (`dask worker ADDRESS`, with alloc installed), "
            "check the address (tcp://HOST:8786), or leave out --scheduler for a cluster on this "
            "machine"))]) from None


def run_blocks(resolved: Resolved, parameters: list[Parameter],
               blocks: Sequence[list[tuple[int, tuple[float, ...]]]], total: int,
               progress: Callable[[int, int], None] | None = None, *,
               scheduler: str | None = None, workers: int = 1,
               processes: bool = True) -> list[Result]:
    """Every block solved on the cluster; the results in variant order, each variant once.

    `scheduler`: the address of a running scheduler (tcp://HOST:8786); None for a LocalCluster
    of `workers` worker processes (threads when `processes` is False), closed afterwards.
    """
    distributed = _distributed()
    client, cluster = _client(distributed, scheduler, workers, processes)
    try:
        shared = client.scatter([(resolved, list(parameters))], broadcast=True, hash=False)[0]
        run = uuid.uuid4().hex[:12]
        futures = [client.submit(_solve_block, shared, block, key=f"alloc-sweep-{run}-{i}",
                                 pure=False, retries=RETRIES)
                   for i, block in enumerate(blocks)]
        place = {f.key: i for i, f in enumerate(futures)}
        solved: dict[int, list[Result]] = {}
        done = 0
        try:
            for future in distributed.as_completed(futures):
                i = place[future.key]
                try:
                    results = future.result()
                except distributed.KilledWorker:
                    first, last = blocks[i][0][0], blocks[i][-1][0]
                    raise SolveError(
                        f"the Dask cluster lost every worker that ran variants {first}-{last} "
                        "(each died while solving them: out of memory?); nothing was written"
                    ) from None
                if i not in solved:
                    solved[i] = results
                    done += len(results)
                    if progress:
                        progress(done, total)
        finally:
            client.cancel(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    out = [r for i in range(len(blocks)) for r in solved[i]]
    if [r.id for r in out] != [vid for block in blocks for vid, _ in block]:
        raise SolveError("the Dask cluster returned the variants incompletely; nothing was written")
    return out
