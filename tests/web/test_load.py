"""bench/load.py, briefly: `alloc serve` in a subprocess under 3 browsing users and 1 what-if user
for about 5 seconds: no error, the save on disk exactly once. (The timings are not checked: the
full test, its figures and their targets are in BENCHMARKS.md, "Web".)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from test_web import make_project

ROOT = Path(__file__).resolve().parents[2]


def load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module     # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_short_load_loses_nothing(tmp_path: Path) -> None:
    load = load_module()
    project = make_project(tmp_path / "project")
    report = load.run(project, seconds=5, users=3, whatif_users=1, think=0.3, quiet=True)
    assert [s.detail for s in report.errors] == []
    assert report.lost == []
    assert len(report.saves) == 1
    kinds = {s.kind for s in report.samples}
    assert {"list", "scenario", "what-if", "save", "scenario, first view"} <= kinds
    assert report.whatif_status.get("optimal", 0) >= 2
    # the copy was served, not the project itself: no save landed here
    assert sorted(p.name for p in (project / "scenarios").iterdir()) == ["tiny-cut.toml", "tiny.toml"]


def test_the_figures_go_at_the_end_of_the_file(tmp_path: Path) -> None:
    load = load_module()
    report = load.Report(seconds=1, users=1, whatif_users=1, think=1.0)
    report.samples = [load.Sample("scenario", 0.1, True), load.Sample("what-if", 0.5, True)]
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Other\n\ntext\n", encoding="utf-8")
    load.write_section(path, report, "python bench/load.py")
    load.write_section(path, report, "python bench/load.py")   # replaced, not added twice
    text = path.read_text(encoding="utf-8")
    assert text.count(load.SECTION) == 1 and text.index("## Other") < text.index(load.SECTION)
    assert "| scenario | 1 | 0 | 100 | 100 | 100 |" in text
