"""`alloc import`: an input workbook (edited in Excel or LibreOffice) back to a scenario file
holding only what differs from its parent, each key commented with the sheet and cell it came
from.

Nothing is written unless the whole workbook reads cleanly and the new scenario resolves and
validates like any other; then the file is written at once (a temporary file renamed). Every
problem names the workbook, the sheet and the cell.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alloc.errors import InputError, Problem
from alloc.inputbook.layout import (
    BOOL,
    BY_YEAR_NOTE,
    CHOICE,
    CODES,
    MARK,
    MISSING,
    NUMBER,
    SHARE,
    TEXT,
    Column,
    Layout,
    Path_,
    build,
    cells,
    get,
    ref,
)
from alloc.inputbook.template import INSTRUCTIONS, LISTS, PROVENANCE, TEMPLATE_OF, unit_of
from alloc.model.files import dotted
from alloc.model.load import load_plan
from alloc.model.scenario import check_report_name, resolve, shown

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_WORKBOOK_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Entry:
    """One input cell as read: the key it stands for and its value (None: empty)."""

    path: Path_
    value: Any
    kind: str
    by_year: bool
    sheet: str
    cell: str

    @property
    def where(self) -> str:
        return f"sheet {self.sheet}, cell {self.cell}"


@dataclass
class Change:
    """A key the new scenario sets (`value`) or removes (`value` is MISSING), and its cells."""

    path: Path_
    value: Any
    entries: list[Entry]

    @property
    def where(self) -> str:
        sheets = sorted({e.sheet for e in self.entries})
        refs = ", ".join(e.cell for e in self.entries)
        return f"sheet {sheets[0]}, cell{'s' if len(self.entries) > 1 else ''} {refs}"


@dataclass
class Imported:
    """What `import_workbook` did: the file written, its parent, the keys it set or removed."""

    path: Path
    parent: str
    template_of: str
    changes: list[Change] = field(default_factory=list)
    text: str = ""
    stale: list[str] = field(default_factory=list)
    """Input files changed since the template was made: their new values, where the workbook
    still has the old ones, became overrides too."""


def import_workbook(file: Path | str, root: Path | str, name: str | None = None,
                    parent: str | None = None, force: bool = False) -> Imported:
    """Read workbook `file` and write `scenarios/<name>.toml` under `root` (name: the workbook's
    stem), holding the keys whose cells differ from `parent` (default: the scenario the template
    was made from). Raises InputError, having written nothing, on any problem."""
    file, root = Path(file), Path(root)
    label = file.name
    book = _open(file, label)
    record = _provenance(book, label)
    template_of = record[TEMPLATE_OF]
    name = name if name is not None else file.stem
    bad = check_report_name(name)
    if bad is not None:
        raise InputError([Problem(label, "--as", f"the scenario's name '{shown(name)}' {bad}; "
                                  "give another with --as NAME (letters, digits, '-', '_')")])
    parent = parent or template_of
    target = root / "scenarios" / f"{name}.toml"
    if target.exists() and not force:
        raise InputError([Problem(f"scenarios/{shown(name)}.toml", "", "already exists; give "
                                  "another name with --as NAME, or --force to replace it")])
    base = resolve(parent, root)
    try:
        shaped = resolve(template_of, root) if parent != template_of else base
    except InputError:
        if parent == template_of:
            raise
        shaped = base  # the scenario it was made from is gone: the parent gives the layout
    if record.get("Model") not in (None, base.model):
        raise InputError([Problem(f"{label}, sheet {PROVENANCE}", "", f"the workbook is of model "
                                  f"'{shown(str(record['Model']))}', the parent '{shown(parent)}' "
                                  f"of model '{shown(base.model)}'; give a parent of the same "
                                  "model with --parent")])
    stale = sorted(k for k, v in record.items() if k in shaped.files and shaped.files[k] != v)
    if name in base.chain:
        raise InputError([Problem(label, "--as", f"'{shown(name)}' is '{shown(parent)}' or one of "
                                  "its parents; a scenario cannot be its own parent: give "
                                  "another name with --as")])
    layout = build(shaped.doc, unit_of(shaped))
    entries = read_entries(book, layout, label)
    changes = diff(entries, base.doc)
    text = scenario_text(changes, parent, file.name, template_of, stale)
    _check_and_write(text, changes, root, target, label)
    return Imported(target, parent, template_of, changes, text, stale)


def _open(file: Path, label: str) -> Any:
    """The workbook, or a clear refusal of anything that is not a plain .xlsx."""
    import openpyxl

    def no(message: str) -> InputError:
        return InputError([Problem(label, "", message)])

    if not file.is_file():
        raise no("file not found; check the name and the folder")
    size = file.stat().st_size
    if size > MAX_WORKBOOK_BYTES:
        raise no(f"is {size:,} bytes, more than the limit of {MAX_WORKBOOK_BYTES:,}; is it the "
                 "right file?")
    with file.open("rb") as fh:
        head = fh.read(8)
    if head == OLE_MAGIC:
        raise no("is a password-protected (encrypted) workbook or an old .xls file; save it "
                 "as an Excel Workbook (.xlsx) without a password")
    if not head.startswith(b"PK"):
        raise no("is not an Excel workbook (.xlsx); make one with `alloc template` and save it "
                 "as .xlsx")
    try:
        with zipfile.ZipFile(file) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError):
        raise no("is not an Excel workbook (a damaged or incomplete file)") from None
    if file.suffix.lower() in (".xlsm", ".xltm") or any(
            n.lower().endswith("vbaproject.bin") for n in names):
        raise no("is a macro-enabled workbook; alloc reads no macros: save it as an Excel "
                 "Workbook (.xlsx)")
    if "xl/workbook.xml" not in names:
        raise no("is a zip file but not an Excel workbook (.xlsx)")
    try:
        return openpyxl.load_workbook(file, data_only=False, read_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise no(f"cannot be read as a workbook ({type(exc).__name__}); open it in Excel or "
                 "LibreOffice and save it again as .xlsx") from None


def _provenance(book: Any, label: str) -> dict[str, str]:
    """The Provenance sheet as {key: value}: the scenario the template was made from, its
    model, the sha256 of each input file."""
    if PROVENANCE not in book.sheetnames:
        raise InputError([Problem(f"{label}, sheet {PROVENANCE}", "", "missing: the workbook was not "
                                  "made by `alloc template`, or the sheet was deleted or renamed; "
                                  "start from a new template")])
    record = {}
    for row in book[PROVENANCE].iter_rows(min_row=1, max_row=500, max_col=2):
        if isinstance(row[0].value, str) and isinstance(row[1].value, str):
            record[row[0].value] = row[1].value
    if not record.get(TEMPLATE_OF):
        raise InputError([Problem(f"{label}, sheet {PROVENANCE}", "", f"has no '{TEMPLATE_OF}' row; "
                                  "start from a new template")])
    return record


def read_entries(book: Any, layout: Layout, label: str) -> list[Entry]:
    """Every input cell of the workbook, checked against the layout; all problems at once."""
    problems: list[Problem] = []
    out: list[Entry] = []
    names = list(book.sheetnames)
    for sheet in layout.sheets:
        if sheet.name not in names:
            known = set(names) - {s.name for s in layout.sheets} - {INSTRUCTIONS, LISTS,
                                                                    PROVENANCE}
            problems.append(Problem(f"{label}, sheet {sheet.name}", "", "missing (deleted or renamed?)"
                                    + (f"; the workbook has {', '.join(sorted(known))}, not in "
                                       "the template"
                                       if known else "") + "; keep the template's sheets"))
            continue
        ws = book[sheet.name]

        def say(cell: str, message: str, sheet_name: str = sheet.name) -> None:
            problems.append(Problem(f"{label}, sheet {sheet_name}, cell {cell}", "", message))

        for merged in sorted(str(m) for m in ws.merged_cells.ranges):
            say(merged.split(":")[0], f"merged cells ({merged}); unmerge them")
        if ws.merged_cells.ranges:
            continue
        for block, top in sheet.places():
            title = ws.cell(top + 1, 1).value
            if title != block.title:
                say(ref(top, 0), f"expected the table '{block.title}' here, found "
                    f"{_found(title)}; rows must stay where the template put them")
                continue
            moved = False
            for c, header in enumerate(block.headers):
                found = ws.cell(top + 2, c + 1).value
                if found != header:
                    say(ref(top + 1, c), f"expected the header '{header}', found {_found(found)};"
                        " the columns must stay where the template put them")
                    moved = True
            if moved:
                continue
            for i, row in enumerate(block.rows):
                r = top + 2 + i
                for c, code in enumerate(row.labels):
                    found = ws.cell(r + 1, c + 1).value
                    if found != code:
                        say(ref(r, c), f"expected the code '{code}' (a locked cell), found "
                            f"{_found(found)}; rows and codes must stay as the template has them")
                for c, col, kind, key in cells(block, row):
                    cell = ws.cell(r + 1, c + 1)
                    try:
                        value = _value(cell, kind, col, layout)
                    except ValueError as exc:
                        say(ref(r, c), str(exc))
                        continue
                    if value is not _SKIP:
                        out.append(Entry(key, value, kind, col.by_year, sheet.name, ref(r, c)))
    if problems:
        raise InputError(problems)
    return out


_SKIP: Any = object()
LO_BOOLEANS = ("=TRUE()", "=FALSE()", "=TRUE", "=FALSE")
LIST_NAMES = {"entities": "entities", "priorities": "thematic priorities and support lines",
              "outputs": "outputs", "kinds": "kinds", "periods": "periods",
              "funds": "funds (regular, extrabudgetary, all or a fund's code)",
              "rules": "growth rules", "groups": "revenue groups"}


def _found(value: object) -> str:
    if value is None or value == "":
        return "an empty cell"
    text = str(value)
    return f'"{text[:60]}{"..." if len(text) > 60 else ""}"'


def _value(cell: Any, kind: str, col: Column, layout: Layout) -> Any:
    """A cell's value for its kind; ValueError with what was expected and found."""
    value = cell.value
    if kind == BOOL and isinstance(value, str) and value.upper() in LO_BOOLEANS:
        return value.upper().startswith("=TRUE")  # how LibreOffice saves TRUE and FALSE
    if cell.data_type == "f" or (isinstance(value, str) and value.startswith("=")) \
            or type(value).__name__ in ("ArrayFormula", "DataTableFormula"):
        text = value if isinstance(value, str) else "an array formula"
        raise ValueError(f"a formula ({text[:40]}) in an input cell; type the value itself")
    if cell.data_type == "e" or (isinstance(value, str) and value.startswith("#")
                                 and value.rstrip("!?0/A").upper() in
                                 ("#REF", "#DIV", "#N", "#NAME", "#NULL", "#NUM", "#VALUE")):
        raise ValueError(f"an error value ({value}) in an input cell; type the value itself")
    if isinstance(value, str) and not value.strip():
        value = None
    if value is None:
        return False if kind == MARK else None
    if isinstance(value, str) and value == BY_YEAR_NOTE:
        return _SKIP
    if kind in (NUMBER, SHARE):
        what = col.what or "a number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected {what}, found {_found(value)}")
        if not math.isfinite(value):
            raise ValueError(f"expected {what}, found {value}")
        if col.lo is not None and value < col.lo:
            raise ValueError(f"expected {what}, not below {col.lo:g}; found {value:g}")
        if col.hi is not None and value > col.hi:
            raise ValueError(f"expected {what}, at most {col.hi:g}; found {value:g}")
        return value
    if kind == BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(f"expected TRUE or FALSE, found {_found(value)}")
    if kind == MARK:
        if isinstance(value, str) and value.strip().lower() == "x":
            return True
        raise ValueError(f"expected x (a cell of the mandate) or an empty cell, found "
                         f"{_found(value)}")
    text = _text(value)
    if kind == TEXT:
        return text
    options = layout.lists.get(col.options or "", [])
    listed = f"{LIST_NAMES.get(col.options or '', 'codes')}: {', '.join(options)}"
    if kind == CHOICE:
        if text not in options:
            raise ValueError(f"'{text}' is not in the list of {listed}")
        return text
    if kind == CODES:
        items = [t.strip() for t in text.split(",")]
        unknown = [t for t in items if t not in options]
        if unknown or not all(items):
            raise ValueError(f"'{', '.join(unknown) or text}' is not in the list of {listed} "
                             "(several: separated by commas)")
        return items
    return text


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _same(old: Any, new: Any, kind: str) -> bool:
    if old is MISSING:
        return new is None
    if new is None:
        return old in ("", [])
    if kind == CODES:
        return (old if isinstance(old, list) else [old]) == new
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    if isinstance(old, int | float) and isinstance(new, int | float):
        return old == new or float(f"{float(old):.16G}") == float(new)
    if isinstance(old, int | float) and kind == TEXT:
        return _text(old) == new
    return bool(old == new)


def _typed(new: Any, old: Any, kind: str) -> Any:
    if kind == CODES and isinstance(new, list) and len(new) == 1 and not isinstance(old, list):
        return new[0]
    if isinstance(new, float) and new.is_integer() and abs(new) < 2**53:
        return int(new)
    return new


def diff(entries: Iterable[Entry], doc: dict[str, Any]) -> list[Change]:
    """The keys whose cells differ from the parent's resolved document, in the workbook's order.

    A year of a table the parent gives as one number for every year: the whole table, by year
    (one change). A cleared cell: the key removed. A cleared x in the mandate: the cell removed;
    a new x: the cell added.
    """
    entries = list(entries)
    years: dict[Path_, list[Entry]] = {}
    for e in entries:
        if e.by_year:
            years.setdefault(e.path[:-1], []).append(e)
    changes: dict[Path_, Change] = {}
    for e in entries:
        if e.kind == MARK:
            exists = get(doc, e.path) is not MISSING
            if e.value and not exists:
                changes[e.path] = Change(e.path, {}, [e])
            elif not e.value and exists:
                changes[e.path] = Change(e.path, MISSING, [e])
            continue
        old = get(doc, e.path, e.by_year)
        if _same(old, e.value, e.kind):
            continue
        table = e.path[:-1]
        whole = get(doc, table)
        if e.by_year and whole is not MISSING and not isinstance(whole, dict):
            given = {x.path[-1]: x.value for x in years[table] if x.value is not None}
            if table in changes:
                changes[table].entries.append(e)
            else:
                changes[table] = Change(table, {y: _typed(v, None, NUMBER)
                                                for y, v in given.items()}, [e])
            continue
        changes[e.path] = Change(e.path, MISSING if e.value is None
                                 else _typed(e.value, old, e.kind), [e])
    removed = [p for p, c in changes.items() if c.value is MISSING]
    return [c for p, c in changes.items()
            if not any(len(r) < len(p) and p[:len(r)] == r for r in removed)]


def toml_value(value: Any) -> str:
    """A value in TOML syntax (strings escaped: no control character is written as itself)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        out = []
        for ch in value:
            if ch in '"\\':
                out.append("\\" + ch)
            elif ord(ch) < 0x20 or ord(ch) == 0x7F or 0x80 <= ord(ch) < 0xA0:
                out.append(f"\\u{ord(ch):04X}")
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{toml_key((str(k),))} = {toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {type(value).__name__}")


def toml_key(path: Path_) -> str:
    """A dotted key in TOML syntax: bare parts where TOML allows, the others quoted and escaped
    (a code may hold any character)."""
    return ".".join(p if p and all(c.isascii() and (c.isalnum() or c in "-_") for c in p)
                    else toml_value(p) for p in path)


def _comment(text: str) -> str:
    return " ".join(shown(text).split())


def scenario_text(changes: list[Change], parent: str, workbook: str, template_of: str,
                  stale: Iterable[str] = ()) -> str:
    """The scenario file: [scenario] with the parent (and what it removes), then one table per
    key's table, each key commented with its sheet and cell."""
    lines = [f"# Imported by `alloc import` from {_comment(workbook)}, an input workbook made by "
             f"`alloc template {_comment(template_of)}`.",
             f"# Only the cells that differ from the parent scenario '{_comment(parent)}'; each "
             "key says where it came from."]
    lines += [f"# Changed since the template was made: {_comment(f)} (a value changed there "
              "and not in the workbook is set back to the workbook's here)" for f in stale]
    lines += ["", "[scenario]", f"parent = {toml_value(parent)}"]
    removes = [c for c in changes if c.value is MISSING]
    if removes:
        lines.append("remove = [")
        lines += [f"  {toml_value(toml_key(c.path))},   # {_comment(c.where)}" for c in removes]
        lines.append("]")
    tables: dict[Path_, list[str]] = {}
    for c in changes:
        if c.value is MISSING:
            continue
        if c.value == {}:
            tables.setdefault(c.path, []).insert(0, f"# added: {_comment(c.where)}")
            continue
        tables.setdefault(c.path[:-1], []).append(
            f"{toml_key(c.path[-1:])} = {toml_value(c.value)}   # {_comment(c.where)}")
    for table, body in tables.items():
        lines += ["", f"[{toml_key(table)}]", *body]
    return "\n".join(lines) + "\n"


def _check_and_write(text: str, changes: list[Change], root: Path, target: Path,
                     label: str) -> None:
    """Resolve and validate the new scenario from a temporary folder; then rename it into
    place. Problems in the new file are named by the workbook's cells."""
    doc = tomllib.loads(text)  # our own text: a failure here is a bug, not bad input
    for c in changes:
        if c.value is not MISSING and get(doc, c.path) != c.value:
            raise AssertionError(f"scenario text does not hold {dotted(c.path)}")
    folder = root / "scenarios"
    if not folder.is_dir():
        raise InputError([Problem("scenarios", "", "no scenarios folder in the project; run in "
                                  "a project folder or give --project DIR")])
    try:
        tmpdir = Path(tempfile.mkdtemp(prefix=".import-", dir=folder))
    except OSError as exc:
        raise InputError([Problem("scenarios", "", f"cannot write in the scenarios folder "
                                  f"({exc.strerror}); nothing was written")]) from None
    try:
        tmp = tmpdir / target.name
        with tmp.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        try:
            load_plan(str(tmp), root)
        except InputError as exc:
            raise InputError(_blame(exc.problems, changes, tmp, root, label, target)) from None
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise InputError([Problem(f"scenarios/{target.name}", "", f"cannot be written "
                                      f"({exc.strerror}); is it open in another program? "
                                      "Nothing was written")]) from None
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _blame(problems: list[Problem], changes: list[Change], tmp: Path, root: Path, label: str,
           target: Path) -> list[Problem]:
    """Problems of the new scenario, each named by the cell it came from where one did."""
    from alloc.model.files import display

    temp_label = display(tmp, root)
    new_label = f"{display(target, root)} (from {label})"
    keys = sorted(((dotted(c.path), c) for c in changes), key=lambda kc: -len(kc[0]))
    removes = [c for c in changes if c.value is MISSING]
    out = []
    for p in problems:
        if p.file != temp_label:
            message = p.message.replace(temp_label, new_label)
            named = [c for k, c in keys if f"{new_label}: {k}" in message]
            if named:  # a rule of the model broken by a changed key: named by its cell
                out.append(Problem(f"{label}, {named[0].where}", "", f"{p.file}: {p.field}: {message}"))
            else:
                out.append(Problem(p.file.replace(temp_label, new_label), p.field, message))
            continue
        change = next((c for k, c in keys if p.field == k or p.field.startswith(k + ".")), None)
        if change is None and p.field.startswith("scenario.remove["):
            i = int(p.field[len("scenario.remove["):].split("]")[0])
            change = removes[i] if i < len(removes) else None
        message = p.message.replace(temp_label, new_label)
        if change is not None:
            out.append(Problem(f"{label}, {change.where}", "", f"{message} ({p.field})"))
        else:
            out.append(Problem(new_label, p.field, message))
    out.append(Problem(label, "", "the scenario made of it does not validate (the problems "
                       "listed); change the cells named, or the inputs the changes conflict "
                       f"with. Nothing was written to {display(target, root)}"))
    return out
