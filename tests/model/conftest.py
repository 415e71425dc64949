"""Small documents for the parts of validation, called directly (without files or scenarios)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from alloc.model.scenario import Path_, Resolved, Source
from alloc.model.validate.fields import DEFAULT_UNIT, Document

FILES = {"model": "models/m/model.toml", "framework": "models/m/framework.toml",
         "financial_plan": "models/m/financial-plan.toml", "rules": "models/m/rules.toml"}
CSV = {"mandate": "models/m/mandate.csv", "previous_allocation": "models/m/previous-allocation.csv",
       "requirements": "models/m/requirements.csv"}

MakeDocument = Callable[..., Document]


def _mark(value: object, path: Path_, src: Source, origins: dict[Path_, Source]) -> None:
    origins[path] = src
    if isinstance(value, dict):
        for k, v in value.items():
            _mark(v, (*path, str(k)), src, origins)


def resolved_of(doc: dict[str, Any], scenario: dict[str, Any] | None = None) -> Resolved:
    """`doc` as if read from a model folder `models/m/` (CSV rows numbered from line 2); the keys
    of `scenario` as if a scenario `scenarios/s.toml` set them on top."""
    origins: dict[Path_, Source] = {}
    for section, table in doc.items():
        if section in CSV:
            origins[(section,)] = Source(CSV[section], 1)
            for line, key in enumerate(table, start=2):
                origins[(section, key)] = Source(CSV[section], 1, line)
        else:
            _mark(table, (section,), Source(FILES[section], 1), origins)
    for section, table in (scenario or {}).items():
        node = doc.setdefault(section, {})
        _merge(node, table, (section,), origins)
    return Resolved(name="t", model="m", title="", description="", chain=("t",), doc=doc,
                    origins=origins)


def _merge(base: dict[str, Any], new: dict[str, Any], path: Path_,
           origins: dict[Path_, Source]) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value, (*path, key), origins)
        else:
            base[key] = value
            _mark(value, (*path, key), Source("scenarios/s.toml", 0), origins)


@pytest.fixture
def resolved() -> Callable[..., Resolved]:
    """resolved(doc, scenario=...): `resolved_of`, for a part that reads the Resolved itself."""
    return resolved_of


@pytest.fixture
def document() -> MakeDocument:
    """document(doc, unit=..., scenario=...): a Document to hand to a part of validation."""
    def make(doc: dict[str, Any], unit: str = DEFAULT_UNIT,
             scenario: dict[str, Any] | None = None) -> Document:
        return Document(resolved_of(doc, scenario), unit)
    return make


def said(doc: Document) -> list[str]:
    """The problems recorded, as the user reads them."""
    return [str(p) for p in doc.problems]


@pytest.fixture
def messages() -> Callable[[Document], list[str]]:
    return said
