"""A signal that lands inside a finalizer still interrupts the command (`alloc.interrupt`)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest

_LANDS_IN_A_CALLBACK = """
    import signal, sys, time, weakref
    from alloc import interrupt

    restore = interrupt.install()
    interrupt.set_phase(interrupt.WORKING)

    class Thing:
        pass

    def callback(ref):
        signal.raise_signal({sig})   # the handler runs here, inside the weakref callback
        sum(range(1000))

    thing = Thing()
    ref = weakref.ref(thing, callback)
    try:
        del thing
        {wait}
        print("went on to the end")
    except KeyboardInterrupt:
        print("interrupted")
    restore()
    print(sys.unraisablehook is sys.__unraisablehook__)
"""


def _run(script: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                          text=True, timeout=120)
    return done, time.perf_counter() - started


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("wait", [
    "time.sleep(20)",
    "end = time.monotonic() + 20\n        while time.monotonic() < end: pass",
], ids=["sleeping", "computing"])
def test_a_signal_dropped_in_a_finalizer_is_delivered_again(sig: int, wait: str) -> None:
    """Python drops an exception raised in a weakref callback ("Exception ignored"): the signal
    must still stop the work, at once (a sleep or a long computation), with no traceback."""
    done, seconds = _run(_LANDS_IN_A_CALLBACK.format(sig=int(sig), wait=wait))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["interrupted", "True"], (done.stdout, done.stderr)
    assert done.stderr == ""
    assert seconds < 10


def test_other_exceptions_dropped_in_a_finalizer_are_the_previous_hooks() -> None:
    """alloc answers only its own interruption; any other drop (a KeyboardInterrupt raised by
    code rather than by the handler, an error) is printed as before, and restore() puts the
    previous hook back."""
    done, _ = _run("""
        import sys, weakref
        from alloc import interrupt

        seen = []
        sys.unraisablehook = lambda u: seen.append(type(u.exc_value).__name__)
        restore = interrupt.install()
        interrupt.set_phase(interrupt.WORKING)

        class Thing:
            pass

        def raising(exc):
            def callback(ref):
                raise exc
            return callback

        for exc in (ValueError, KeyboardInterrupt):
            thing = Thing()
            ref = weakref.ref(thing, raising(exc))
            del thing
        installed = sys.unraisablehook is interrupt._on_unraisable
        restore()
        print(*seen, installed, sys.unraisablehook is not interrupt._on_unraisable)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ValueError", "KeyboardInterrupt", "True", "True"], done.stderr
