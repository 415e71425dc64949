"""alloc: link a strategic plan to its financial plan with a linear program.

The Python API (`alloc.api`, documented in docs/api.md)::

    import alloc
    result = alloc.run("baseline", project=".")
    result.tables["a1-priority-entity"]
"""

from alloc.api import (
    SUPPORT_COSTS,
    InputError,
    ModelTooLarge,
    Problem,
    Result,
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

__version__ = "0.1.0"

__all__ = [
    "SUPPORT_COSTS", "InputError", "ModelTooLarge", "Problem", "Result", "SolveError",
    "SweepResult", "Written", "__version__", "compare", "explain", "load", "reports_folder", "run",
    "solve", "sweep", "write", "write_comparison", "write_sweep",
]
