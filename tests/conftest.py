"""Shared fixtures: a copy of the test project (tiny model) and of the real project's models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
REPO = TESTS.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A writable project with the tiny model and the reference model."""
    root = tmp_path / "project"
    shutil.copytree(TESTS / "project", root)
    shutil.copytree(REPO / "models" / "itu-2024-2027", root / "models" / "itu-2024-2027")
    shutil.copy(REPO / "scenarios" / "baseline.toml", root / "scenarios" / "baseline.toml")
    return root
