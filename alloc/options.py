"""Numbers on the command line, checked as argparse reads them: before any file is read.

Each `type=` callable below returns the value or raises `argparse.ArgumentTypeError` saying what
was given, what is expected and an example; argparse then prints the usage and
`alloc <command>: error: argument --option: <that message>` and exits 2. Why here and not later:
a bad number found after loading (or, as before, inside numpy or HiGHS) cost the user the
loading time, and some (`--draws -5`, `--seed -1`, `--ceiling 0:inf:1`) ended as an internal
error; `--time-limit nan` silently meant no limit.

This module imports nothing heavy (no numpy, no pandas): the parser is built on every run.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

from alloc.errors import InputError, Problem

SEED_LIMIT = 2**32
"""Seeds are 0 <= seed < 2**32: what every numpy generator accepts (RandomState's range)."""
MAX_SPREAD = 0.5
"""A receipt rate lives in [0, 1]: no distribution on it has a standard deviation above 0.5."""
MAX_TOLERANCE = 10.0
"""--tolerance is a fraction of the optimum; 10 (1000%) is already no constraint at all."""
DEFAULT_MAX_VARIANTS = 100_000
"""Variants a sweep runs without --max-variants. At 15-17 ms a variant on the reference model
(BENCHMARKS.md: 1000 draws in 15-17 s on one worker) that is about 25 minutes on one worker, and
its results (about 5 KB a variant) some 500 MB: the largest sweep worth starting by accident.
Larger ones are one option away."""
SECONDS_PER_VARIANT = 0.015
"""Measured on the reference model (BENCHMARKS.md), for the time a refused sweep would take."""


def max_workers() -> int:
    """More processes than cores only queue, and each holds its own copy of the model: 64, or
    the number of cores on a larger machine (61 on Windows, its process pool's limit)."""
    cap = max(64, os.cpu_count() or 1)
    return min(cap, 61) if sys.platform == "win32" else cap


def _number(text: str, what: str, example: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number; expected {what}, "
                                         f"e.g. {example}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number; expected {what}, "
                                         f"e.g. {example}")
    return value


def _whole(text: str, what: str, example: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number; expected {what}, "
                                         f"e.g. {example}") from None


def seconds(text: str) -> float:
    """--time-limit: seconds, more than 0 (nan or inf would silently mean no limit)."""
    what = "a number of seconds above 0 (leave the option out for no limit)"
    value = _number(text, what, "--time-limit 60")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not above 0; expected {what}, "
                                         "e.g. --time-limit 60")
    return value


def tolerance(text: str) -> float:
    """--tolerance: a fraction of the optimum, 0 to 10."""
    what = f"a fraction of the optimum from 0 to {MAX_TOLERANCE:g} (0.01 is 1%)"
    value = _number(text, what, "--tolerance 0.01")
    if not 0.0 <= value <= MAX_TOLERANCE:
        raise argparse.ArgumentTypeError(f"{text} is out of range; expected {what}, "
                                         "e.g. --tolerance 0.01")
    return value


def draws(text: str) -> int:
    """--draws: 1 or more (how many is bounded with the grid's variants, by --max-variants)."""
    what = "a number of Monte Carlo draws of 1 or more"
    value = _whole(text, what, "--draws 1000")
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is below 1; expected {what}, e.g. --draws 1000")
    return value


def seed(text: str) -> int:
    """--seed: 0 <= seed < 2**32."""
    what = f"a whole number from 0 to {SEED_LIMIT - 1:,}"
    value = _whole(text, what, "--seed 1")
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"{text} is out of range; expected {what}, e.g. --seed 1")
    return value


def workers(text: str) -> int:
    """--workers: 1 to max_workers()."""
    cap = max_workers()
    what = (f"a number of processes from 1 to {cap} (this machine has {os.cpu_count() or 1} "
            "cores; each process holds its own copy of the model)")
    value = _whole(text, what, "--workers 2")
    if not 1 <= value <= cap:
        raise argparse.ArgumentTypeError(f"{text} is out of range; expected {what}")
    return value


def max_variants(text: str) -> int:
    """--max-variants: 1 or more."""
    what = f"a number of variants of 1 or more (default {DEFAULT_MAX_VARIANTS:,})"
    value = _whole(text, what, "--max-variants 1000000")
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is below 1; expected {what}")
    return value


def spread(text: str) -> str:
    """--spread SD or FUND=SD, with 0 <= SD <= 0.5; returned as given (sweep reads it)."""
    code, sep, number = text.partition("=")
    if sep and not code.strip():
        raise argparse.ArgumentTypeError(f"'{text}' names no fund; expected SD or FUND=SD, "
                                         "e.g. --spread 0.05 or --spread development_trust=0.05")
    what = f"a standard deviation of receipt rates from 0 to {MAX_SPREAD:g}"
    value = _number(number if sep else text, what, "--spread 0.05")
    if not 0.0 <= value <= MAX_SPREAD:
        raise argparse.ArgumentTypeError(f"{number if sep else text} is out of range; expected "
                                         f"{what}, e.g. --spread 0.05")
    return text


# --- VALUES: a,b,c or start:stop:step ------------------------------------------------------------

def _bad_values(text: str, why: str) -> InputError:
    return InputError([Problem("command line", text, f"{why}; expected values as a,b,c or "
                               "start:stop:step (finite numbers, step above 0, stop not below "
                               "start), e.g. 0.9:1.1:0.05")])


def _range(text: str) -> tuple[float, float, float, float]:
    """start, stop, step of `start:stop:step` and how many values it gives (a float: it can be
    huge, and is counted without making the list)."""
    parts = text.split(":")
    if len(parts) != 3:
        raise _bad_values(text, f"{len(parts)} parts separated by ':' instead of 3")
    try:
        start, stop, step = (float(x) for x in parts)
    except ValueError:
        raise _bad_values(text, "not numbers") from None
    if not all(math.isfinite(x) for x in (start, stop, step)):
        raise _bad_values(text, "not finite (nan or inf)")
    if step <= 0:
        raise _bad_values(text, f"the step {step:g} is not above 0")
    if stop < start:
        raise _bad_values(text, f"stop {stop:g} is below start {start:g}")
    n = (stop - start) / step + 1e-9
    if not math.isfinite(n) or n >= 2.0**62:
        raise _bad_values(text, "too many values (more than 2**62)")
    return start, stop, step, float(math.floor(n) + 1)


def count_values(text: str) -> int:
    """How many values VALUES gives, without making them; InputError if it is not VALUES."""
    if ":" in text:
        return int(_range(text)[3])
    items = [x for x in text.split(",") if x.strip()]
    if not items:
        raise _bad_values(text, "no value given")
    for x in items:
        try:
            value = float(x)
        except ValueError:
            raise _bad_values(text, f"'{x.strip()}' is not a number") from None
        if not math.isfinite(value):
            raise _bad_values(text, f"'{x.strip()}' is not finite")
    return len(items)


def parse_values(text: str, limit: int = DEFAULT_MAX_VARIANTS) -> list[float]:
    """`0.6,0.7,0.8` (a list) or `0.6:0.9:0.1` (start:stop:step, stop included); every value
    finite, and at most `limit` of them (counted before the list is made)."""
    n = count_values(text)
    if n > limit:
        raise _bad_values(text, f"{n:,} values, more than the limit of {limit:,} (--max-variants)")
    if ":" not in text:
        return [float(x) for x in text.split(",") if x.strip()]
    start, _, step, _ = _range(text)
    values = [round(start + i * step, 12) for i in range(n)]
    if not all(math.isfinite(v) for v in values):
        raise _bad_values(text, "values beyond the largest number")
    return values


def values(text: str) -> str:
    """VALUES (--ceiling), checked; returned as given, the sweep parses it again."""
    try:
        count_values(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(f"'{text}': {exc.problems[0].message}") from None
    return text


def keyed_values(text: str) -> str:
    """NAME=VALUES (--receipt-rate, --pledge, --target, --weight, --set), the VALUES checked;
    whether NAME is a fund, a target or a key of the scenario is checked once it is read."""
    name, sep, rest = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=VALUES; expected e.g. "
                                         "development_trust=0.6,0.8 or TP1=0.2:0.3:0.05")
    try:
        count_values(rest)
    except InputError as exc:
        raise argparse.ArgumentTypeError(f"in '{text}': {exc.problems[0].message}") from None
    return text
