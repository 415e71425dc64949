"""What-if solves in worker processes: a bounded number of them, each given a deadline, and a
worker still busy at its deadline is ended (and replaced), so a slow solve or diagnosis never
keeps a core after its user has been told it took too long.

Processes rather than threads because a solve past its deadline cannot be stopped in a thread
(the diagnosis of an infeasible plan has no time limit of its own), and because the solves then
run beside the web server's own work instead of sharing its interpreter lock.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from alloc.errors import InputError

WARM_MODULES = ("alloc.api", "alloc.lp.build", "alloc.lp.solve", "alloc.explain",
                "alloc.report.tables", "alloc.web.pages")
"""Imported by each worker as it starts, so that the first what-if does not pay for them."""


class Busy(TimeoutError):
    """No worker came free before the deadline."""


class Failed(RuntimeError):
    """The job raised in the worker (its traceback as the message) or the worker died."""


def _work(conn: Connection) -> None:
    """A worker's loop: run each job sent, send back (True, value) or (False, traceback)."""
    import importlib

    for module in WARM_MODULES:
        importlib.import_module(module)
    conn.send((True, "ready"))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        fn, args = job
        try:
            reply: tuple[bool, Any] = (True, fn(*args))
        except InputError as exc:     # sent as its problems: it does not pickle as itself
            reply = (False, exc.problems)
        except BaseException:
            reply = (False, traceback.format_exc())
        conn.send(reply)


class _Worker:
    def __init__(self, ctx: Any):
        self.conn, child = ctx.Pipe()
        self.process: BaseProcess = ctx.Process(target=_work, args=(child,), daemon=True,
                                                name="alloc-whatif")
        self.process.start()
        child.close()
        self.ready = False
        self.ended = False
        self._ending = threading.Lock()

    def wait_ready(self, timeout: float) -> bool:
        try:
            if not self.ready and self.conn.poll(max(timeout, 0)):
                self.ready = self.conn.recv() == (True, "ready")
        except (EOFError, OSError):     # ended while starting (the server stopping)
            self.ready = False
        return self.ready

    def end(self) -> None:
        """Idempotent, from any thread (the pool's `close` and `warm` may both end a worker)."""
        with self._ending:
            if self.ended:
                return
            self.ended = True
        self.process.kill()
        self.process.join(5)
        with contextlib.suppress(OSError):
            self.conn.close()


class WorkerPool:
    """At most `size` worker processes, started on demand (or by `warm`), reused from job to job.

    `run` blocks its calling thread until the job is done, the deadline passes, or no worker came
    free in time; call it off the event loop."""

    def __init__(self, size: int = 2):
        self.size = size
        self.ctx = mp.get_context("spawn")    # no fork of a threaded server
        self.free: list[_Worker] = []
        self.slots = threading.BoundedSemaphore(size)
        self.lock = threading.Lock()
        self.closed = False
        self.starting: set[_Worker] = set()
        """Workers `warm` is starting: ended by `close` too, so that a server stopped right
        after it started leaves no process behind and says nothing of it."""

    def warm(self) -> None:
        """Start the workers now (in the background), so that the first users do not wait."""
        def start() -> None:
            for _ in range(self.size):
                if not self.slots.acquire(blocking=False):
                    return
                try:
                    with self.lock:
                        if self.closed:
                            return
                        worker = _Worker(self.ctx)
                        self.starting.add(worker)
                    ready = worker.wait_ready(120)
                    with self.lock:
                        self.starting.discard(worker)
                    if ready:
                        self._give_back(worker)
                    else:
                        worker.end()
                finally:
                    self.slots.release()

        threading.Thread(target=start, name="alloc-warm", daemon=True).start()

    def run(self, fn: Callable[..., Any], args: tuple[Any, ...], seconds: float) -> Any:
        """fn(*args) in a worker within `seconds` (waiting for a worker included): its value, or
        Busy/TimeoutError at the deadline (the worker ended), or Failed."""
        deadline = time.monotonic() + seconds
        if not self.slots.acquire(timeout=seconds):
            raise Busy("every worker stayed busy until the deadline")
        try:
            with self.lock:
                worker = self.free.pop() if self.free else None
            if worker is None or not worker.process.is_alive():
                if worker is not None:
                    worker.end()
                worker = _Worker(self.ctx)
            if not worker.wait_ready(deadline - time.monotonic()):
                worker.end()
                raise TimeoutError("the worker did not start before the deadline")
            worker.conn.send((fn, args))
            if not worker.conn.poll(max(deadline - time.monotonic(), 0)):
                worker.end()       # still solving: ended, so it takes no core past the deadline
                raise TimeoutError("the solve did not finish before the deadline")
            try:
                ok, value = worker.conn.recv()
            except (EOFError, OSError):
                worker.end()
                raise Failed("the worker process ended unexpectedly") from None
            self._give_back(worker)
            if not ok:
                raise InputError(value) if isinstance(value, list) else Failed(str(value))
            return value
        finally:
            self.slots.release()

    def _give_back(self, worker: _Worker) -> None:
        with self.lock:
            if self.closed:
                worker.end()
            else:
                self.free.append(worker)

    def close(self) -> None:
        """End every idle worker (busy ones end with their job's deadline or the server)."""
        with self.lock:
            self.closed = True
            idle, self.free = self.free, []
            idle += list(self.starting)
        for worker in idle:
            worker.end()
