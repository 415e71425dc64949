"""The one policy for the spreadsheet files alloc writes: every workbook (appendix-a.xlsx,
comparison.xlsx, sweep.xlsx) opens a `Book`, and every CSV file goes through `write_csv`.

Rules it keeps:

- text is text: a workbook never reads a string as a formula, a link or a number (`OPTIONS`),
  and `Book.write` writes every string with `write_string`, so "=HYPERLINK(...)" or "@cmd" from
  an input file stays inert; a CSV file gets the same text with a leading apostrophe when a
  spreadsheet would run it (`neutralise`), in its cells, its header and its index;
- the same inputs give the same bytes: fixed document properties (`Properties`: author alloc,
  created on a date of the inputs, never the clock) and packaging in memory, with the fixed
  timestamps of xlsxwriter's in-memory mode (no temporary files, no file modes);
- one set of named cell formats (`STYLES`): amounts in whole units of the model's unit
  (`AMOUNT`; the unit itself goes in titles and headers, `with_unit`), percentages, headers,
  notes, subtotals and totals; a workbook creates a format the first time it asks for it;
- nothing is cut at the edge of a sheet (`MAX_ROWS` x `MAX_COLS`, Excel's limits): every sheet
  refuses, with `SheetTooLarge`, a cell, range or table beyond them, where xlsxwriter would drop
  it without a word; a frame too long for one sheet goes on numbered sheets ("Allocation",
  "Allocation (2)", ...), each with its header, and a note says how many sheets and rows there
  are and which CSV file holds the whole table (`Book.frame_sheets`); a frame too wide is refused;
- frames are written a column at a time (numbers, with `write_column`) and their text a row at a
  time (so that the shared strings come in the order they always did: the same bytes as the
  cell-by-cell writer this replaced), with the garbage collector paused while millions of cells
  are stored; when the workbook is packed, the numbers and shared strings of each row are put in
  the XML by `_Worksheet._write_rows` and the shared strings by `_SharedStrings`: the same bytes
  as xlsxwriter's, in less time (BENCHMARKS.md, fifth stop of issue 16).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import itertools
import math
import numbers
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.packager import Packager as _XlsxPackager
from xlsxwriter.sharedstrings import SharedStrings as _XlsxSharedStrings
from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.worksheet import CellNumberTuple as _NUMBER_CELL
from xlsxwriter.worksheet import CellStringTuple as _STRING_CELL
from xlsxwriter.worksheet import RowInfo
from xlsxwriter.worksheet import Worksheet as _XlsxWorksheet

from alloc.errors import SheetTooLarge

Format = Any
"""An xlsxwriter cell format (xlsxwriter has no type information)."""
Worksheet = Any
"""An xlsxwriter worksheet."""

AMOUNT = "#,##0"
"""Whole units of the model's unit (CHF thousands, USD thousands)."""
DETAIL = "#,##0.000"
"""Thousandths of the unit, as the allocation is kept."""
PERCENT = "0.0%"
"""A fraction shown as a percentage (0.123 -> 12.3%)."""
POINTS = "0.0"
"""A percentage already multiplied by 100 (12.3 -> 12.3)."""

OPTIONS: Mapping[str, bool] = {
    "in_memory": True,              # fixed timestamps in the zip, no temporary files
    "strings_to_formulas": False,   # "=1+1" is text
    "strings_to_urls": False,       # "http://..." is text, not a link
    "strings_to_numbers": False,    # "007" is text
}
"""How every workbook is opened."""

_HEAD = {"bold": True, "text_wrap": True, "valign": "bottom", "bottom": 1, "bg_color": "#DDEBF7"}
_SUBTOTAL = {"bold": True, "bg_color": "#F2F2F2"}
_TOTAL = {"bold": True, "top": 1, "bottom": 6}

STYLES: Mapping[str, Mapping[str, object]] = {
    "plain": {},
    "bold": {"bold": True},
    "title": {"bold": True, "font_size": 13},
    "caption": {"bold": True, "font_size": 12},
    "note": {"italic": True, "text_wrap": True, "valign": "top"},
    "aside": {"bold": True, "italic": True},
    "text": {"valign": "top"},
    "wrap": {"text_wrap": True, "valign": "top"},
    "key": {"bold": True, "valign": "top"},
    "head": _HEAD,
    "head_num": {**_HEAD, "align": "right"},
    "head_top": {"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"},
    "num": {"num_format": AMOUNT},
    "detail": {"num_format": DETAIL},
    "pct": {"num_format": PERCENT},
    "points": {"num_format": POINTS},
    "sub_text": _SUBTOTAL,
    "sub_num": {**_SUBTOTAL, "num_format": AMOUNT},
    "sub_pct": {**_SUBTOTAL, "num_format": PERCENT},
    "tot_text": _TOTAL,
    "tot_num": {**_TOTAL, "num_format": AMOUNT},
    "tot_pct": {**_TOTAL, "num_format": PERCENT},
    "banner": {"bold": True, "font_size": 12, "font_color": "#C00000"},
    "fall": {"font_color": "#9C0006", "bg_color": "#FFC7CE"},   # a decrease (conditional)
    "rise": {"font_color": "#006100", "bg_color": "#C6EFCE"},   # an increase (conditional)
}
"""The named cell formats every workbook shares. plain: no format at all; title and caption:
a sheet's title; note: a wrapped italic line; head: a table's header (head_num over numbers,
head_top for the comparison's sheets); num: an amount in whole units; detail: thousandths;
pct: a fraction as a percentage; points: percentage points; sub_* and tot_*: subtotal and
total rows; fall and rise: a conditional format for a difference below or above zero; aside:
the note beside the header of a table split over several sheets."""

BANNER = "ILLUSTRATIVE FIGURES"
"""What every sheet, page header and chart title says when the model's figures are illustrative."""
AUTHOR = "alloc"
DEFAULT_DATE = dt.date(2000, 1, 1)
"""The creation date of a workbook whose inputs have no date."""
SHEET_NAME_MAX = 31
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
MAX_ROWS = 1_048_576
"""Rows a worksheet holds (Excel's limit). Read when a sheet is written, so a test can lower it."""
MAX_COLS = 16_384
"""Columns a worksheet holds (Excel's limit)."""


def with_unit(text: str, unit: str) -> str:
    """A title or header with the unit of its amounts: "Total (CHF thousands)"."""
    return f"{text} ({unit})"


def created_on(inputs_date: str) -> dt.datetime:
    """A workbook's creation date: the date of the inputs (midnight UTC), so that runs give the
    same bytes; 2000-01-01 when the text is not an ISO date."""
    try:
        day = dt.date.fromisoformat(inputs_date)
    except ValueError:
        day = DEFAULT_DATE
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def sheet_name(text: str, taken: Iterable[str] = (), number: int = 1) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\, not quoted, unique.
    With a `number` above 1, the name of that sheet of a table split over several: "text (2)",
    the text shortened to leave room for the number."""
    name = _FORBIDDEN.sub("-", text).strip("'").strip() or "Sheet"
    if number > 1:
        suffix = f" ({number})"
        name = name[: SHEET_NAME_MAX - len(suffix)] + suffix
    name = name[:SHEET_NAME_MAX]
    lowered = {t.lower() for t in taken}
    if name.lower() == "history":   # reserved by Excel
        name = "History-"
    base, n = name, 2
    while name.lower() in lowered:
        suffix = f" ({n})"
        name = base[: SHEET_NAME_MAX - len(suffix)] + suffix
        n += 1
    return name


@dataclass(frozen=True)
class Properties:
    """A workbook's document properties: all fixed, none from the clock or the machine.

    The author is always alloc; a field left None is not written at all.
    """

    title: str
    created: dt.datetime
    subject: str | None = None
    keywords: str | None = None
    category: str | None = None
    comments: str | None = None
    manager: str | None = None
    company: str | None = None

    def as_dict(self) -> dict[str, object]:
        fields: dict[str, object] = {
            "title": self.title, "subject": self.subject, "author": AUTHOR,
            "manager": self.manager, "company": self.company, "category": self.category,
            "keywords": self.keywords, "comments": self.comments, "created": self.created}
        return {k: v for k, v in fields.items() if v is not None}


class Formats(Mapping[str, Format]):
    """The workbook's formats by the names of `STYLES`, each created on first use (xlsxwriter
    numbers formats in the order cells use them, so unused ones change nothing)."""

    def __init__(self, workbook: Any):
        self._workbook = workbook
        self._made: dict[str, Format] = {}

    def __getitem__(self, name: str) -> Format:
        if name not in self._made:
            self._made[name] = self._workbook.add_format(dict(STYLES[name]))
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(STYLES)

    def __len__(self) -> int:
        return len(STYLES)


def _write(ws: Worksheet, row: int, col: int, value: object, fmt: Format, keep_empty: bool,
           blanks: bool = False) -> None:
    """`Book.write`, the common types first (a sweep writes hundreds of thousands of cells);
    with `blanks`, a missing value is a blank cell in `fmt` (kept only when it has a format)."""
    if isinstance(value, str):
        if value or keep_empty:
            ws.write_string(row, col, value, fmt)
        else:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, float):
        if math.isfinite(value):
            ws.write_number(row, col, value, fmt)
        elif blanks:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (bool, np.bool_)):
        ws.write_boolean(row, col, bool(value), fmt)
    elif value is None or value is pd.NA or value is pd.NaT:
        if blanks:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number):
            ws.write_number(row, col, number, fmt)
        elif blanks:
            ws.write_blank(row, col, None, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


class _Worksheet(_XlsxWorksheet):
    """An xlsxwriter worksheet that refuses, with `SheetTooLarge`, anything beyond `MAX_ROWS` x
    `MAX_COLS`. xlsxwriter itself returns -1 there and writes nothing: a caller that does not
    look at every return value (none did) loses the data without a word. xlsxwriter checks every
    cell, row and column setting, merged range, table, filter, validation, conditional format,
    chart and image through `_check_dimensions`, so they are all refused here. The workbook is
    packed in memory when it is closed: one refused is never written at all."""

    def _check_dimensions(self, row: int, col: int, ignore_row: bool = False,
                          ignore_col: bool = False) -> int:
        if not (0 <= row < MAX_ROWS and 0 <= col < MAX_COLS):
            raise SheetTooLarge(
                f"sheet {self.name!r}: cell {_cell(row, col)} is outside the {MAX_ROWS:,} rows x "
                f"{MAX_COLS:,} columns a sheet holds; the workbook was not written")
        status = _XlsxWorksheet._check_dimensions(self, row, col, ignore_row, ignore_col)
        if status:      # -2: a row before one already flushed, in constant_memory mode
            raise SheetTooLarge(f"sheet {self.name!r}: cell {_cell(row, col)} written after the "
                                "rows below it were flushed; the workbook was not written")
        return int(status)

    bulk = True
    """Whether `store_numbers` and `store_strings` store cells directly (tests turn it off to
    compare with xlsxwriter's own writers)."""

    def _fits(self, first_row: int, last_row: int, first_col: int, last_col: int) -> bool:
        """Whether the block fits on the sheet; its corners then set the sheet's dimensions."""
        if not (0 <= first_row <= last_row < MAX_ROWS and 0 <= first_col <= last_col < MAX_COLS):
            return False
        self._check_dimensions(first_row, first_col)
        self._check_dimensions(last_row, last_col)
        return True

    def store_numbers(self, row: int, col: int, numbers: Sequence[float], fmt: Format) -> None:
        """A column of finite floats from (row, col): `write_column`'s cells, stored at once."""
        if not (self.bulk and numbers and self._fits(row, row + len(numbers) - 1, col, col)):
            self.write_column(row, col, numbers, fmt)
            return
        table = self.table
        for r, number in enumerate(numbers, row):
            table[r][col] = _NUMBER_CELL(number, fmt)

    def store_strings(self, row: int, cells: Sequence[tuple[int, str, Format]]) -> None:
        """Strings along a row, in the order given (the order of the shared strings):
        `write_string`'s cells, stored at once; a string long enough to need cutting at Excel's
        limit goes through `write_string`, which cuts it."""
        if not cells:
            return
        cols = [c for c, _, _ in cells]
        if not (self.bulk and self._fits(row, row, min(cols), max(cols))):
            for c, text, fmt in cells:
                self.write_string(row, c, text, fmt)
            return
        stored = self.table[row]
        index = self.str_table._get_shared_string_index
        half = self.xls_strmax // 2
        for c, text, fmt in cells:
            if len(text) > half:
                self.write_string(row, c, text, fmt)
            else:
                stored[c] = _STRING_CELL(index(text), fmt)

    def set_row_heights(self, rows: Sequence[int], heights: Sequence[float]) -> None:
        """These rows given these heights in points, with no format, shown, at level 0:
        `set_row`'s settings for each, in that order, stored at once."""
        if not rows:
            return
        pixels = [int(height * 4.0 / 3.0 + 0.5) for height in heights]
        min_col = self.dim_colmin if self.dim_colmin is not None else 0
        if not (self.bulk and all(pixels)   # 0 pixels: a hidden row, which set_row makes
                and self._fits(min(rows), max(rows), min_col, min_col)):
            for r, height in zip(rows, heights, strict=True):
                self.set_row(r, height)
            return
        row_info, row_sizes = self.row_info, self.row_sizes
        for r, height in zip(rows, pixels, strict=True):
            row_info[r] = RowInfo(height=height, row_format=None, hidden=False, level=0,
                                  collapsed=False)
            row_sizes[r] = [height, False]

    def _calculate_spans(self) -> None:
        """xlsxwriter's spans (each block of 16 rows: its first and last used column), from the
        rows' own cells instead of every column of every row: the same attribute, a fraction of
        the time on a long sheet."""
        spans: dict[int, str] = {}
        if self.dim_rowmin is None:
            self.row_spans = spans
            return
        low, high = self.dim_rowmin, self.dim_rowmax
        block, first, last = -1, 0, 0
        for row in sorted({*self.table, *self.comments}):
            if not low <= row <= high:
                continue
            used = [col for col in (*self.table.get(row, ()), *self.comments.get(row, ()))
                    if self.dim_colmin <= col <= self.dim_colmax]
            if not used:
                continue
            if row // 16 != block:
                if block >= 0:
                    spans[block] = f"{first + 1}:{last + 1}"
                block, first, last = row // 16, min(used), max(used)
            else:
                first, last = min(first, *used), max(last, *used)
        if block >= 0:
            spans[block] = f"{first + 1}:{last + 1}"
        self.row_spans = spans

    def _write_rows(self) -> None:
        """xlsxwriter's rows and cells, numbers and shared strings (nearly every cell alloc
        writes) put in the XML here, a row at a time, other cells by xlsxwriter: byte for byte
        what xlsxwriter writes (tests/report/test_fast_rows.py compares them), without its
        per-cell calls, which a sheet of a million rules spends most of its packing on."""
        self._calculate_spans()
        table, row_info, comments, spans = self.table, self.row_info, self.comments, self.row_spans
        columns = self.col_info
        letters = {col: xl_col_to_name(col) for col in range(self.dim_colmin, self.dim_colmax + 1)}
        column_xf = {col: f' s="{info.column_format._get_xf_index()}"'
                     for col, info in columns.items() if info.column_format is not None}
        write = self.fh.write
        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = table.get(row)
            info = row_info.get(row)
            if not cells:
                if info is not None or row in comments:
                    self._write_empty_row(row, spans.get(row // 16), info)
                continue
            self._write_row(row, spans.get(row // 16), info)
            number = str(row + 1)
            row_xf = (f' s="{info.row_format._get_xf_index()}"'
                      if info is not None and info.row_format else None)
            out: list[str] = []
            for col in sorted(cells):
                if col not in letters:
                    continue
                cell = cells[col]
                kind = type(cell)
                if kind is not _NUMBER_CELL and kind is not _STRING_CELL:
                    if out:
                        write("".join(out))
                        out = []
                    self._write_cell(row, col, cell)
                    continue
                if cell.format:
                    style = f' s="{cell.format._get_xf_index()}"'
                elif row_xf is not None:
                    style = row_xf
                else:
                    style = column_xf.get(col, "")
                if kind is _NUMBER_CELL:
                    out.append(f'<c r="{letters[col]}{number}"{style}><v>{cell.number:.16G}</v></c>')
                else:
                    out.append(f'<c r="{letters[col]}{number}"{style} t="s"><v>{cell.string}</v></c>')
            out.append("</row>")
            write("".join(out))


_ESCAPED = re.compile(r"_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f]")
"""What xlsxwriter's `_escape_control_characters` changes in a shared string."""


class _SharedStrings(_XlsxSharedStrings):
    """xlsxwriter's shared strings part, each string's `<si>` made here and written in blocks:
    the same bytes (tests/report/test_fast_rows.py); a string with nothing to escape skips the
    two substitutions xlsxwriter runs on every one."""

    def _write_sst_strings(self) -> None:
        write = self.fh.write
        out: list[str] = []
        for string in self.string_table.string_array:
            if _ESCAPED.search(string):
                string = self._escape_control_characters(string)
            if string.startswith("<r>") and string.endswith("</r>"):
                out.append(f"<si>{string}</si>")
            else:
                space = ' xml:space="preserve"' if _preserve_whitespace(string) else ""
                out.append(f"<si><t{space}>{self._escape_data(string)}</t></si>")
            if len(out) >= 4096:
                write("".join(out))
                out = []
        write("".join(out))


class _Packager(_XlsxPackager):
    def _write_shared_strings_file(self) -> None:
        table = self.workbook.str_table
        if not table.count:
            return
        sst = _SharedStrings()
        sst.string_table = table
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


class _Workbook(xlsxwriter.Workbook):
    """An xlsxwriter workbook packed with alloc's shared strings writer (`_SharedStrings`),
    through the packager xlsxwriter lets a workbook choose."""

    def _get_packager(self) -> _XlsxPackager:
        return _Packager()


def _cell(row: int, col: int) -> str:
    """A cell in words, even where Excel has no name for it."""
    if row >= 0 and col >= 0:
        return f"{xl_rowcol_to_cell(row, col)} (row {row + 1:,}, column {col + 1:,})"
    return f"at row {row + 1:,}, column {col + 1:,}"


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused: storing a sheet makes millions of small tuples (in no
    cycle), over which the collector would otherwise walk again and again as they pile up."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def split_rows(records: int, top: int) -> list[range]:
    """Which records of a frame go on which sheet when its header is at row `top` (0-based) of
    each: as many as fit below the header, in order; one range (maybe empty) when all fit.
    Raises `SheetTooLarge` when not even one record fits below the header."""
    room = MAX_ROWS - top - 1
    if room < 1:
        raise SheetTooLarge(f"a header at row {top + 1:,} leaves no room for a record in the "
                            f"{MAX_ROWS:,} rows of a sheet")
    if records <= room:
        return [range(records)]
    return [range(start, min(start + room, records)) for start in range(0, records, room)]


@dataclass(frozen=True)
class Part:
    """One sheet of a frame written by `Book.frame_sheets`: the `number`-th of `count`, its
    header at row `top`, holding the frame's `records` (positions) in the rows below."""

    ws: Worksheet
    number: int
    count: int
    top: int
    records: range

    @property
    def last(self) -> int:
        """The last row written: the header's when the part has no records."""
        return self.top + len(self.records)


@dataclass(frozen=True)
class _Columns:
    """A frame made ready to write: per column, its values as Python objects, and for columns of
    numbers (numpy floats, integers, booleans) an array to find the runs of finite values."""

    values: list[list[object]]
    numbers: list[np.ndarray | None]
    plain_text: list[bool]
    """Whether a column holds only str values (written as they are, with `keep_empty`)."""

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _Columns:
        values: list[list[object]] = []
        numbers: list[np.ndarray | None] = []
        for k in range(frame.shape[1]):
            column = frame.iloc[:, k]
            dtype = column.dtype
            if isinstance(dtype, np.dtype) and dtype.kind in "fiu":
                array = column.to_numpy(dtype=float)     # integers as `write` has them: floats
                numbers.append(array)
                values.append(array.tolist())
            elif isinstance(dtype, np.dtype) and dtype.kind == "b":
                array = column.to_numpy()
                numbers.append(array)
                values.append(array.tolist())
            else:                                        # text, objects, nullable types
                numbers.append(None)
                values.append(column.tolist())
        plain_text = [array is None and all(type(v) is str for v in column)
                      for array, column in zip(numbers, values, strict=True)]
        return cls(values, numbers, plain_text)


def _write_records(ws: Worksheet, columns: _Columns, records: range, row: int, col: int,
                   formats: Sequence[Format], strong: tuple[Sequence[bool], Sequence[Format]] | None,
                   keep_empty: bool, blanks: bool) -> None:
    """`records` of the frame in the rows from `row`, columns from `col`, each value as `write`
    has it. Numbers a column at a time, in runs of one format (`write_column`); text (and any
    other object) a row at a time across the columns, as the cell-by-cell writer did: the
    workbook numbers its shared strings in the order they are written."""
    a, b = records.start, records.stop
    if a >= b:
        return
    emphasis = None if strong is None else np.asarray(strong[0], dtype=bool)[a:b]
    text: list[tuple[int, list[object], Format, Format, bool]] = []
    for c, (values, array) in enumerate(zip(columns.values, columns.numbers, strict=True)):
        plain = formats[c]
        bold = plain if strong is None else strong[1][c]
        if array is None:
            text.append((col + c, values, plain, bold, columns.plain_text[c] and keep_empty))
            continue
        part = array[a:b]
        finite = np.isfinite(part) if part.dtype.kind == "f" else np.ones(len(part), dtype=bool)
        key = finite.astype(np.int8) * 2
        if emphasis is not None:
            key += emphasis
        cuts = [0, *(np.flatnonzero(key[1:] != key[:-1]) + 1).tolist(), len(part)]
        for start, stop in itertools.pairwise(cuts):
            fmt = bold if emphasis is not None and emphasis[start] else plain
            if finite[start] and part.dtype.kind == "f":
                ws.store_numbers(row + start, col + c, values[a + start:a + stop], fmt)
            elif finite[start]:
                ws.write_column(row + start, col + c, values[a + start:a + stop], fmt)
            elif blanks and fmt is not None:
                for r in range(row + start, row + stop):
                    ws.write_blank(r, col + c, None, fmt)
    if not text:
        return
    if all(only_text for *_, only_text in text):     # every value a str, each kept
        store = ws.store_strings
        for i in range(a, b):
            strong_row = emphasis is not None and emphasis[i - a]
            store(row + i - a, [(c, values[i], bold if strong_row else plain)
                                for c, values, plain, bold, _ in text])
        return
    write_string = ws.write_string
    for i in range(a, b):
        r = row + i - a
        strong_row = emphasis is not None and emphasis[i - a]
        for c, values, plain, bold, only_text in text:
            if only_text:                   # every value a str, each kept: no need to look
                write_string(r, c, values[i], bold if strong_row else plain)
            else:
                _write(ws, r, c, values[i], bold if strong_row else plain, keep_empty, blanks)


class Book:
    """A workbook opened with alloc's options and fixed properties, with the shared formats
    (`f`), unique valid sheet names (`sheet`), writers that keep text as text, and sheets that
    refuse what they cannot hold (`SheetTooLarge`) rather than cut it."""

    def __init__(self, path: Path, properties: Properties, illustrative: bool = False):
        self.wb = _Workbook(str(path), dict(OPTIONS))
        self.wb.set_properties(properties.as_dict())
        self.f = Formats(self.wb)
        self.names: list[str] = []
        self.illustrative = illustrative
        self.top = 1 if illustrative else 0
        """The first row a sheet's content may use: row 0 holds the banner when there is one."""

    def sheet(self, title: str, number: int = 1) -> Worksheet:
        """A new worksheet named after `title` (the `number`-th of a table split over several:
        "title (2)"): made valid, and unique in the workbook, with the banner in its first row
        when the figures are illustrative. It refuses, with `SheetTooLarge`, anything beyond
        `MAX_ROWS` x `MAX_COLS`."""
        name = sheet_name(title, self.names, number)
        self.names.append(name)
        ws = self.wb.add_worksheet(name, worksheet_class=_Worksheet)
        if self.illustrative:
            ws.write_string(0, 0, f"{BANNER}: not the organization's figures", self.f["banner"])
            ws.set_row(0, 18)
        return ws

    def chart_title(self, text: str) -> str:
        """A chart's title, with the banner when the figures are illustrative."""
        return f"{text} ({BANNER})" if self.illustrative else text

    def add_format(self, properties: Mapping[str, object]) -> Format:
        """A format of the workbook's own, for what `STYLES` has no name for."""
        return self.wb.add_format(dict(properties))

    def add_chart(self, options: Mapping[str, object]) -> Any:
        return self.wb.add_chart(dict(options))

    @staticmethod
    def write(ws: Worksheet, row: int, col: int, value: object, fmt: Format = None, *,
              keep_empty: bool = False) -> None:
        """One cell, by the type of its value: a number (a bool as a boolean), text as text
        whatever it starts with (anything else as its text), nothing for a missing value (None,
        NaN, infinity). Empty text is a blank cell, kept only when it has a format, as
        xlsxwriter's `write` has it; with `keep_empty`, a cell of empty text."""
        _write(ws, row, col, value, fmt, keep_empty)

    def write_frame(self, ws: Worksheet, frame: pd.DataFrame, row: int = 0, col: int = 0, *,
                    headers: Sequence[str] | None = None, header: Format = None,
                    formats: Sequence[Format] | None = None, keep_empty: bool = False) -> int:
        """`frame` as a table from (`row`, `col`) of `ws`: a header row (`headers`, else the
        column names, as text) in the `header` format, then a row per record, each value written
        by `write` (with `keep_empty`) in its column's format (`formats`, one per column; None:
        no format). Returns the last row written (`row` when the frame has no rows).

        Raises `SheetTooLarge`, before writing anything, when the frame does not fit in the
        sheet from there; `frame_sheets` instead goes on to further sheets."""
        names, cell_formats, heads = _layout(frame, headers, header, formats)
        _check_fits(ws.get_name(), len(frame), frame.shape[1], row, col)
        with _collector_paused():
            for c, name in enumerate(names):
                _write(ws, row, col + c, str(name), heads[c], keep_empty)
            _write_records(ws, _Columns.of(frame), range(len(frame)), row + 1, col, cell_formats,
                           None, keep_empty, False)
        return row + len(frame)

    def frame_sheets(self, title: str, frame: pd.DataFrame, top: int = 0, *,
                     headers: Sequence[str] | None = None,
                     header: Format | Sequence[Format] = None,
                     formats: Sequence[Format] | None = None,
                     strong: tuple[Sequence[bool], Sequence[Format]] | None = None,
                     keep_empty: bool = False, blanks: bool = False, head: bool = True,
                     before: Callable[[Worksheet, Part], None] | None = None,
                     whole: str | None = None, split: bool = True) -> list[Part]:
        """`frame` as a table on a new sheet named after `title`, its header at row `top` and
        its records below it, from column A; on as many sheets as it takes ("title",
        "title (2)", ...) when it has more records than fit below the header: each sheet its
        own header and its share of the records, in order, every record once.

        Cells are written as `write_frame` writes them, with: `header` one format or one per
        column; `strong` (a flag per record, and a format per column) the formats of flagged
        records; `blanks`: a missing value is a blank cell in its column's format; `head` False:
        no header row written (the caller's `before` writes it, as an Excel table does).
        `before(ws, part)` writes what goes above or around the records (a title, notes, a
        table), on each sheet before its records. When the frame is split, a note to the right
        of each header says which records the sheet holds, of how many, on how many sheets, and
        that `whole` (a file name, say "allocation.csv") holds the whole table.

        Returns the sheets, in order. Raises `SheetTooLarge`, before any sheet is made, for a
        frame wider than a sheet, or one too long for a sheet when not `split`."""
        names, cell_formats, heads = _layout(frame, headers, header, formats)
        if strong is not None and (len(strong[0]) != len(frame) or len(strong[1]) != len(names)):
            raise ValueError("strong: a flag per record and a format per column")
        width = len(names)
        where = f" ({whole} holds the whole table)" if whole else ""
        if width > MAX_COLS:
            raise SheetTooLarge(f"sheet {title!r}: the table has {width:,} columns, more than the "
                                f"{MAX_COLS:,} a sheet holds{where}; the workbook was not written")
        if not split:
            _check_fits(title, len(frame), width, top, 0)
        pieces = split_rows(len(frame), top)
        note_col = width + 1 if width + 1 < MAX_COLS else width
        if len(pieces) > 1 and note_col >= MAX_COLS:
            raise SheetTooLarge(f"sheet {title!r}: {len(frame):,} rows need several sheets, and "
                                f"its {width:,} columns leave none for the note that says so{where}")
        parts = [Part(self.sheet(title, k), k, len(pieces), top, records)
                 for k, records in enumerate(pieces, start=1)]
        columns = _Columns.of(frame)
        with _collector_paused():
            for part in parts:
                ws = part.ws
                if before is not None:
                    before(ws, part)
                if head:
                    for c, name in enumerate(names):
                        _write(ws, top, c, str(name), heads[c], keep_empty)
                if part.count > 1:
                    ws.write_string(top, note_col, _split_note(parts, part, len(frame), whole),
                                    self.f["aside"])
                _write_records(ws, columns, part.records, top + 1, 0, cell_formats, strong,
                               keep_empty, blanks)
        return parts

    def print_setup(self, footer: str, reference: str = "", draft: bool = True,
                    banner: bool | None = None) -> None:
        """Every sheet printed landscape on A4, one page wide, with `footer` (an Excel header or
        footer text: &P page, &N pages; a literal & doubled) and a header: the document
        `reference` on the left, the banner in the centre when the figures are illustrative,
        DRAFT on the right (`banner`: whether to print it, default: when the figures are
        illustrative)."""
        header = self.page_header(reference, draft, banner)
        for ws in self.wb.worksheets():
            ws.set_landscape()
            ws.set_paper(9)
            ws.fit_to_pages(1, 0)
            ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
            ws.set_header(header)
            ws.set_footer(footer)

    def page_header(self, reference: str = "", draft: bool = True, banner: bool | None = None
                    ) -> str:
        """A page header: the document reference on the left, the banner in the centre (when
        `banner`, default: when the figures are illustrative), DRAFT on the right."""
        shown = self.illustrative if banner is None else banner
        return ((f"&L{header_text(reference)}" if reference else "")
                + (f'&C&"-,Bold"&KC00000{BANNER}' if shown else "") + ("&RDRAFT" if draft else ""))

    def close(self) -> None:
        with _collector_paused():
            self.wb.close()


def lines_of(text: str, width: float, bold: bool = False) -> int:
    """Lines a wrapped text takes in a column `width` characters wide: words laid out line by
    line as LibreOffice and Excel do (a line breaks before a space or after a hyphen; a word
    longer than a line is cut), a little generously (proportional letters vary; bold is wider).
    Row heights come from it: a printout or LibreOffice does not grow a row by itself."""
    room = max((width - 1.5) / (0.86 * (1.2 if bold else 1.0)), 1.0)
    text = str(text)
    if len(text) <= room and "\n" not in text:
        return 1        # what the layout below gives a text shorter than a line, without it
    return sum(_lines(part, room) for part in text.split("\n"))


def _lines(part: str, room: float) -> int:
    """The lines of one paragraph, a whole line at a time: the words that fit on a line are
    found by searching back from where the line ends (most texts in a sheet have many words)."""
    n = len(part)
    lines, used, p = 1, 0.0, 0
    while p < n:
        if used:
            end = p + math.floor(room - used)   # the last place a word that fits may end
            if end >= n:
                break
            p = max(part.rfind(" ", p + 1, end + 1), part.rfind("-", p, end) + 1, p)
            lines += 1           # the word starting at p does not fit: it starts the next line
            e = _word_end(part, p)
            size = float(len(part[p:e].lstrip()))
            used = 0.0
        else:                    # at the start of a line: the word is taken whatever its size
            e = _word_end(part, p)
            size = float(e - p)
        while size > room:       # a word longer than a line is cut
            lines, size = lines + 1, size - room
        used += size
        p = e
    return lines


def _word_end(part: str, p: int) -> int:
    """Where the word starting at p ends: before the next space, or after the next hyphen."""
    end = part.find(" ", p + 1)
    if end < 0:
        end = len(part)
    hyphen = part.find("-", p, end)
    return hyphen + 1 if hyphen >= 0 else end


def header_text(text: str) -> str:
    """Text for a page header or footer: & doubled (Excel reads &P, &N... as codes), at most 90
    characters (a header or footer holds 255 with its codes, and has three sections)."""
    text = " ".join(text.split())
    return (text if len(text) <= 90 else text[:89] + "…").replace("&", "&&")


def _layout(frame: pd.DataFrame, headers: Sequence[str] | None,
            header: Format | Sequence[Format], formats: Sequence[Format] | None
            ) -> tuple[list[object], list[Format], list[Format]]:
    """The header texts, the cell formats and the header formats, one per column, checked."""
    names: list[object] = list(frame.columns) if headers is None else list(headers)
    if len(names) != len(frame.columns):
        raise ValueError(f"{len(names)} headers for {len(frame.columns)} columns")
    cell_formats = list(formats) if formats is not None else [None] * len(names)
    if len(cell_formats) != len(names):
        raise ValueError(f"{len(cell_formats)} formats for {len(names)} columns")
    heads: list[Format] = list(header) if isinstance(header, list | tuple) else [header] * len(names)
    if len(heads) != len(names):
        raise ValueError(f"{len(heads)} header formats for {len(names)} columns")
    return names, cell_formats, heads


def _check_fits(sheet: str, records: int, width: int, row: int, col: int) -> None:
    """Refuse a table (a header and `records` rows, `width` columns, from `row`, `col`) that
    goes past the edge of the sheet."""
    if row + records >= MAX_ROWS or col + width > MAX_COLS:
        raise SheetTooLarge(
            f"sheet {sheet!r}: a table of {records:,} rows and {width:,} columns from "
            f"{_cell(row, col)} does not fit in the {MAX_ROWS:,} rows x {MAX_COLS:,} columns a "
            "sheet holds; the workbook was not written")


def _split_note(parts: Sequence[Part], part: Part, records: int, whole: str | None) -> str:
    """What a sheet of a split table says of itself."""
    a, b = part.records.start + 1, part.records.stop
    names = [p.ws.get_name() for p in parts]
    if part.number == 1:
        rest = (f"the next sheet ('{names[1]}')" if part.count == 2 else
                f"the next {part.count - 1} sheets ('{names[1]}' to '{names[-1]}')")
        text = (f"Too long for one sheet: rows {a:,} to {b:,} of the {records:,} are here, the "
                f"rest on {rest}: {part.count} sheets in all")
    else:
        text = (f"Rows {a:,} to {b:,} of the {records:,} of the table that starts on sheet "
                f"'{names[0]}': sheet {part.number} of {part.count}")
    return text + (f"; {whole} holds the whole table." if whole else ".")


# --- CSV -----------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert the way OWASP recommends.

    A cell starting with =, +, -, @, tab or carriage return gets a leading apostrophe; text that
    is a plain number stays as it is.
    """
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def _inert(value: object) -> object:
    return neutralise(value) if isinstance(value, str) else value


def write_csv(frame: pd.DataFrame, path: Path, *, index: bool = False,
              float_format: str | None = None) -> None:
    """A CSV file with plain numbers and inert text (`neutralise`, in the cells, the header and,
    with `index`, the row labels); "\\n" line ends; floats as pandas writes them, or in
    `float_format` (say "%.6f")."""
    safe = frame.rename(columns=_inert, index=_inert if index else None)
    for k in range(safe.shape[1]):
        values = safe.iloc[:, k]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            safe.isetitem(k, values.map(_inert).astype(values.dtype).array)
    safe.to_csv(path, index=index, lineterminator="\n", float_format=float_format)
