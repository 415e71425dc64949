"""The command's entry point: a signal is answered with one true line from the very first moment
to the very last (see `alloc.interrupt`)."""

from __future__ import annotations

import contextlib
import os
import sys


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
