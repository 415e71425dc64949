"""Report folders: alloc writes, replaces and deletes only what it wrote itself.

Every folder alloc writes carries a marker file (`MARKER`) that says which kind of folder it is.
A report is written whole under a hidden name, then switched into place with one atomic rename
(on POSIX, `reports/<name>` is a link to the hidden folder), under a lock per name and with
SIGINT/SIGTERM held back, so that a run stopped at any moment leaves either the previous report or
the new one, whole. A folder that does not carry the marker (or, for reports written before the
marker existed, the shape alloc gave them) is never moved, replaced or deleted: the command stops
before any work with a message that says what is there.

Temporary folders of killed runs are recognised by name and removed by the next run that writes
beside them, but only once no live process holds them (each is locked by its writer).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from alloc.errors import InputError, Problem

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
_LOCKS = fcntl is not None

MARKER = ".alloc-report"
"""The file inside every folder alloc writes; it holds the folder's kind as JSON."""

RUN, SWEEP, NOT_OPTIMAL, COMPARISON = "run", "sweep", "not-optimal", "comparison"
COMPARE_FOLDER = "compare"
"""The subfolder of the reports folder that holds comparisons (`reports/compare/A-vs-B/`)."""

PASSIVE = frozenset({"README.md", "README.txt", "README", ".gitignore", ".gitkeep",
                     ".DS_Store", "Thumbs.db", "desktop.ini"})
"""Files a reports folder may hold beside reports; alloc never touches them."""

_SCRATCH = re.compile(r"^\.(?P<name>.+)\.(?P<what>lock|(?:run|tmp|link|old)-[A-Za-z0-9_]+)$")
STALE_SECONDS = 24 * 3600
"""Where folders cannot be locked (Windows), a temporary folder this old is taken as left over."""

_switched: list[Path] = []
_pending: list[Path] = []


def switched() -> list[Path]:
    """Every folder this process has switched into place, oldest first (for an interrupt's message)."""
    return list(_switched)


def pending() -> list[Path]:
    """Every folder this process has started to write, switched or not."""
    return list(_pending)


def _marker_kind(folder: Path) -> str | None:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("kind") if isinstance(data, dict) else None


def write_marker(folder: Path, kind: str) -> None:
    (folder / MARKER).write_text(json.dumps({"written_by": "alloc", "kind": kind}) + "\n",
                                 encoding="utf-8", newline="\n")


def _link_text(path: Path) -> str | None:
    try:
        return os.readlink(path)
    except (OSError, ValueError):
        return None


def _is_ours(entry: Path, kind: str) -> bool:
    """Whether `entry` (a report name in its container) is a folder alloc wrote of this kind.

    A link counts only if it names a hidden sibling `.<name>.run-*`, as alloc makes them. Reports
    written before the marker existed are recognised by that link and their run.json.
    """
    if entry.is_symlink():
        text = _link_text(entry)
        if text is None or not re.fullmatch(re.escape(f".{entry.name}.run-") + r"[A-Za-z0-9_]+",
                                            text):
            return False
        real = entry.parent / text
        if not real.is_dir():
            return True  # a dangling link of ours: a killed run's, safe to replace
        found = _marker_kind(real)
        return found == kind or (found is None and kind in (RUN, COMPARISON)
                                 and (real / "run.json" if kind == RUN
                                      else real / "inputs.csv").is_file())
    return entry.is_dir() and _marker_kind(entry) == kind


def _foreign(container: Path, kind: str) -> list[str]:
    """The entries of a reports folder that alloc did not write."""
    out = []
    for entry in sorted(container.iterdir()):
        if entry.name in PASSIVE or _SCRATCH.match(entry.name):
            continue
        if kind == RUN and entry.name == COMPARE_FOLDER and not entry.is_symlink() \
                and entry.is_dir():
            out += [f"{COMPARE_FOLDER}/{x}" for x in _foreign(entry, COMPARISON)]
            continue
        if not _is_ours(entry, kind):
            out.append(entry.name + ("/" if entry.is_dir() else ""))
    return out


def _describe(path: Path) -> str:
    return path.as_posix()


_OWN_FOLDER = "alloc writes reports only in a folder of their own (the default is PROJECT/reports)"


def check_reports_folder(reports: Path, project: Path | None = None, label: str = "--reports",
                         only_ours: bool = True) -> None:
    """Refuse, before any work, a reports folder alloc must not write into.

    Refused: a file; the project folder, its models/ or scenarios/ (or a folder inside or around
    them); with `only_ours` (a folder the user names), a folder holding anything alloc did not
    write (other than a README and the like), which is most likely the wrong folder.
    """
    problems: list[Problem] = []
    where = _describe(reports)
    if reports.is_symlink() and not reports.exists():
        problems.append(Problem("command line", label, f"{where} is a broken link; give a folder"))
    elif reports.exists() and not reports.is_dir():
        problems.append(Problem("command line", label, f"{where} is a file, not a folder; give a "
                                "folder for reports (it is created if missing)"))
    if project is not None and not problems:
        real, top = reports.resolve(), project.resolve()
        for name in ("models", "scenarios"):
            guarded = (project / name).resolve()
            if real == guarded or real.is_relative_to(guarded):
                problems.append(Problem("command line", label, f"{where} is the project's {name}/ "
                                        "folder" + (" or lies inside it" if real != guarded
                                                    else "") + "; " + _OWN_FOLDER))
        if real == top or top.is_relative_to(real):
            problems.append(Problem("command line", label, f"{where} is the project folder"
                                    + (" itself" if real == top else " or holds it") + "; "
                                    + _OWN_FOLDER))
    if only_ours and not problems and reports.is_dir():
        foreign = _foreign(reports, RUN)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more"
                                              if len(foreign) > 5 else "")
            problems.append(Problem("command line", label, f"{where} holds things alloc did not "
                                    f"write ({shown}); alloc replaces only folders it wrote, so "
                                    "give an empty or new folder, or move those away"))
    if problems:
        raise InputError(problems)


def check_target(target: Path, kind: str) -> None:
    """Refuse to replace `target` unless alloc wrote it (or nothing is there)."""
    if not (target.exists() or target.is_symlink()) or _is_ours(target, kind):
        return
    what = "a file" if target.is_file() else "a link" if target.is_symlink() else "a folder"
    raise InputError([Problem(_describe(target), "", f"is {what} that alloc did not write (it "
                              f"has no {MARKER} marker); alloc will not replace it: move it "
                              "away, or write the reports elsewhere with --reports")])


@contextlib.contextmanager
def _held_dir(path: Path) -> Iterator[None]:
    """Hold a lock on a folder itself for as long as its writer lives (POSIX only)."""
    if fcntl is None:
        yield
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _abandoned(path: Path) -> bool:
    """A temporary folder whose writer is gone: nobody holds its lock (or, without locks, old)."""
    if fcntl is None:
        return _old(path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def clean_leftovers(container: Path) -> None:
    """Remove what killed runs left in a reports folder: temporary folders nobody holds, and
    hidden report folders and links that no report name points to any more."""
    if not container.is_dir():
        return
    for entry in sorted(container.iterdir()):
        match = _SCRATCH.match(entry.name)
        if match is None or match["what"] == "lock":
            continue
        name, what = match["name"], match["what"]
        if not _LOCKS and not _old(entry):
            continue
        if what.startswith("tmp-"):
            # young folders are spared: a writer locks its folder a moment after making it
            if _young(entry):
                continue
            if _abandoned(entry):
                shutil.rmtree(entry, ignore_errors=True)
            continue
        with _locked(container, name, block=False) as got:
            if not got:
                continue
            if what.startswith("link-"):
                entry.unlink(missing_ok=True)
            elif what.startswith("old-") or _link_text(container / name) != entry.name:
                shutil.rmtree(entry, ignore_errors=True)


YOUNG_SECONDS = 60.0
"""A temporary folder this new is never taken as left over, even unlocked (the moment between
making a folder and locking it)."""


def _young(path: Path) -> bool:
    try:
        return time.time() - path.lstat().st_mtime < YOUNG_SECONDS
    except OSError:
        return True


def _old(path: Path) -> bool:
    try:
        return time.time() - path.lstat().st_mtime > STALE_SECONDS
    except OSError:
        return False


@contextlib.contextmanager
def _locked(container: Path, name: str, block: bool = True) -> Iterator[bool]:
    """The lock of one report name in its container (`.<name>.lock`); yields whether it is held."""
    path = container / f".{name}.lock"
    if fcntl is None:  # Windows: no advisory locks; the renames are still atomic
        yield True
        return
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back Ctrl-C and termination while a folder is switched into place.

    The mask covers this thread only: a signal the kernel hands to another thread (a solver's)
    still runs Python's handler here, between two lines of the switch. So the handler is also
    told to defer (`holding`), and a signal deferred is raised again once the switch is whole
    and recorded."""
    global _holding
    masked = hasattr(signal, "pthread_sigmask")
    previous: set[int] = (set(signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM}))
                          if masked else set())
    _holding += 1
    try:
        yield
    finally:
        _holding -= 1
        if masked:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        if not _holding and _deferred:
            signum = _deferred.pop()
            _deferred.clear()
            signal.raise_signal(signum)


_holding = 0
_deferred: list[int] = []


def defer(signum: int) -> bool:
    """Whether a signal arriving now is to wait for the switch under way (and then it will)."""
    if _holding:
        _deferred.append(signum)
        return True
    return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _scratch(container: Path, name: str) -> Iterator[Path]:
    """A hidden temporary folder beside the target, locked while this process writes it."""
    container.mkdir(parents=True, exist_ok=True)
    clean_leftovers(container)
    tmp = Path(tempfile.mkdtemp(dir=container, prefix=f".{name}.tmp-"))
    try:
        with _held_dir(tmp):
            yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def report_folder(target: Path, kind: str = RUN, keep: tuple[str, ...] = ()) -> Iterator[Path]:
    """A temporary folder that replaces `target` whole when the block ends without error.

    `target` must be absent or a folder alloc wrote of the same `kind` (else InputError, nothing
    touched). Subfolders named in `keep` (written by other commands, such as `sweep/`) are carried
    over from the previous folder, under the same lock that those commands take.
    """
    check_target(target, kind)
    container = target.parent
    _pending.append(target)
    with _scratch(container, target.name) as tmp:
        yield tmp
        write_marker(tmp, kind)
        with _signals_held(), _locked(container, target.name):
            check_target(target, kind)
            for name in keep:
                if (target / name).is_dir() and not (tmp / name).exists():
                    shutil.copytree(target / name, tmp / name, symlinks=True)
            os.chmod(tmp, 0o777 & ~_umask())
            final = container / tmp.name.replace(".tmp-", ".run-", 1)
            os.replace(tmp, final)
            if os.name == "posix":
                _switch_link(target, final)
            else:
                _switch_folder(target, final)
            _switched.append(target)


@contextlib.contextmanager
def report_subfolder(report: Path, name: str, kind: str) -> Iterator[Path]:
    """A temporary folder that becomes `report/name` (replacing it whole) when the block ends.

    Written beside the report and moved in under the report's lock, so that a run switching the
    report at the same moment either carries the new subfolder over or comes after it. Where no
    report exists yet, an empty one is made to hold the subfolder.
    """
    check_target(report, RUN)
    container = report.parent
    _pending.append(report / name)
    with _scratch(container, report.name) as tmp:
        yield tmp
        write_marker(tmp, kind)
        with _signals_held(), _locked(container, report.name):
            check_target(report, RUN)
            if not report.exists():  # nothing, or a dangling link of a killed run
                holder = Path(tempfile.mkdtemp(dir=container, prefix=f".{report.name}.run-"))
                os.chmod(holder, 0o777 & ~_umask())
                write_marker(holder, RUN)
                if os.name == "posix":
                    _switch_link(report, holder)
                else:
                    _switch_folder(report, holder)
            inside = report / name
            if inside.exists() or inside.is_symlink():
                if inside.is_symlink() or not inside.is_dir() or _marker_kind(inside) not in (
                        kind, None):
                    raise InputError([Problem(_describe(inside), "", "is not a folder alloc "
                                              "wrote; alloc will not replace it: move it away")])
                aside = Path(tempfile.mkdtemp(dir=container, prefix=f".{report.name}.old-"))
                os.replace(inside, aside / name)
                os.chmod(tmp, 0o777 & ~_umask())
                os.replace(tmp, inside)
                shutil.rmtree(aside, ignore_errors=True)
            else:
                os.chmod(tmp, 0o777 & ~_umask())
                os.replace(tmp, inside)
            _switched.append(inside)


def _switch_link(target: Path, final: Path) -> None:
    link = final.with_name(final.name.replace(".run-", ".link-", 1))
    os.symlink(final.name, link)
    if target.exists() and not target.is_symlink():
        aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
        os.replace(target, aside / target.name)
        shutil.rmtree(aside, ignore_errors=True)
    os.replace(link, target)
    for stale in target.parent.glob(f".{glob_escape(target.name)}.run-*"):
        if stale.name != final.name:
            shutil.rmtree(stale, ignore_errors=True)


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _switch_folder(target: Path, final: Path) -> None:
    if target.exists():
        aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
        os.replace(target, aside / target.name)
        os.replace(final, target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(final, target)


def current_status(report: Path) -> str | None:
    """The status recorded in the report's run.json (None when there is no readable one)."""
    try:
        record = json.loads((report / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record.get("status") if isinstance(record, dict) else None
