"""Scenario resolution: a model folder plus a chain of scenario overrides, as one document.

The result keeps, for every key, the file (and line) it came from, so validation can name the
place a user must fix, and every override with its old and new value, for provenance.
"""

from __future__ import annotations

import copy
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alloc.errors import InputError, Problem
from alloc.model.domain import Override
from alloc.model.files import display, dotted, parse_csv, parse_toml, read_text
from alloc.model.size import check_document, check_mandate_file
from alloc.suggest import closest
from alloc.text import printable

Path_ = tuple[str, ...]

MODEL_TOML = {
    "model.toml": "model",
    "framework.toml": "framework",
    "financial-plan.toml": "financial_plan",
    "rules.toml": "rules",
}
REQUIRED_MODEL_FILES = ("model.toml", "framework.toml", "financial-plan.toml", "rules.toml",
                        "mandate.csv")
MANDATE_COLUMNS = ("entity", "priority", "output", "min", "max", "note")
PREVIOUS_COLUMNS = ("entity", "priority", "amount")
REQUIREMENT_COLUMNS = ("entity", "priority", "output", "tranche", "year", "amount", "value", "note")
REQUIREMENT_KEYS = ("entity", "priority", "output", "tranche", "year")
SECTIONS = ("model", "framework", "financial_plan", "rules", "mandate", "previous_allocation",
            "requirements")
MODEL_CSV = ("mandate.csv", "previous-allocation.csv", "requirements.csv")
SCENARIO_KEYS = ("model", "parent", "title", "description", "reference", "remove")
WINDOWS_DEVICES = ("con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                   *(f"lpt{i}" for i in range(1, 10)))
RESERVED_REPORT_NAMES = ("compare", "readme", "readme.md", *WINDOWS_DEVICES)
"""Names no scenario may have, in any case: `compare` holds comparisons, README the folder's
notes, the rest are Windows devices (refused with any extension too, as Windows does)."""
MAX_REPORT_NAME = 100
WINDOWS_FORBIDDEN = '<>:"|?*'
INVISIBLE = ("Cc", "Cf", "Cs", "Zl", "Zp")
"""Unicode categories of characters that do not show as themselves: controls (ESC), format
characters (bidi overrides, zero-width), undecodable bytes, line and paragraph separators."""


def check_report_name(name: str) -> str | None:
    """Why `name` cannot be the folder `reports/<name>/` of a scenario, or None if it can.

    A scenario's name is its file's stem and becomes a report folder, so a name that climbs out
    of reports/, hides, collides with alloc's own folders, fails on Windows or disguises itself on
    a terminal is refused before anything is read. The report writer checks again.
    """
    if not name:
        return "is empty"
    if name in (".", ".."):
        return f"is '{name}', which names a folder itself, not a scenario"
    if name.startswith("."):
        return "starts with '.', which hides the report folder"
    for sep in ("/", "\\"):
        if sep in name:
            return f"contains '{sep}', a folder separator"
    for ch in name:
        if unicodedata.category(ch) in INVISIBLE:
            return (f"contains the control character U+{ord(ch):04X}, which a terminal or a file "
                    "list would not show as it is")
    for ch in WINDOWS_FORBIDDEN:
        if ch in name:
            return f"contains '{ch}', which Windows does not allow in a folder name"
    if name.endswith((" ", ".")):
        return "ends with a space or a dot, which Windows drops from folder names"
    if len(name) > MAX_REPORT_NAME:
        return f"is {len(name)} characters long, more than {MAX_REPORT_NAME}"
    lower = name.lower()
    if lower == "compare":
        return "is reserved: alloc writes comparisons under reports/compare/"
    if lower in ("readme", "readme.md"):
        return "is reserved for the reports folder's README"
    device = lower.split(".")[0].rstrip(" ")
    if device in WINDOWS_DEVICES:
        return f"is the Windows device name {device.upper()}, which cannot be a folder on Windows"
    if lower in RESERVED_REPORT_NAMES:
        return "is reserved"
    return None


def shown(text: str) -> str:
    """`text` with invisible and control characters escaped, safe to print (`alloc.text`)."""
    return printable(text)


def _name_problem(name: str, label: str, field: str, what: str, todo: str) -> Problem | None:
    reason = check_report_name(name)
    if reason is None:
        return None
    return Problem(shown(label), field, f"{what} '{shown(name)}' {reason}; a scenario's name "
                   f"becomes its report folder reports/<name>/. {todo} (letters, digits, '-' and "
                   "'_' are safe)")


@dataclass(frozen=True)
class Source:
    """Where a key was written: a file, how many leading path parts the file implies, a line."""

    file: str
    implied: int = 1
    line: int | None = None

    def field(self, path: Path_) -> str:
        if self.line is not None:
            column = f", column {path[-1]}" if len(path) > 2 else ""
            return f"line {self.line}{column}"
        return dotted(path[self.implied:])


@dataclass
class Resolved:
    """A scenario resolved into one document, with where each key came from."""

    name: str
    model: str
    title: str
    description: str
    chain: tuple[str, ...]
    """The scenario and its parents, the scenario first."""
    doc: dict[str, Any]
    origins: dict[Path_, Source]
    overrides: list[Override] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    """Every input file read: label -> sha256."""
    removed: dict[Path_, Removal] = field(default_factory=dict)
    """Keys a scenario's `remove` deleted (and no later scenario set again): who removed them."""
    reference: str = ""
    """The scenario's own document reference (not inherited: a paper's reference is its own)."""

    def removal(self, path: Path_) -> tuple[Path_, Removal] | None:
        """The removal that took away `path` (or a table holding it), if one did."""
        for n in range(len(path), 0, -1):
            if path[:n] in self.removed:
                return path[:n], self.removed[path[:n]]
        return None

    def source(self, path: Path_) -> Source:
        for n in range(len(path), 0, -1):
            if path[:n] in self.origins:
                return self.origins[path[:n]]
        return Source("(resolved scenario)", 0)

    def _removal_behind(self, path: Path_, message: str) -> Removal | None:
        """The `remove` entry that caused a problem at `path`: one that took away the key (or a
        table holding it), or, when the problem is that something is missing, one inside it (a
        year taken out of a table that must give every year)."""
        found = self.removal(path)
        if found is not None and not _exists(self.doc, path):
            return found[1]
        if message.startswith(("missing", "has no entry")):
            for p, r in self.removed.items():
                if len(p) > len(path) and p[: len(path)] == path:
                    return r
        return None

    def problem(self, path: Path_, message: str, below: OriginsBelow | None = None) -> Problem:
        """A problem at a key, naming too any other file that set keys inside it.

        A key that is missing because a scenario removed it is blamed on that `remove` entry,
        not on the model file that once held it. `below`, the origins indexed once, spares a pass
        over every origin: with many problems in a large mandate, those passes took minutes.
        """
        removal = self._removal_behind(path, message)
        if removal is not None:
            where = f"{dotted(path)}: {message}"
            verb = (f"removes '{removal.text}', which the model requires ({where})"
                    if message.startswith("missing") else f"removes '{removal.text}', so {where}")
            return Problem(removal.file, removal.field, f"{verb}; drop this entry, or set the "
                           "key again in the scenario")
        src = self.source(path)
        under = (below.origins.get(path, []) if below is not None
                 else [(p, o) for p, o in self.origins.items()
                       if len(p) > len(path) and p[: len(path)] == path])
        inner = {p: o for p, o in under if o.file != src.file}
        # a table set by a file stands for the keys inside it that the same file set
        others = sorted({f"{o.file}: {o.field(p)}" if o.field(p) else o.file
                         for p, o in inner.items()
                         if not any(inner.get(p[:n]) == o for n in range(len(path) + 1, len(p)))})
        if others:
            message += f" (values set in {'; '.join(others)})"
        inside = sorted({f"{r.file}: {r.field} removed '{r.text}'" for p, r in self.removed.items()
                         if len(p) > len(path) and p[: len(path)] == path})
        if inside:
            message += f" (after {'; '.join(inside)})"
        return Problem(src.file, src.field(path), message)


class OriginsBelow:
    """The origins of the keys below each key of a resolved document, found in one pass over them.

    Made from `Resolved.origins` once that is final (after resolution), for code that asks about
    many keys: a mandate of 1e5 rows has 1e5 origins.
    """

    def __init__(self, origins: dict[Path_, Source]):
        self.origins: dict[Path_, list[tuple[Path_, Source]]] = {}
        for p, o in origins.items():
            for n in range(1, len(p)):
                self.origins.setdefault(p[:n], []).append((p, o))


@dataclass(frozen=True)
class Removal:
    """A `remove` entry of a scenario: its file, its field (`scenario.remove[i]`), its text."""

    file: str
    field: str
    text: str


def _exists(doc: dict[str, Any], path: Path_) -> bool:
    node: object = doc
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def confined(path: Path, folders: list[Path], label: str, what: str) -> Path:
    """`path` if it resolves (links followed) inside one of `folders`; else a clear error."""
    real = path.resolve()
    for folder in folders:
        if real == folder.resolve() or real.is_relative_to(folder.resolve()):
            return path
    raise InputError([Problem(label, "", f"{what} resolves to {real}, outside "
                              + " and ".join(f.as_posix() for f in folders)
                              + "; alloc reads only the project's models/ and scenarios/ folders "
                              "and the folder of the scenario named on the command line")])


def locate_scenario(ref: str, root: Path) -> Path:
    """A scenario file's path, or a name in the project's `scenarios/` folder."""
    candidate = Path(ref)
    if candidate.suffix == ".toml" or candidate.exists():
        return candidate
    path = root / "scenarios" / f"{ref}.toml"
    if not path.exists():
        known = sorted(p.stem for p in (root / "scenarios").glob("*.toml"))
        hint = closest(ref, known)
        raise InputError([Problem(
            f"scenarios/{shown(ref)}.toml", "",
            "no such scenario" + (f"; did you mean '{hint}'?" if hint else ".")
            + (f" Known scenarios: {', '.join(known)}." if known else ""),
        )])
    return path


def resolve(ref: str, root: Path, sets: Mapping[str, Any] | None = None) -> Resolved:
    """Resolve a scenario (name or path) under a project root into one document.

    `sets` (dotted key -> value, as `--set` gives them) is one more override layer on top of the
    scenario chain; without it, the layer `command_line_sets` holds applies (none by default).
    """
    root = Path(root)
    path = locate_scenario(ref, root)
    bad = _name_problem(path.stem, display(path, root), "file name", "the scenario's name",
                        "Rename the file")
    if bad is not None:
        raise InputError([bad])
    chain = _read_chain(path, root)
    model = _model_name(chain)
    check_mandate_file(root, model, [link.overrides for link in chain])  # before it is parsed
    resolved = _load_model(model, root)
    resolved.name = chain[0].path.stem
    resolved.chain = tuple(link.path.stem for link in chain)
    resolved.title = next((link.meta["title"] for link in chain if "title" in link.meta), resolved.name)
    resolved.description = next(
        (link.meta["description"] for link in chain if "description" in link.meta), "")
    resolved.reference = str(chain[0].meta.get("reference", "")) if chain else ""
    problems: list[Problem] = []
    for link in reversed(chain):
        resolved.files[link.label] = link.sha256
        _apply(resolved, link, problems)
    if problems:
        raise InputError(problems)
    _apply_sets(resolved, (_SETS.get() or {}) if sets is None else sets)
    check_document(resolved.doc, resolved.source(("mandate",)).file)  # before it is validated
    return resolved


@dataclass(frozen=True)
class _Link:
    path: Path
    label: str
    sha256: str
    meta: dict[str, Any]
    overrides: dict[str, Any]


def _read_chain(path: Path, root: Path) -> list[_Link]:
    chain: list[_Link] = []
    seen: list[Path] = []
    while True:
        file = read_text(path, root)
        doc = parse_toml(file)
        key = path.resolve()
        if key in seen:
            loop = " -> ".join([*(p.stem for p in seen), path.stem])
            raise InputError([Problem(file.label, "scenario.parent",
                                      f"the parent chain loops ({loop}); remove one parent")])
        seen.append(key)
        meta = doc.pop("scenario", None)
        problems = []
        if not isinstance(meta, dict):
            problems.append(Problem(file.label, "scenario",
                                    "missing [scenario] table; add one with at least model = \"...\""))
            meta = {}
        for k in meta:
            if k not in SCENARIO_KEYS:
                hint = closest(k, SCENARIO_KEYS)
                problems.append(Problem(file.label, f"scenario.{k}", "unknown key"
                                        + (f"; did you mean '{hint}'?" if hint else ".")
                                        + f" Expected one of {', '.join(SCENARIO_KEYS)}."))
        for k in ("model", "parent", "title", "description", "reference"):
            if k in meta and not isinstance(meta[k], str):
                problems.append(Problem(file.label, f"scenario.{k}", "expected text in quotes"))
        remove = meta.get("remove", [])
        if not isinstance(remove, list) or not all(isinstance(r, str) for r in remove):
            problems.append(Problem(file.label, "scenario.remove",
                                    "expected a list of keys in quotes, e.g. ['rules.bounds.x']"))
        for k in doc:
            if k not in SECTIONS:
                hint = closest(k, SECTIONS)
                problems.append(Problem(file.label, k, "unknown section"
                                        + (f"; did you mean '{hint}'?" if hint else ".")
                                        + f" A scenario may override {', '.join(SECTIONS)}."))
            elif not isinstance(doc[k], dict):
                problems.append(Problem(file.label, k, "expected a table"))
        if problems:
            raise InputError(problems)
        chain.append(_Link(path, file.label, file.sha256, meta, doc))
        parent = meta.get("parent")
        if parent is None:
            return chain
        if "/" in parent or "\\" in parent or parent.endswith(".toml"):
            raise InputError([Problem(file.label, "scenario.parent",
                                      f"'{shown(parent)}' should be a scenario name, without folder "
                                      "or .toml")])
        bad = _name_problem(parent, file.label, "scenario.parent", "the parent's name",
                            "Rename the parent's file and this entry")
        if bad is not None:
            raise InputError([bad])
        sibling = path.parent / f"{parent}.toml"
        path = sibling if sibling.exists() else locate_scenario(parent, root)
        confined(path, [chain[0].path.parent, root / "scenarios"], file.label,
                 f"parent scenario '{parent}'")


def _model_name(chain: list[_Link]) -> str:
    named = [(link, link.meta["model"]) for link in chain if "model" in link.meta]
    if not named:
        raise InputError([Problem(chain[0].label, "scenario.model",
                                  "no model named; add model = \"<folder in models/>\"")])
    first_link, model = named[0]
    for link, other in named[1:]:
        if other != model:
            raise InputError([Problem(first_link.label, "scenario.model",
                                      f"names model '{model}' but its parent {link.label} "
                                      f"names '{other}'; a scenario must keep its parent's model")])
    return str(model)


def _load_model(name: str, root: Path) -> Resolved:
    models = root / "models"
    folder = models / name
    if not name or "/" in name or "\\" in name or name.startswith(".") or not folder.is_dir():
        known = sorted(p.name for p in models.iterdir() if p.is_dir()) if models.is_dir() else []
        hint = closest(name, known)
        raise InputError([Problem(f"models/{shown(name)}", "", "no such model folder"
                                  + (f"; did you mean '{hint}'?" if hint else ".")
                                  + (f" Known models: {', '.join(known)}." if known else ""))])
    confined(folder, [models], f"models/{name}", "the model folder")
    for entry in folder.iterdir():
        confined(entry, [folder], f"models/{name}/{entry.name}", "the file")
    doc: dict[str, Any] = {}
    origins: dict[Path_, Source] = {}
    files: dict[str, str] = {}
    problems: list[Problem] = []
    for filename in REQUIRED_MODEL_FILES:
        if not (folder / filename).exists():
            problems.append(Problem(f"models/{name}/{filename}", "",
                                    "missing model file; see docs/model-format.md"))
    for extra in sorted(folder.iterdir()):
        if extra.name not in (*MODEL_TOML, *MODEL_CSV, "README.md"):
            problems.append(Problem(f"models/{name}/{extra.name}", "",
                                    "unknown file in the model folder; expected "
                                    + ", ".join((*MODEL_TOML, *MODEL_CSV))))
    if problems:
        raise InputError(problems)
    for filename, section in MODEL_TOML.items():
        try:
            file = read_text(folder / filename, root)
            files[file.label] = file.sha256
            doc[section] = parse_toml(file)
            _mark(doc[section], (section,), Source(file.label, 1), origins)
        except InputError as exc:
            problems.extend(exc.problems)
    for filename, section, columns, key_columns, numeric in (
        ("mandate.csv", "mandate", MANDATE_COLUMNS, ("entity", "priority", "output"), ("min", "max")),
        ("previous-allocation.csv", "previous_allocation", PREVIOUS_COLUMNS,
         ("entity", "priority"), ("amount",)),
        ("requirements.csv", "requirements", REQUIREMENT_COLUMNS, REQUIREMENT_KEYS,
         ("amount", "value")),
    ):
        if not (folder / filename).exists():
            doc[section] = {}
            continue
        try:
            file = read_text(folder / filename, root)
            files[file.label] = file.sha256
            rows = parse_csv(file, columns, key_columns, numeric)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        table: dict[str, Any] = {}
        for line, record in rows:
            parts = [p for c in key_columns if isinstance(p := record.get(c), str)]
            if len(parts) != len(key_columns):
                problems.append(Problem(file.label, f"line {line}",
                                        f"every row needs {', '.join(key_columns)}"))
                continue
            key = "/".join(parts)
            if key in table:
                problems.append(Problem(file.label, f"line {line}",
                                        f"'{key}' is listed twice; keep one row"))
                continue
            table[key] = {k: v for k, v in record.items() if k not in key_columns}
            src = Source(file.label, 1, line)
            origins[(section, key)] = src
        origins[(section,)] = Source(file.label, 1)
        doc[section] = table
    if problems:
        raise InputError(problems)
    return Resolved(name="", model=name, title="", description="", chain=(), doc=doc,
                    origins=origins, files=files)


def _mark(value: object, path: Path_, src: Source, origins: dict[Path_, Source]) -> None:
    origins[path] = src
    if isinstance(value, dict):
        for k, v in value.items():
            _mark(v, (*path, str(k)), src, origins)


def parse_key(text: str) -> Path_ | None:
    """A dotted key as TOML writes it (`a.b."1.1"`) as a path; None if it is not one."""
    try:
        doc: Any = tomllib.loads(f"{text} = 0")
    except tomllib.TOMLDecodeError:
        return None
    path: list[str] = []
    while isinstance(doc, dict) and len(doc) == 1:
        (k, doc), = doc.items()
        path.append(k)
    return tuple(path) if doc == 0 else None


def _apply(resolved: Resolved, link: _Link, problems: list[Problem]) -> None:
    scenario = link.path.stem
    src = Source(link.label, 0)
    for i, text in enumerate(link.meta.get("remove", [])):
        path = parse_key(text)
        node: Any = resolved.doc
        if path is not None and path[0] in SECTIONS:
            for part in path[:-1]:
                node = node.get(part) if isinstance(node, dict) else None
        if path is None or not isinstance(node, dict) or path[-1] not in node:
            problems.append(Problem(link.label, f"scenario.remove[{i}]",
                                    f"'{text}' names no key of the model or parents; "
                                    "check the spelling (quote keys with dots)"))
            continue
        resolved.overrides.append(Override(scenario, dotted(path), node.pop(path[-1]), None))
        resolved.removed[path] = Removal(link.label, f"scenario.remove[{i}]", shown(text))
        for stale in [p for p in resolved.origins if p[: len(path)] == path]:
            del resolved.origins[stale]  # gone: no message may say a removed key set a value
    for section, table in link.overrides.items():
        _merge(resolved, resolved.doc.setdefault(section, {}), table, (section,), scenario, src)


def _merge(resolved: Resolved, base: dict[str, Any], new: dict[str, Any], path: Path_, scenario: str,
           src: Source) -> None:
    for key, value in new.items():
        here = (*path, str(key))
        for gone in [p for p in resolved.removed if p[: len(here)] == here or here[: len(p)] == p]:
            del resolved.removed[gone]  # set again: the scenario that sets it answers for it
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            if not value:
                resolved.origins[here] = src
            _merge(resolved, base[key], value, here, scenario, src)
            continue
        old = base.get(key)
        if old != value:
            resolved.overrides.append(Override(scenario, dotted(here), copy.deepcopy(old), value))
        if isinstance(old, dict):
            for stale in [p for p in resolved.origins if p[: len(here)] == here]:
                del resolved.origins[stale]
        base[key] = copy.deepcopy(value)
        _mark(value, here, src, resolved.origins)


# --- the command line's layer: --set KEY=VALUE ---------------------------------------------------

SET_SOURCE = "--set"
"""The scenario name overrides from `--set` carry in provenance (run.json, the report)."""
_SETS: ContextVar[Mapping[str, Any] | None] = ContextVar("alloc_sets", default=None)


@contextmanager
def command_line_sets(sets: Mapping[str, Any] | None) -> Iterator[None]:
    """Within the block, every scenario resolved gets `sets` as its top override layer.

    Why: a comparison resolves each of its scenarios deep inside `alloc.compare`; the layer
    reaches them this way, without every caller threading it through.
    """
    token = _SETS.set(dict(sets or {}))
    try:
        yield
    finally:
        _SETS.reset(token)


def parse_set(text: str) -> tuple[str, Any]:
    """`KEY=VALUE` from the command line: the key as typed, the value parsed as TOML (`350`,
    `0.5`, `true`, `"text"`, `[1, 2]`, `{a = 1}`); text that is not TOML is taken as a string
    (`zero_nominal`)."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw:
        raise InputError([Problem(SET_SOURCE, shown(text), "expected KEY=VALUE with a dotted key "
                                  "as in the scenario files, e.g. --set "
                                  "financial_plan.growth.rule=zero_nominal")])
    try:
        value: Any = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def _apply_sets(resolved: Resolved, sets: Mapping[str, Any]) -> None:
    """Merge the `--set` layer into the resolved document, each key's source named `--set KEY`
    so that validation's messages point at the option to fix."""
    problems: list[Problem] = []
    for key, value in sets.items():
        label = f"{SET_SOURCE} {shown(key)}"
        path = parse_key(key)
        if path is None:
            problems.append(Problem(label, "", "is not a dotted key as the scenario files write "
                                    "them (quote parts holding dots, e.g. "
                                    "rules.bounds.\"1.1\".max)"))
            continue
        if path[0] not in SECTIONS:
            inside = [sec for sec in SECTIONS
                      if isinstance(resolved.doc.get(sec), dict) and path[0] in resolved.doc[sec]]
            hint = f"{inside[0]}.{key}" if inside else closest(path[0], SECTIONS)
            problems.append(Problem(label, "", f"'{shown(path[0])}' is not a section"
                                    + (f"; did you mean '{hint}'?" if hint else ".")
                                    + f" A --set may change a key of {', '.join(SECTIONS)}."))
            continue
        if len(path) == 1:
            problems.append(Problem(label, "", "names a whole section; name a key inside it"))
            continue
        table: Any = copy.deepcopy(value)
        for part in reversed(path[1:]):
            table = {part: table}
        base = resolved.doc.setdefault(path[0], {})
        _merge(resolved, base, table, (path[0],), SET_SOURCE, Source(label, len(path)))
    if problems:
        raise InputError(problems)
