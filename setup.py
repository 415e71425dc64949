"""Packages the reference model and the shipped scenarios inside alloc (for `alloc init`).

The repository's models/, scenarios/ and reports/README.md are the one source of truth: a build
copies them into the wheel as alloc/data/, so a `pip install` (no clone) can create a project.
An editable install copies nothing: `alloc.project` reads the checkout's folders instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("models", "scenarios", "reports/README.md")
"""What `alloc init` writes, relative to the repository's root (as alloc/project.py SHIPPED)."""


class BuildWithData(build_py):
    """build_py, then the shipped project files copied into alloc/data/ of the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        root = Path(__file__).resolve().parent
        data = Path(self.build_lib) / "alloc" / "data"
        for name in SHIPPED:
            source = root / name
            if source.is_dir():
                shutil.copytree(source, data / name, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns(".*", "__pycache__"))
            else:
                (data / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, data / name)


setup(cmdclass={"build_py": BuildWithData})
