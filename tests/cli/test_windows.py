"""What can be checked here of Windows: no POSIX-only call on the main path without a fallback,
every text file opened as UTF-8, and the parts that branch on the platform taking their Windows
branch."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ALLOC = Path(__file__).resolve().parents[2] / "alloc"
TEXT_CALLS = {"read_text", "write_text"}


def _calls() -> list[tuple[str, ast.Call]]:
    out = []
    for path in sorted(ALLOC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        out += [(f"{path.relative_to(ALLOC.parent).as_posix()}:{node.lineno}", node)
                for node in ast.walk(tree) if isinstance(node, ast.Call)]
    return out


def _name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def test_every_text_open_says_utf8() -> None:
    """Windows opens text in the locale's code page (cp1252) unless told."""
    missing = []
    for where, call in _calls():
        name = _name(call)
        keywords = {k.arg for k in call.keywords}
        method = isinstance(call.func, ast.Attribute)
        if (name in TEXT_CALLS and method) or (name == "open" and not method):
            mode = call.args[1] if name == "open" and len(call.args) > 1 else next(
                (k.value for k in call.keywords if k.arg == "mode"), None)
            binary = isinstance(mode, ast.Constant) and "b" in str(mode.value)
            if not binary and "encoding" not in keywords:
                missing.append(where)
    assert not missing, f"text opened without encoding='utf-8': {missing}"


def test_every_text_file_written_has_unix_line_endings() -> None:
    """Windows writes CRLF unless told: the same report must be the same bytes on every system."""
    missing = [where for where, call in _calls() if _name(call) == "write_text"
               and "newline" not in {k.arg for k in call.keywords}]
    assert not missing, f"write_text without newline='\\n': {missing}"


def test_no_posix_only_calls_without_a_fallback() -> None:
    """os.rename fails on Windows when the target exists (os.replace does not); getuid, fork
    and SIGKILL do not exist there."""
    found = [where for where, call in _calls()
             if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
             and (call.func.value.id, call.func.attr) in {
                 ("os", "rename"), ("os", "getuid"), ("os", "geteuid"), ("os", "fork"),
                 ("os", "symlink"), ("os", "killpg"), ("os", "setsid")}]
    # the report folder's switch by a link: only where os.name == "posix" (Windows moves folders)
    allowed = {"alloc/report/folders.py"}
    assert not [w for w in found if w.split(":")[0] not in allowed], found
    folders = (ALLOC / "report" / "folders.py").read_text(encoding="utf-8")
    assert folders.count("_switch_link(") == folders.count('if os.name == "posix":\n') + 1
    for path in ALLOC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "SIGKILL" not in text, path
        if "import fcntl" in text:  # the report folders' lock: Windows goes without it
            assert "except ImportError" in text, path


def test_sweep_workers_spawn_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    from alloc import options

    monkeypatch.setattr(options.sys, "platform", "win32")
    assert options.max_workers() <= 61  # WaitForMultipleObjects' limit on Windows


def test_project_discovery_and_init_use_no_posix_separators(tmp_path: Path) -> None:
    from alloc import project

    done = project.init(tmp_path / "p")
    assert all("\\\\" not in n for n in done.written)
    for name in done.written:  # bytes as shipped: LF kept, whatever the platform
        assert b"\r\n" not in (tmp_path / "p" / name).read_bytes(), name


class _WindowsOs:
    """The os module as alloc's report folders see it on Windows (os.name "nt"), else the same."""

    name = "nt"

    def __getattr__(self, attr: str) -> object:
        import os

        return getattr(os, attr)


def test_reports_written_twice_on_the_windows_branch(project: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Without links (Windows), a report replaces the one before it as a real folder, whole."""
    import alloc
    from alloc.report import folders

    monkeypatch.setattr(folders, "os", _WindowsOs())
    monkeypatch.setattr(folders, "fcntl", None)
    monkeypatch.setattr(folders, "_LOCKS", False)
    result = alloc.run("tiny", project)
    first = alloc.write(result, tmp_path / "reports", project)
    second = alloc.write(result, tmp_path / "reports", project)
    assert first.folder == second.folder
    assert second.folder.is_dir() and not second.folder.is_symlink()
    assert sorted(p.name for p in second.folder.iterdir() if not p.name.startswith(".")) == sorted(
        {f.split("/")[0] for f in second.files})
    assert not [p for p in second.folder.parent.iterdir() if p.name.startswith(".tiny.")]
