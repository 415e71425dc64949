"""Ctrl-C and termination: exit 130 with one true line, at every moment of a command.

SIGINT and SIGTERM are handled alike. While a command works, the first signal raises
KeyboardInterrupt, which the CLI turns into its line; later signals are ignored while it stops.
Before the work starts and after it is done, the handler writes the line itself and leaves at
once. The line says which reports now stand, from what `alloc.report.folders` switched into place.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable

from alloc.report import folders as folders
from alloc.text import printable

EXIT_INTERRUPTED = 130
SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)

LOADING, WORKING, STOPPING, DONE = "loading", "working", "stopping", "done"
_phase = LOADING


def message() -> str:
    """Which reports stand now: the ones switched into place, whole; every other unchanged."""
    return printable(_message())


def _message() -> str:
    done = [p.as_posix() + "/" for p in folders.switched()]
    pending = [p.as_posix() + "/" for p in folders.pending() if p not in folders.switched()]
    if done and pending:
        return (f"alloc: interrupted; {', '.join(done)} written whole; {', '.join(pending)} "
                "unchanged")
    if done:
        return f"alloc: interrupted after the work was done; {', '.join(done)} written whole"
    if pending:
        return (f"alloc: interrupted; {', '.join(pending)} unchanged (the previous report, if "
                "any, stands whole)")
    return "alloc: interrupted; nothing was written"


def _leave() -> None:
    line = (message() + "\n").encode("utf-8", "replace")
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, RuntimeError, ValueError):  # mid-write when interrupted
            stream.flush()
    try:
        os.write(2, line)
    finally:
        os._exit(EXIT_INTERRUPTED)


def _on_signal(signum: int, frame: object) -> None:
    global _phase
    if folders.defer(signum):   # a report is being switched into place: after it, whole
        return
    if _phase == WORKING:
        _phase = STOPPING
        raise KeyboardInterrupt
    if _phase == STOPPING:
        return
    _leave()


def set_phase(phase: str) -> None:
    global _phase
    _phase = phase


def install() -> Callable[[], None]:
    """Handle SIGINT and SIGTERM here (main thread only); returns what restores the previous
    handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    if all(h is _on_signal for h in previous.values()):
        return lambda: None
    for s in SIGNALS:
        signal.signal(s, _on_signal)

    def restore() -> None:
        for s, h in previous.items():
            signal.signal(s, h)
    return restore


def quiet_worker() -> None:
    """In a worker process: Ctrl-C reaches the whole process group, but only the parent answers
    it (it ends the workers itself); termination ends a worker silently."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
