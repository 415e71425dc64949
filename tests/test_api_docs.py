"""docs/api.md is a notebook that works: its examples run, in order, as a reader would run them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def test_the_api_page_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    for folder in ("models", "scenarios"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    blocks = BLOCK.findall((REPO / "docs" / "api.md").read_text())
    assert len(blocks) >= 6
    namespace: dict[str, object] = {}
    for code in blocks:
        exec(compile(code, "docs/api.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "baseline itu-2024-2027" in out
    assert "scenarios/no-such-scenario.toml |" in out
    assert (tmp_path / "notebook-reports" / "baseline" / "appendix-a.xlsx").is_file()
    assert (tmp_path / "notebook-reports" / "baseline" / "sweep" / "variants.csv").is_file()
    assert (tmp_path / "notebook-reports" / "compare" / "baseline-vs-zng").is_dir()


def test_the_api_names_stay_functions_when_their_packages_load() -> None:
    import alloc
    from alloc import api
    from alloc.compare import core as compare_core
    from alloc.explain import prices as explain_prices
    from alloc.sweep import core as sweep_core

    assert compare_core and explain_prices and sweep_core
    assert alloc.explain is api.explain and alloc.compare is api.compare
    assert alloc.sweep is api.sweep
