"""Files to a validated plan: the first stage of every command."""

from __future__ import annotations

from pathlib import Path

from alloc.model.domain import Plan
from alloc.model.scenario import resolve
from alloc.model.validate import validate


def load_plan(scenario: str, root: Path | str = ".") -> Plan:
    """Resolve a scenario (a name in `scenarios/` or a file's path) and validate it as a whole."""
    return validate(resolve(scenario, Path(root)))
