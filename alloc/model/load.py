"""Files to a validated plan: the first stage of every command."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alloc.model.domain import Plan
from alloc.model.scenario import resolve
from alloc.model.validate import validate


def load_plan(scenario: str, root: Path | str = ".", sets: Mapping[str, Any] | None = None) -> Plan:
    """Resolve a scenario (a name in `scenarios/` or a file's path), with `sets` (dotted key ->
    value, `--set`) on top, and validate it as a whole."""
    return validate(resolve(scenario, Path(root), sets))
