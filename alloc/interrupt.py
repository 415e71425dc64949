"""Ctrl-C and termination: exit 130 with one true line, at every moment of a command.

SIGINT and SIGTERM are handled alike. While a command works, the first signal raises
KeyboardInterrupt, which the CLI turns into its line; later signals are ignored while it stops.
Before the work starts and after it is done, the handler writes the line itself and leaves at
once. The line says which reports now stand, from what `alloc.report.folders` switched into place.

Python runs a signal's handler wherever the main thread happens to be, and an exception raised
inside a finalizer or a weakref callback (the import system's module locks have one) is printed
as "Exception ignored" and dropped. The interruption would be lost and the command would go on to
the end under a traceback; `_on_unraisable` catches that drop and delivers the signal again.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

from alloc.report import folders as folders
from alloc.text import printable

EXIT_INTERRUPTED = 130
SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)

LOADING, WORKING, STOPPING, DONE = "loading", "working", "stopping", "done"
_phase = LOADING
_phase_lock = threading.Lock()
_raised: int | None = None
"""The signal the handler turned into KeyboardInterrupt, until the command stops."""
_in_hook = False
_previous_unraisable: Callable[[sys.UnraisableHookArgs], object] = sys.unraisablehook


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
    global _phase, _raised
    if folders.defer(signum):   # a report is being switched into place: after it, whole
        return
    if _phase == WORKING:
        _phase, _raised = STOPPING, signum
        raise KeyboardInterrupt
    if _phase == STOPPING:
        return
    _leave()


def _on_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """The interruption was raised inside a finalizer, where Python drops it: raise it again
    from outside. Another thread sends the signal to the main thread once this hook has
    returned; until then the phase stays STOPPING, so the signal cannot land in the hook itself
    (should it land in another finalizer, it comes back here). Any other drop is the previous
    hook's."""
    global _in_hook
    if (_phase == STOPPING and _raised is not None
            and isinstance(unraisable.exc_value, KeyboardInterrupt)
            and threading.current_thread() is threading.main_thread()):
        _in_hook = True
        threading.Thread(target=_deliver, args=(_raised,), daemon=True).start()
        _in_hook = False
        return
    _previous_unraisable(unraisable)


def _deliver(signum: int) -> None:
    """The signal again, to the main thread, so that a wait it is in (a lock, a sleep) ends."""
    global _phase
    while _in_hook:
        time.sleep(0.001)
    with _phase_lock:
        if _phase == STOPPING:   # else the work is done meanwhile: the handler says so, and leaves
            _phase = WORKING
    main = threading.main_thread().ident
    if hasattr(signal, "pthread_kill") and main is not None:
        signal.pthread_kill(main, signum)
    else:
        _thread.interrupt_main(signal.Signals(signum))


def set_phase(phase: str) -> None:
    global _phase, _raised
    with _phase_lock:
        _phase = phase
        if phase == WORKING:
            _raised = None


def install() -> Callable[[], None]:
    """Handle SIGINT and SIGTERM here (main thread only); returns what restores the previous
    handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    global _previous_unraisable
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    if all(h is _on_signal for h in previous.values()):
        return lambda: None
    for s in SIGNALS:
        signal.signal(s, _on_signal)
    unraisable = sys.unraisablehook
    if unraisable is not _on_unraisable:
        _previous_unraisable, sys.unraisablehook = unraisable, _on_unraisable

    def restore() -> None:
        for s, h in previous.items():
            signal.signal(s, h)
        sys.unraisablehook = unraisable
    return restore


def quiet_worker() -> None:
    """In a worker process: Ctrl-C reaches the whole process group, but only the parent answers
    it (it ends the workers itself); termination ends a worker silently."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
