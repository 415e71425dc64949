"""The command's entry point: a signal is answered with one true line from the very first moment
to the very last (see `alloc.interrupt`)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys


def _early(signum: int, frame: object) -> None:
    os.write(2, b"alloc: interrupted; nothing was written\n")
    os._exit(130)


# Installed on import, before anything else of alloc loads: the console script and
# `python -m alloc` import this module first. (Importing `alloc` as a library does not.) Not in
# a process that multiprocessing spawns (a Dask LocalCluster's workers), which imports the
# console script as `__mp_main__`: Ctrl-C reaches the whole process group, and only the command
# answers it, with its one line.
_SPAWNED = "__mp_main__" in sys.modules
for _signal in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
    if _signal is not None and not _SPAWNED:
        signal.signal(_signal, _early)


def entry() -> int:
    """Answer signals from the start, run the command, and leave without the interpreter's
    shutdown, where a late Ctrl-C would otherwise print a traceback or kill by signal."""
    from alloc import interrupt

    interrupt.install()
    from alloc.cli import main

    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
