"""The command's entry point: Ctrl-C is answered with one line from the very first moment."""

from __future__ import annotations

import os
import signal
import sys


def _interrupted_early(signum: int, frame: object) -> None:
    sys.stderr.write("alloc: interrupted; nothing was written\n")
    sys.stderr.flush()
    os._exit(130)


def entry() -> int:
    """Hold Ctrl-C to a one-line exit while the program loads, then hand over to `main`."""
    signal.signal(signal.SIGINT, _interrupted_early)
    from alloc.cli import EXIT_INTERRUPTED, main

    code = main()
    if code == EXIT_INTERRUPTED:
        # Leave at once: during the interpreter's shutdown a second Ctrl-C would kill the
        # process by signal instead of exiting 130.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
