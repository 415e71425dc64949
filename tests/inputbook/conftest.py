"""A copy of the real project (reference model, shipped scenarios) and its baseline template."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from alloc.inputbook import write_template

REPO = Path(__file__).resolve().parents[2]


def copy_project(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copytree(REPO / "models", root / "models")
    shutil.copytree(REPO / "scenarios", root / "scenarios")
    return root


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project shared by a module's tests: they may add scenarios but not change files."""
    return copy_project(tmp_path_factory.mktemp("shipped") / "project")


@pytest.fixture(scope="module")
def template(shipped: Path) -> bytes:
    """The bytes of the baseline's input workbook."""
    return write_template("baseline", shipped, shipped / "baseline-in.xlsx").read_bytes()


def scenario_files(root: Path) -> list[str]:
    """Everything under scenarios/, hidden files and folders included."""
    return sorted(p.relative_to(root).as_posix() for p in (root / "scenarios").rglob("*"))
