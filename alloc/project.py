"""The project folder: finding it (every command) and creating one (`alloc init`).

A project is a folder holding models/ and scenarios/ (and reports/, where alloc writes). `alloc
init` copies the reference model and the shipped scenarios into a new one from the data packaged
with alloc (alloc/data/ in a built wheel, copied there from the repository's models/, scenarios/
and reports/README.md by setup.py; an editable install reads the checkout's folders), so a
`pip install` user has something to run without a clone.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from alloc.errors import InputError, Problem

SHIPPED = ("models", "scenarios", "reports/README.md")
"""What `alloc init` writes, relative to the project (mirrored in setup.py)."""
RECORD = ".alloc-init.json"
"""Which files `alloc init` wrote and their sha256, so `--force` can tell them from the user's."""


def not_a_project(start: Path) -> InputError:
    return InputError([Problem(
        "project", "", f"no alloc project here (no scenarios/ and models/ folder in "
        f"{start.as_posix()} or its parents): run `alloc init` or pass --project DIR")])


def is_project(folder: Path) -> bool:
    return (folder / "models").is_dir() and (folder / "scenarios").is_dir()


def find_project(start: Path | None = None) -> Path:
    """The nearest folder from `start` (default: the working folder) upwards that holds both
    models/ and scenarios/; else an error saying to run `alloc init` or pass --project."""
    here = Path.cwd() if start is None else start
    absolute = here.absolute()
    for folder in (absolute, *absolute.parents):
        if is_project(folder):
            return folder if folder != absolute else here
    raise not_a_project(absolute)


def check_project(folder: Path) -> Path:
    """A folder given with --project: it must exist; one with neither models/ nor scenarios/
    gets the same hint as no project at all."""
    if not folder.is_dir():
        raise InputError([Problem("--project", folder.as_posix(), "no such folder: pass the "
                                  "folder holding models/ and scenarios/, or create one with "
                                  f"`alloc init {folder.as_posix()}`")])
    if not (folder / "models").exists() and not (folder / "scenarios").exists():
        raise InputError([Problem("--project", folder.as_posix(), "no scenarios/ and models/ "
                                  f"folder here: run `alloc init {folder.as_posix()}` or pass "
                                  "the project's folder")])
    return folder


# --- alloc init ------------------------------------------------------------------------------

def shipped_root() -> Path:
    """The folder holding the shipped models/, scenarios/ and reports/README.md: alloc/data/ of
    an installed wheel, else the checkout alloc runs from (an editable install)."""
    data = Path(str(resources.files("alloc"))) / "data"
    if is_project(data):
        return data
    checkout = Path(__file__).resolve().parent.parent
    if is_project(checkout) and (checkout / "reports" / "README.md").is_file():
        return checkout
    raise InputError([Problem("alloc init", "", "this installation of alloc has no packaged "
                              "model (alloc/data/ is missing); reinstall alloc from a wheel or "
                              "a clone")])


def shipped_files(root: Path | None = None) -> dict[str, bytes]:
    """Every shipped file by its project-relative POSIX path, with its bytes."""
    base = shipped_root() if root is None else root
    out: dict[str, bytes] = {}
    for name in SHIPPED:
        path = base / name
        for file in _files(path) if path.is_dir() else [path]:
            out[file.relative_to(base).as_posix()] = file.read_bytes()
    return dict(sorted(out.items()))


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in parts):
            yield path


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Initialized:
    """What `init` did, file by file (project-relative POSIX paths)."""

    folder: Path
    written: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    """Files the user changed (or wrote), left as they are although alloc ships another."""


def init(folder: Path, force: bool = False) -> Initialized:
    """Create a project in `folder` (made if missing): models/, scenarios/ and reports/ with the
    shipped model and scenarios.

    An existing project is refused unless `force`; even then, only missing files are added and
    files alloc wrote before (and nobody changed since) updated: a file the user wrote or edited
    is kept and listed, never overwritten or deleted.
    """
    files = shipped_files()
    existing = [name for name in ("models", "scenarios") if (folder / name).exists()]
    if existing and not force:
        raise InputError([Problem(
            folder.as_posix(), "", f"is already an alloc project (it has "
            f"{' and '.join(n + '/' for n in existing)}); nothing was written. Pass --force to add "
            "the shipped files that are missing (files you wrote or changed are kept)")])
    done = Initialized(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        record = _read_record(folder)
        for name, data in files.items():
            target = folder / name
            if target.is_file():
                current = target.read_bytes()
                if current == data:
                    done.unchanged.append(name)
                    record[name] = _sha(data)
                    continue
                if record.get(name) != _sha(current):  # not as alloc left it: the user's
                    done.kept.append(name)
                    continue
                done.updated.append(name)
            elif target.exists() or target.is_symlink():
                done.kept.append(name)
                continue
            else:
                done.written.append(name)
            _write_atomic(target, data)
            record[name] = _sha(data)
        (folder / "reports").mkdir(exist_ok=True)
        _write_atomic(folder / RECORD, (json.dumps(record, indent=1, sort_keys=True) + "\n")
                      .encode("utf-8"))
    except OSError as exc:
        where = Path(exc.filename).as_posix() if exc.filename else folder.as_posix()
        raise InputError([Problem(where, "", f"cannot write the project here "
                                  f"({exc.strerror or exc}); choose a folder you can write to, "
                                  "e.g. `alloc init my-project` in your documents")]) from None
    return done


def _read_record(folder: Path) -> dict[str, str]:
    try:
        data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_atomic(target: Path, data: bytes) -> None:
    """Whole or not at all: a temporary file beside the target, then renamed over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
