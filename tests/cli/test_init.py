"""`alloc init` and finding the project: the real command in real folders, and the wheel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from alloc import project

REPO = Path(__file__).resolve().parents[2]


def alloc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alloc", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def tracked(*folders: str) -> dict[str, bytes]:
    """The repository's files under `folders` as git tracks them (the one source of truth)."""
    names = subprocess.run(["git", "ls-files", *folders], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    return {n: (REPO / n).read_bytes() for n in names}


def test_shipped_files_are_the_repository_models_scenarios_and_reports_readme() -> None:
    assert project.shipped_files() == tracked("models", "scenarios", "reports/README.md")


def test_init_into_an_empty_folder_then_run_baseline_there(tmp_path: Path) -> None:
    target = tmp_path / "new" / "budget"
    result = alloc("init", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{len(project.shipped_files())} files written" in result.stdout
    for name, data in project.shipped_files().items():
        assert (target / name).read_bytes() == data, name  # bytes as shipped: no line-end change
    assert (target / "reports").is_dir()
    record = json.loads((target / project.RECORD).read_text(encoding="utf-8"))
    assert set(record) == set(project.shipped_files())
    assert not list(target.rglob("*.tmp"))
    run = alloc("run", "baseline", "--quiet", cwd=target)
    assert run.returncode == 0, run.stderr
    assert (target / "reports" / "baseline" / "run.json").is_file()
    # and from a folder inside it, as a user who cd'ed into scenarios/
    check = alloc("check", "zng", cwd=target / "scenarios")
    assert check.returncode == 0, check.stderr


def test_init_refuses_an_existing_project_then_force_keeps_the_users_files(tmp_path: Path) -> None:
    assert alloc("init", "p", cwd=tmp_path).returncode == 0
    root = tmp_path / "p"
    edited = root / "scenarios" / "baseline.toml"
    edited.write_text(edited.read_text(encoding="utf-8") + "# mine\n", encoding="utf-8")
    mine = root / "scenarios" / "mine.toml"
    mine.write_text("[scenario]\nparent = \"baseline\"\n", encoding="utf-8")
    (root / "scenarios" / "zng.toml").unlink()
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

    refused = alloc("init", "p", cwd=tmp_path)
    assert refused.returncode == 2
    assert "already an alloc project" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before

    forced = alloc("init", "p", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "kept scenarios/baseline.toml" in forced.stdout
    assert edited.read_text(encoding="utf-8").endswith("# mine\n")
    assert mine.read_text(encoding="utf-8") == "[scenario]\nparent = \"baseline\"\n"
    assert (root / "scenarios" / "zng.toml").read_bytes() == (REPO / "scenarios" / "zng.toml").read_bytes()


def test_force_updates_a_file_alloc_wrote_and_nobody_changed(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    project.init(tmp_path / "p")
    shipped = project.shipped_files()
    newer = {**shipped, "scenarios/zng.toml": shipped["scenarios/zng.toml"] + b"# newer alloc\n"}
    monkeypatch.setattr(project, "shipped_files", lambda: newer)
    done = project.init(tmp_path / "p", force=True)
    assert done.updated == ["scenarios/zng.toml"] and not done.kept and not done.written
    assert (tmp_path / "p" / "scenarios" / "zng.toml").read_bytes().endswith(b"# newer alloc\n")


def test_init_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    result = alloc("init", "a-file/project", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "cannot write the project here" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,  # type: ignore[attr-defined,unused-ignore]
                    reason="permissions do not bite here")
def test_init_into_a_read_only_folder_is_a_clear_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = alloc("init", str(locked), cwd=tmp_path)
    finally:
        locked.chmod(0o755)
    assert result.returncode == 2
    assert "cannot write the project here" in result.stderr and "Traceback" not in result.stderr
    assert not any(locked.iterdir())


@pytest.mark.parametrize("args", [
    ["run"], ["run", "baseline"], ["check"], ["explain", "zng"], ["compare", "baseline", "zng"],
    ["sweep", "baseline", "--ceiling", "0.9,1"],
])
def test_outside_a_project_every_command_says_what_to_do(tmp_path: Path, args: list[str]) -> None:
    result = alloc(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "no alloc project here (no scenarios/ and models/ folder in" in result.stderr
    assert "run `alloc init` or pass --project DIR" in result.stderr
    assert "Traceback" not in result.stderr


def test_project_option_from_outside(tmp_path: Path) -> None:
    project.init(tmp_path / "p")
    result = alloc("check", "baseline", "--project", str(tmp_path / "p"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    missing = alloc("check", "--project", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert missing.returncode == 2 and "alloc init" in missing.stderr
    empty = alloc("check", "--project", str(tmp_path), cwd=tmp_path)
    assert empty.returncode == 2 and "alloc init" in empty.stderr


def test_find_project_walks_up(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "scenarios").mkdir()
    deep = tmp_path / "scenarios" / "a" / "b"
    deep.mkdir(parents=True)
    assert project.find_project(deep) == tmp_path
    with pytest.raises(project.InputError, match="alloc init"):
        project.find_project(tmp_path.parent)


def test_the_wheel_holds_the_shipped_project(tmp_path: Path) -> None:
    """A `pip install` (no clone) gets the model: a wheel built from a copy of the sources holds
    alloc/data/ with exactly the repository's files."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "alloc", source / "alloc",
                    ignore=shutil.ignore_patterns("__pycache__", "data"))
    for name, data in tracked("models", "scenarios", "reports/README.md").items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w",
                            str(tmp_path / "dist")], cwd=source, capture_output=True, text=True,
                           timeout=600)
    if built.returncode != 0 and "No matching distribution" in built.stderr:
        pytest.skip("no package index to fetch the build backend from")
    assert built.returncode == 0, built.stderr[-2000:]
    wheel, = (tmp_path / "dist").glob("alloc-*.whl")
    with zipfile.ZipFile(wheel) as z:
        data = {n.removeprefix("alloc/data/"): z.read(n) for n in z.namelist()
                if n.startswith("alloc/data/") and not n.endswith("/")}
    assert data == tracked("models", "scenarios", "reports/README.md")
