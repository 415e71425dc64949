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
  notes, subtotals and totals; a workbook creates a format the first time it asks for it.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

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
    "fall": {"font_color": "#9C0006", "bg_color": "#FFC7CE"},   # a decrease (conditional)
    "rise": {"font_color": "#006100", "bg_color": "#C6EFCE"},   # an increase (conditional)
}
"""The named cell formats every workbook shares. plain: no format at all; title and caption:
a sheet's title; note: a wrapped italic line; head: a table's header (head_num over numbers,
head_top for the comparison's sheets); num: an amount in whole units; detail: thousandths;
pct: a fraction as a percentage; points: percentage points; sub_* and tot_*: subtotal and
total rows; fall and rise: a conditional format for a difference below or above zero."""

AUTHOR = "alloc"
DEFAULT_DATE = dt.date(2000, 1, 1)
"""The creation date of a workbook whose inputs have no date."""
SHEET_NAME_MAX = 31
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


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


def sheet_name(text: str, taken: Iterable[str] = ()) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\, not quoted, unique."""
    name = _FORBIDDEN.sub("-", text).strip("'").strip() or "Sheet"
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


def _write(ws: Worksheet, row: int, col: int, value: object, fmt: Format, keep_empty: bool) -> None:
    """`Book.write`, the common types first (a sweep writes hundreds of thousands of cells)."""
    if isinstance(value, str):
        if value or keep_empty:
            ws.write_string(row, col, value, fmt)
        else:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, float):
        if math.isfinite(value):
            ws.write_number(row, col, value, fmt)
    elif isinstance(value, (bool, np.bool_)):
        ws.write_boolean(row, col, bool(value), fmt)
    elif value is None or value is pd.NA or value is pd.NaT:
        return
    elif isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number):
            ws.write_number(row, col, number, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


class Book:
    """A workbook opened with alloc's options and fixed properties, with the shared formats
    (`f`), unique valid sheet names (`sheet`) and writers that keep text as text."""

    def __init__(self, path: Path, properties: Properties):
        self.wb = xlsxwriter.Workbook(str(path), dict(OPTIONS))
        self.wb.set_properties(properties.as_dict())
        self.f = Formats(self.wb)
        self.names: list[str] = []

    def sheet(self, title: str) -> Worksheet:
        """A new worksheet named after `title`: made valid, and unique in the workbook."""
        name = sheet_name(title, self.names)
        self.names.append(name)
        return self.wb.add_worksheet(name)

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
        """`frame` as a table from (`row`, `col`): a header row (`headers`, else the column
        names, as text) in the `header` format, then a row per record, each value written by
        `write` (with `keep_empty`) in its column's format (`formats`, one per column; None: no
        format). Returns the last row written (`row` when the frame has no rows)."""
        names = list(frame.columns) if headers is None else list(headers)
        if len(names) != len(frame.columns):
            raise ValueError(f"{len(names)} headers for {len(frame.columns)} columns")
        cell_formats = list(formats) if formats is not None else [None] * len(names)
        if len(cell_formats) != len(names):
            raise ValueError(f"{len(cell_formats)} formats for {len(names)} columns")
        for c, name in enumerate(names):
            _write(ws, row, col + c, str(name), header, keep_empty)
        r = row
        for r, record in enumerate(frame.itertuples(index=False, name=None), start=row + 1):
            for c, value in enumerate(record):
                _write(ws, r, col + c, value, cell_formats[c], keep_empty)
        return r

    def close(self) -> None:
        self.wb.close()


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
