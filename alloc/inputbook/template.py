"""`alloc template`: a resolved scenario as an input workbook a finance officer edits in Excel.

Structure cells (titles, headers, codes) are locked, input cells unlocked (sheet protection
without a password: it guards against slips, not people); each input cell holds the resolved
value of one key, with data validation, and the source note beside it. The workbook records the
scenario it was made from, which `alloc import` takes as the parent.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from alloc._version import __version__
from alloc.errors import InputError, Problem
from alloc.inputbook.layout import (
    BOOL,
    BY_YEAR_NOTE,
    CHOICE,
    CODES,
    LABEL,
    MARK,
    MISSING,
    NUMBER,
    SHARE,
    TEXT,
    Layout,
    build,
    cells,
    column_letter,
    get,
)
from alloc.model.scenario import Resolved, resolve
from alloc.report.book import BANNER, Book, Properties, created_on

INSTRUCTIONS = "Instructions"
PROVENANCE = "Provenance"
LISTS = "Lists"
TEMPLATE_OF = "Template of scenario"
"""The Provenance row naming the scenario the workbook was made from (import's default parent)."""


def write_template(scenario: str, root: Path | str, out: Path | str | None = None,
                   force: bool = False) -> Path:
    """Write the input workbook of `scenario` to `out` (default: `<scenario>.xlsx` in the
    project); whole or not at all, and never over an existing file (someone's edits) unless
    `force`. Returns the path written."""
    root = Path(root)
    resolved = resolve(scenario, root)
    path = Path(out) if out is not None else root / f"{resolved.name}.xlsx"
    if path.suffix.lower() != ".xlsx":
        raise InputError([Problem(path.as_posix(), "-o", "the workbook's name must end in .xlsx "
                                  "(a workbook without macros)")])
    if path.exists() and not force:
        raise InputError([Problem(path.as_posix(), "", "already exists (edits in it would be "
                                  "lost); give another name with -o FILE, or --force to replace "
                                  "it")])
    if not path.parent.is_dir():
        raise InputError([Problem(path.as_posix(), "-o", f"no folder {path.parent.as_posix()}; "
                                  "create it first or give another path")])
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".alloc-template-", suffix=".xlsx")
    except OSError as exc:
        raise InputError([Problem(path.as_posix(), "-o", f"cannot write in "
                                  f"{path.parent.as_posix()} ({exc.strerror}); give another "
                                  "path")]) from None
    os.close(fd)
    try:
        _write(resolved, Path(tmp))
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise InputError([Problem(path.as_posix(), "-o", f"cannot be written "
                                      f"({exc.strerror}); is it open in Excel?")]) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def unit_of(resolved: Resolved) -> str:
    unit = get(resolved.doc, ("model", "unit"))
    return unit if isinstance(unit, str) else "CHF thousands"


def _write(resolved: Resolved, path: Path) -> None:
    doc = resolved.doc
    unit = unit_of(resolved)
    lay = build(doc, unit)
    date = get(doc, ("model", "inputs_date"))
    illustrative = get(doc, ("model", "illustrative")) is True
    book = Book(path, Properties(
        title=f"Input workbook: {resolved.title}", created=created_on(str(date)),
        subject=f"Inputs of scenario {resolved.name}, model {resolved.model}",
        comments="Edit the yellow cells, then: alloc import FILE --as NAME"))
    f = book.f
    unlocked = book.add_format({"locked": False, "bg_color": "#FFF2CC", "border": 1,
                                "border_color": "#BFBFBF"})
    unlocked_num = book.add_format({"locked": False, "bg_color": "#FFF2CC", "border": 1,
                                    "border_color": "#BFBFBF", "num_format": "#,##0.###"})
    unlocked_text = book.add_format({"locked": False, "bg_color": "#FFF2CC", "border": 1,
                                     "border_color": "#BFBFBF", "text_wrap": False})
    fixed = book.add_format({"bg_color": "#F2F2F2"})
    by_year = book.add_format({"italic": True, "font_color": "#7F7F7F"})
    aside = book.add_format({"italic": True})
    boolean = book.add_format({"locked": False, "bg_color": "#FFF2CC", "border": 1,
                               "border_color": "#BFBFBF", "num_format": '"TRUE";"TRUE";"FALSE"'})
    _instructions(book, resolved, lay)
    ranges = _lists(book, lay)
    for sheet in lay.sheets:
        ws = book.sheet(sheet.name)
        ws.write_string(0, 0, banner(sheet.title, illustrative), f["title"])
        ws.write_string(1, 0, sheet.note, aside)
        widths: dict[int, float] = {}
        for block, top in sheet.places():
            ws.write_string(top, 0, block.title, f["caption"])
            if block.note:
                ws.write_string(top, len(block.headers) + 1, block.note, aside)
            for c, header in enumerate(block.headers):
                ws.write_string(top + 1, c, header, f["head"])
                widths[c] = max(widths.get(c, 10), min(len(header) + 2, 24))
            for c, col in enumerate(block.columns, start=len(block.keys)):
                widths[c] = max(widths.get(c, 10), col.width)
            for i, row in enumerate(block.rows):
                r = top + 2 + i
                for c, label in enumerate(row.labels):
                    ws.write_string(r, c, label, fixed)
                    widths[c] = max(widths.get(c, 10), min(len(label) + 2, 30))
                for c, col, kind, key in cells(block, row):
                    value = (("x" if get(doc, key) is not MISSING else MISSING) if kind == MARK
                             else get(doc, key, col.by_year))
                    _cell(ws, r, c, kind, value, unlocked, unlocked_num, unlocked_text, by_year,
                          boolean)
                    options = ranges.get(col.options or "")
                    _validate(ws, r, c, kind, col.hi, col.lo, options)
        for c, w in widths.items():
            ws.set_column(c, c, w)
        ws.protect("", {"format_columns": True, "format_rows": True})
    _provenance(book, resolved)
    book.print_setup("&L&A&CPage &P of &N", f"Inputs of {resolved.model}/{resolved.name}",
                     draft=False, banner=illustrative)
    book.close()


def _cell(ws: Any, r: int, c: int, kind: str, value: Any, unlocked: Any, unlocked_num: Any,
          unlocked_text: Any, by_year: Any, boolean: Any) -> None:
    if value is MISSING or value is None:
        ws.write_blank(r, c, None, unlocked_num if kind in (NUMBER, SHARE) else unlocked)
    elif kind in (NUMBER, SHARE, LABEL) and isinstance(value, dict):
        ws.write_string(r, c, BY_YEAR_NOTE, by_year)
    elif isinstance(value, bool):
        ws.write_boolean(r, c, value, boolean)
    elif isinstance(value, int | float):
        ws.write_number(r, c, value, unlocked_num)
    elif isinstance(value, list):
        ws.write_string(r, c, ", ".join(str(v) for v in value), unlocked_text)
    elif isinstance(value, dict):
        ws.write_string(r, c, BY_YEAR_NOTE, by_year)
    else:
        ws.write_string(r, c, str(value), unlocked_text)


def _validate(ws: Any, r: int, c: int, kind: str, hi: float | None, lo: float | None,
              options: str | None) -> None:
    if kind == SHARE:
        ws.data_validation(r, c, r, c, {
            "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1,
            "error_title": "A share", "error_message": "Type a share between 0 and 1."})
    elif kind == NUMBER:
        ws.data_validation(r, c, r, c, {
            "validate": "decimal", "criteria": ">=", "value": lo if lo is not None else 0,
            "error_title": "A number", "error_message": "Type a number (no text, no formula)."})
    elif kind in (CHOICE, MARK) and options:
        ws.data_validation(r, c, r, c, {
            "validate": "list", "source": options,
            "error_title": "A code", "error_message": "Choose a code from the list."})
    elif kind == BOOL:
        ws.data_validation(r, c, r, c, {"validate": "list", "source": ["TRUE", "FALSE"]})
    elif kind == CODES and options:
        ws.data_validation(r, c, r, c, {
            "validate": "any", "input_title": "Codes",
            "input_message": "Codes from the list, separated by commas; empty: all."})
    elif kind == TEXT:
        pass


def _lists(book: Book, lay: Layout) -> dict[str, str]:
    """The hidden Lists sheet: one column per list; the range each validation takes its codes
    from."""
    ws = book.sheet(LISTS)
    out = {}
    for c, (name, items) in enumerate(sorted(lay.lists.items())):
        ws.write_string(0, c, name, book.f["head"])
        for i, item in enumerate(items, start=1):
            ws.write_string(i, c, item)
        if items:
            letter = column_letter(c)
            out[name] = f"={LISTS}!${letter}$2:${letter}${len(items) + 1}"
    ws.protect("", {})
    ws.hide()
    return out


def banner(title: str, illustrative: bool) -> str:
    """A sheet's title, headed by the banner when the model says its figures are illustrative."""
    return f"{BANNER}: {title}" if illustrative else title


def _instructions(book: Book, resolved: Resolved, lay: Layout) -> None:
    ws = book.sheet(INSTRUCTIONS)
    f = book.f
    ws.set_column(0, 0, 110)
    lines = [
        (banner(f"Input workbook of scenario '{resolved.name}': {resolved.title}",
                get(resolved.doc, ("model", "illustrative")) is True), f["title"]),
        (f"Model {resolved.model}; amounts in {lay.unit} unless a header says otherwise.",
         f["plain"]),
        ("", f["plain"]),
        ("How to use it", f["caption"]),
        ("1. Change the yellow cells only: the grey codes, titles and headers are locked "
         "(sheet protection without a password).", f["plain"]),
        ("2. Type values, not formulas; leave a cell empty for 'not set'. Shares are between 0 "
         "and 1; codes come from the lists (Entity, Priority, Output, Tranche, Year, Kind, "
         "Period, Funds). Several codes: separated by commas.", f["plain"]),
        ("3. Keep the sheets, their names and the columns where they are; do not merge cells; "
         "save as .xlsx (not .xlsm).", f["plain"]),
        ("4. Change the Source or Note beside a figure you change: say where the new figure "
         "comes from.", f["plain"]),
        ("5. Make a scenario of it:  alloc import FILE.xlsx --as NAME  (writes "
         "scenarios/NAME.toml with only what differs from the parent scenario, each change "
         f"commented with its sheet and cell; parent: '{resolved.name}', or --parent).",
         f["plain"]),
        ("6. Run it:  alloc run NAME  (reports/NAME/).", f["plain"]),
        ("", f["plain"]),
        ("The text files (models/, scenarios/) remain the source of truth; this workbook is a "
         "way to propose changes to them. A row removed from the mandate matrix (its x cleared) "
         "becomes a 'remove' entry; rows cannot be added here.", f["note"]),
        ("", f["plain"]),
        ("Sheets", f["caption"]),
        *((f"{s.name}: {s.title}", f["plain"]) for s in lay.sheets),
        (f"{PROVENANCE}: the scenario, its parents, the model and the sha256 of every input "
         "file the template was made from.", f["plain"]),
    ]
    for r, (text, fmt) in enumerate(lines):
        if text:
            ws.write_string(r, 0, text, fmt)
    ws.protect("", {})


def _provenance(book: Book, resolved: Resolved) -> None:
    ws = book.sheet(PROVENANCE)
    f = book.f
    ws.set_column(0, 0, 36)
    ws.set_column(1, 1, 70)
    ws.write_string(0, 0, banner("Provenance", get(resolved.doc, ("model", "illustrative")) is True),
                    f["title"])
    rows = [(TEMPLATE_OF, resolved.name), ("Title", resolved.title),
            ("Parent", resolved.chain[1] if len(resolved.chain) > 1 else "(none: the model as it "
             "stands)"),
            ("Scenario chain", " -> ".join(resolved.chain)), ("Model", resolved.model),
            ("alloc version", __version__)]
    for r, (k, v) in enumerate(rows, start=2):
        ws.write_string(r, 0, k, f["head"])
        ws.write_string(r, 1, v)
    r = len(rows) + 3
    ws.write_string(r, 0, "Input file", f["head"])
    ws.write_string(r, 1, "sha256", f["head"])
    for i, (label, sha) in enumerate(sorted(resolved.files.items()), start=r + 1):
        ws.write_string(i, 0, label)
        ws.write_string(i, 1, sha)
    ws.protect("", {})
