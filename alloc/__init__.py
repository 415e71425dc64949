"""alloc: link a strategic plan to its financial plan with a linear program.

The Python API (`alloc.api`, documented in docs/api.md)::

    import alloc
    result = alloc.run("baseline", project=".")
    result.tables["a1-priority-entity"]

The API's names are loaded on first use, so that `import alloc` (and the command's start, which
must answer Ctrl-C from its first moment) stays quick.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from alloc._version import __version__

if TYPE_CHECKING:
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

__all__ = [
    "SUPPORT_COSTS", "InputError", "ModelTooLarge", "Problem", "Result", "SheetTooLarge",
    "SolveError",
    "SweepResult", "Written", "__version__", "compare", "explain", "load", "reports_folder", "run",
    "solve", "sweep", "write", "write_comparison", "write_sweep",
]
_API_NAMES = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _API_NAMES:
        from alloc import api

        return getattr(api, name)
    raise AttributeError(f"module 'alloc' has no attribute '{name}'")


class _Package(types.ModuleType):
    """`alloc.explain`, `alloc.compare` and `alloc.sweep` are API functions and also the names of
    stage packages. Importing a package would set it as an attribute of `alloc`; the function
    keeps the name (the packages are reached by import: `from alloc.explain import prices`)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _API_NAMES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
