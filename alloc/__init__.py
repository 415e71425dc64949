"""alloc: link a strategic plan to its financial plan with a linear program.

The Python API (`alloc.api`, documented in docs/api.md)::

    import alloc
    result = alloc.run("baseline", project=".")
    result.tables["a1-priority-entity"]
"""

import sys
import types

from alloc._version import __version__
from alloc.api import (
    SUPPORT_COSTS,
    InputError,
    ModelTooLarge,
    Problem,
    Result,
    SheetTooLarge,
    SolveError,
    SweepResult,
    Written,
    compare,
    explain,
    load,
    reports_folder,
    run,
    solve,
    sweep,
    write,
    write_comparison,
    write_sweep,
)


class _Package(types.ModuleType):
    """`alloc.explain`, `alloc.compare` and `alloc.sweep` are API functions and also the names of
    stage packages. Importing a package sets it as an attribute of `alloc`; the function keeps the
    name (the packages are reached by import: `from alloc.explain import core`)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _API_NAMES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


_API_NAMES = frozenset({"explain", "compare", "sweep"})
sys.modules[__name__].__class__ = _Package

__all__ = [
    "SUPPORT_COSTS", "InputError", "ModelTooLarge", "Problem", "Result", "SheetTooLarge", "SolveError",
    "SweepResult", "Written", "__version__", "compare", "explain", "load", "reports_folder", "run",
    "solve", "sweep", "write", "write_comparison", "write_sweep",
]
