"""The Appendix A workbook (xlsxwriter): what finance staff hand to the Council.

Knows formats, not the LP: it lays out `Table`s and a `Summary` that were computed elsewhere.
Rules it keeps:

- numbers are numbers, with formats (`#,##0` CHF thousands, `0.0%`); the unit is in each title;
- subtotals and totals are SUM formulas with their values cached: the cells hold the rounded
  figures, which add up exactly, so what Excel recalculates is what the CSV says;
- every text that may come from an input file is written with `write_string` (never `write`,
  never a chart name or merged range that could read it as a formula): "=1+1" stays text;
- the same inputs give the same bytes: fixed document properties (created = the date of the
  inputs), in-memory packaging with fixed timestamps, no timings.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from alloc.report.tables import SHARE, TOTAL, Column, Summary, Table

AMOUNT = "#,##0"
PERCENT = "0.0%"
DETAIL = "#,##0.000"
SHEET_NAME_MAX = 31
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_FIRST_ROW = 4          # header row of a table sheet (0-based), below title, unit, method
_CHAR_POINTS = 1.1      # rough width of a character in Excel width units, for wrapped heights
_LINE_POINTS = 15.0


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


def _created(inputs_date: str) -> dt.datetime:
    """The workbook's creation date: the date of the inputs, so that runs give the same bytes."""
    try:
        day = dt.date.fromisoformat(inputs_date)
    except ValueError:
        day = dt.date(2000, 1, 1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _sum(cells: Sequence[tuple[int, int]]) -> str:
    """=SUM over cells of one row or one column, adjacent cells written as ranges."""
    if not cells:
        return "=0"
    runs: list[list[tuple[int, int]]] = [[cells[0]]]
    for cell in cells[1:]:
        last = runs[-1][-1]
        if cell in ((last[0], last[1] + 1), (last[0] + 1, last[1])):
            runs[-1].append(cell)
        else:
            runs.append([cell])
    parts = [xl_rowcol_to_cell(*run[0]) if len(run) == 1
             else f"{xl_rowcol_to_cell(*run[0])}:{xl_rowcol_to_cell(*run[-1])}" for run in runs]
    return f"=SUM({','.join(parts)})"


@dataclass(frozen=True)
class _Placed:
    """Where a table went: its sheet, and the row and column of each label."""

    sheet: str
    rows: Mapping[str, int]
    cols: Mapping[str, int]


class _Book:
    """The workbook with its formats and the helpers every sheet uses."""

    def __init__(self, path: Path, summary: Summary):
        self.wb = xlsxwriter.Workbook(str(path), {
            "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False})
        self.summary = summary
        self.names: list[str] = []
        wb = self.wb
        self.f = {
            "title": wb.add_format({"bold": True, "font_size": 13}),
            "note": wb.add_format({"italic": True, "text_wrap": True, "valign": "top"}),
            "text": wb.add_format({"valign": "top"}),
            "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
            "head": wb.add_format({"bold": True, "text_wrap": True, "valign": "bottom",
                                   "bottom": 1, "bg_color": "#DDEBF7"}),
            "head_num": wb.add_format({"bold": True, "text_wrap": True, "valign": "bottom",
                                       "align": "right", "bottom": 1, "bg_color": "#DDEBF7"}),
            "num": wb.add_format({"num_format": AMOUNT}),
            "pct": wb.add_format({"num_format": PERCENT}),
            "detail": wb.add_format({"num_format": DETAIL}),
            "sub_text": wb.add_format({"bold": True, "bg_color": "#F2F2F2"}),
            "sub_num": wb.add_format({"bold": True, "num_format": AMOUNT, "bg_color": "#F2F2F2"}),
            "sub_pct": wb.add_format({"bold": True, "num_format": PERCENT, "bg_color": "#F2F2F2"}),
            "tot_text": wb.add_format({"bold": True, "top": 1, "bottom": 6}),
            "tot_num": wb.add_format({"bold": True, "num_format": AMOUNT, "top": 1, "bottom": 6}),
            "tot_pct": wb.add_format({"bold": True, "num_format": PERCENT, "top": 1, "bottom": 6}),
            "key": wb.add_format({"bold": True, "valign": "top"}),
        }
        wb.set_properties({
            "title": "Appendix A: allocation of resources, linkage with the financial plan",
            "subject": f"Scenario {summary.scenario} of model {summary.model}",
            "author": "alloc", "manager": "", "company": "", "category": "Appendix A",
            "keywords": f"{summary.scenario}, {summary.model}",
            "comments": "Generated by alloc from the scenario's inputs; do not edit by hand.",
            "created": _created(summary.inputs_date),
        })

    def sheet(self, title: str) -> Worksheet:
        name = sheet_name(title, self.names)
        self.names.append(name)
        ws = self.wb.add_worksheet(name)
        ws.set_landscape()
        ws.set_paper(9)            # A4
        ws.fit_to_pages(1, 0)      # one page wide, as many long as needed
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
        scenario = self.summary.scenario.replace("&", "&&")
        ws.set_footer(f"&L{scenario}&CPage &P of &N&R{name.replace('&', '&&')}")
        return ws

    def note(self, ws: Worksheet, row: int, text: str, width_cols: int, widths: Sequence[float],
             fmt: str = "note") -> None:
        """A wrapped line of text across the table's width, tall enough to be read."""
        last = max(width_cols - 1, 0)
        if last > 0:
            ws.merge_range(row, 0, row, last, "", self.f[fmt])
        ws.write_string(row, 0, text, self.f[fmt])
        width = sum(widths[: last + 1]) or 40
        lines = max(1, math.ceil(len(text) * _CHAR_POINTS / width))
        ws.set_row(row, _LINE_POINTS * lines)

    def close(self) -> None:
        self.wb.close()


def _write_table(book: _Book, table: Table) -> _Placed:
    """One table on its own sheet; returns where each row and column went, for the charts."""
    f = book.f
    ws = book.sheet(table.id)
    cols = table.display_columns()
    first = 2                                   # columns 0 and 1: code and name
    col_at = {label: first + k for k, (_, label, _) in enumerate(cols)}
    widths = [float(min(34, max(8, *(len(r) + 2 for r in table.rows)))), 34.0] + [12.0] * len(cols)

    header = _FIRST_ROW
    ws.write_string(header, 0, "Code", f["head"])
    ws.write_string(header, 1, table.row_title, f["head"])
    head_lines = 1
    for k, (kind, label, _) in enumerate(cols):
        text = label if kind == "group" else table.name(label)
        ws.write_string(header, first + k, text, f["head_num"])
        widths[first + k] = max(widths[first + k], min(18.0, max(len(w) for w in text.split()) + 2))
        head_lines = max(head_lines, math.ceil(len(text) * _CHAR_POINTS / widths[first + k]))

    # Rows: each group's rows then its subtotal; then the Total row.
    groups = table.row_groups or (("", tuple(table.rows)),)
    r = header + 1
    row_at: dict[str, int] = {}
    subtotal_rows: list[int] = []
    data_rows: list[int] = []
    rounded = table.rounded
    for name, labels in groups:
        start = r
        for label in labels:
            row_at[label] = r
            data_rows.append(r)
            ws.write_string(r, 0, label, f["text"])
            ws.write_string(r, 1, table.name(label), f["wrap"])
            _write_row(ws, r, cols, col_at, rounded.loc[label], f["num"], f["pct"])
            r += 1
        if table.row_groups:
            ws.write_string(r, 0, "", f["sub_text"])
            ws.write_string(r, 1, f"Subtotal: {name}", f["sub_text"])
            for kind, label, _ in cols:
                c = col_at[label]
                cells = [(row, c) for row in range(start, r)]
                value = sum(_cached(rounded, lab, label, cols) for lab in labels)
                ws.write_formula(r, c, _sum(cells), f["sub_pct" if kind == "share" else "sub_num"],
                                 _clean(value, kind))
            subtotal_rows.append(r)
            r += 1
    total_row = r
    ws.write_string(r, 0, "", f["tot_text"])
    ws.write_string(r, 1, table.total_name, f["tot_text"])
    sum_rows = subtotal_rows if table.row_groups else data_rows
    for kind, label, _ in cols:
        c = col_at[label]
        value = _cached(rounded, TOTAL, label, cols)
        ws.write_formula(r, c, _sum([(row, c) for row in sum_rows]),
                         f["tot_pct" if kind == "share" else "tot_num"], _clean(value, kind))

    last_col = first + len(cols) - 1
    ws.write_string(0, 0, f"{table.title} ({table.unit})", f["title"])
    book.note(ws, 1, " ".join([f"In {table.unit}.", *table.notes]), last_col + 1, widths)
    if table.method:
        book.note(ws, 2, table.method, last_col + 1, widths)
    book.note(ws, total_row + 2, table.source, last_col + 1, widths)
    ws.set_row(header, _LINE_POINTS * max(1, head_lines))
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    ws.freeze_panes(header + 1, 2)
    ws.repeat_rows(header)
    ws.print_area(0, 0, total_row + 2, last_col)
    return _Placed(ws.get_name(), row_at, col_at)


def _cached(frame: pd.DataFrame, row: str, label: str, cols: Sequence[Column]) -> float:
    """The value a cell shows: the rounded figure, or the sum of a column group's figures."""
    for kind, lab, members in cols:
        if lab == label and kind == "group":
            return float(sum(frame.at[row, m] for m in members))
    value = float(frame.at[row, label])
    return value / 100.0 if label == SHARE else value


def _clean(value: float, kind: str) -> float | int:
    return round(value, 10) if kind == "share" else round(value)


def _write_row(ws: Worksheet, r: int, cols: Sequence[Column],
               col_at: Mapping[str, int], row: pd.Series, num: Format, pct: Format) -> None:
    """A data row: numbers for the values and shares, SUM formulas for groups and the total."""
    for kind, label, members in cols:
        c = col_at[label]
        if kind == "value":
            ws.write_number(r, c, int(row[label]), num)
        elif kind == "group":
            ws.write_formula(r, c, _sum([(r, col_at[m]) for m in members]), num,
                             int(sum(int(row[m]) for m in members)))
        elif kind == "total":
            values = [(r, col_at[lab]) for k, lab, _ in cols if k == "value"]
            ws.write_formula(r, c, _sum(values), num, int(row[TOTAL]))
        else:
            ws.write_number(r, c, round(float(row[SHARE]) / 100.0, 6), pct)


def _write_summary(book: _Book, s: Summary) -> None:
    f = book.f
    ws = book.sheet("Summary")
    ws.write_string(0, 0, "Appendix A: allocation of resources, linkage with the financial plan",
                    f["title"])
    facts = [
        ("Scenario", f"{s.scenario}: {s.title}"),
        ("Scenario and its parents", " <- ".join(s.chain)),
        ("Model", s.model),
        ("Status", s.status),
        ("Unit", s.unit),
        ("Date of the inputs", s.inputs_date),
        ("Budget rule", "balanced: spending equals the ceiling" if s.balance_budget
         else "spending up to the ceiling"),
        ("Support costs", s.support_method),
    ]
    widths = [26.0, 16.0, 16.0, 16.0, 16.0, 16.0]
    r = 2
    for key, value in facts:
        ws.write_string(r, 0, key, f["key"])
        ws.merge_range(r, 1, r, 5, "", f["wrap"])
        ws.write_string(r, 1, value, f["wrap"])
        ws.set_row(r, _LINE_POINTS * max(1, math.ceil(len(value) * _CHAR_POINTS / sum(widths[1:]))))
        r += 1
    r += 1
    ws.write_string(r, 0, f"Ceiling and resources allocated per year ({s.unit})", f["title"])
    r += 1
    header = r
    heads = ["Year", "Ceiling (regular budget)", "Allocated: regular budget", "Unallocated balance",
             "Allocated: extrabudgetary", "Allocated: all funds"]
    for c, text in enumerate(heads):
        ws.write_string(r, c, text, f["head"] if c == 0 else f["head_num"])
    ws.set_row(r, 2 * _LINE_POINTS)
    r += 1
    year_rows: dict[str, int] = {}
    order = [y.label for y in s.years]
    closes = {max((m for m in ys if m in order), key=order.index): (label, [m for m in ys if m in order])
              for label, ys in s.biennia if any(m in order for m in ys)}
    by_label = {y.label: y for y in s.years}

    def fields(label: str) -> list[int]:
        y = by_label[label]
        return [y.ceiling, y.regular, y.balance, y.extrabudgetary, y.total]

    for y in s.years:
        year_rows[y.label] = r
        ws.write_string(r, 0, y.label, f["text"])
        for c, v in enumerate(fields(y.label), start=1):
            ws.write_number(r, c, v, f["num"])
        r += 1
        if y.label in closes:
            label, members = closes[y.label]
            ws.write_string(r, 0, f"Biennium {label}", f["sub_text"])
            for c in range(1, 6):
                ws.write_formula(r, c, _sum([(year_rows[m], c) for m in members]), f["sub_num"],
                                 sum(fields(m)[c - 1] for m in members))
            r += 1
    ws.write_string(r, 0, "Total", f["tot_text"])
    for c in range(1, 6):
        ws.write_formula(r, c, _sum([(year_rows[y], c) for y in order]), f["tot_num"],
                         sum(fields(y)[c - 1] for y in order))
    ws.write_string(r + 2, 0, "Figures rounded to whole units as in the tables (see the "
                    "reconciliation sheet); extrabudgetary = all funds - regular budget.", f["note"])
    r += 4
    ws.write_string(r, 0, "Provenance: what the scenario changed", f["title"])
    r += 1
    if not s.overrides:
        ws.write_string(r, 0, f"No key changed: the model {s.model} as it stands.", f["text"])
    else:
        for c, text in zip((0, 1, 3, 5), ("Scenario", "Key", "Old value", "New value"), strict=True):
            ws.write_string(r, c, text, f["head"])
        for scenario, key, old_value, new_value in s.overrides:
            r += 1
            ws.write_string(r, 0, scenario, f["text"])
            ws.merge_range(r, 1, r, 2, "", f["wrap"])
            ws.write_string(r, 1, key, f["wrap"])
            ws.merge_range(r, 3, r, 4, "", f["wrap"])
            ws.write_string(r, 3, old_value[:32000], f["wrap"])
            ws.write_string(r, 5, new_value[:32000], f["wrap"])
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    ws.freeze_panes(header + 1, 1)
    ws.repeat_rows(header)


def _write_allocation(book: _Book, allocation: pd.DataFrame, unit: str) -> None:
    f = book.f
    ws = book.sheet("Allocation")
    columns = list(allocation.columns)
    n = len(allocation)
    headers = [f"{c} ({unit})" if c == "amount" else c for c in columns]
    ws.add_table(0, 0, max(n, 1), len(columns) - 1, {
        "name": "Allocation", "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": h} for h in headers]})
    widths = [max(10, len(h) + 4) for h in headers]
    for i, row in enumerate(allocation.itertuples(index=False), start=1):
        for c, (col, value) in enumerate(zip(columns, row, strict=True)):
            if col == "amount":
                ws.write_number(i, c, float(value), f["detail"])
            elif col == "year":
                ws.write_number(i, c, int(value))
            else:
                ws.write_string(i, c, str(value))
                widths[c] = max(widths[c], len(str(value)) + 2)
    for c, w in enumerate(widths):
        ws.set_column(c, c, min(w, 40))
    ws.freeze_panes(1, 0)
    ws.repeat_rows(0)


def _flatten(data: object, key: str = "") -> list[tuple[str, object]]:
    if isinstance(data, Mapping):
        out = []
        for k, v in data.items():
            out.extend(_flatten(v, f"{key}.{k}" if key else str(k)))
        return out or [(key, "")]
    if isinstance(data, list | tuple):
        out = []
        for i, v in enumerate(data):
            out.extend(_flatten(v, f"{key}[{i}]"))
        return out or [(key, "")]
    return [(key, data)]


def _write_run(book: _Book, run: Mapping[str, object]) -> None:
    f = book.f
    ws = book.sheet("Run")
    ws.write_string(0, 0, "Run record (run.json without its timings)", f["title"])
    ws.write_string(2, 0, "Key", f["head"])
    ws.write_string(2, 1, "Value", f["head"])
    r = 3
    for key, value in _flatten({k: v for k, v in run.items() if k != "seconds"}):
        ws.write_string(r, 0, key, f["text"])
        if isinstance(value, bool) or value is None:
            ws.write_string(r, 1, "" if value is None else str(value).lower(), f["text"])
        elif isinstance(value, int | float):
            ws.write_number(r, 1, value, f["text"])
        else:
            ws.write_string(r, 1, str(value), f["wrap"])
        r += 1
    ws.set_column(0, 0, 48)
    ws.set_column(1, 1, 90)
    ws.freeze_panes(3, 0)
    ws.repeat_rows(2)


def _write_charts(book: _Book, tables: Mapping[str, Table],
                  places: Mapping[str, _Placed]) -> None:
    """Native charts, each fed by a small block of links to the table sheets."""
    f = book.f
    ws = book.sheet("Charts")
    ws.write_string(0, 0, "Charts (data linked to the table sheets)", f["title"])
    r = 2

    def block(table: Table, rows: list[str], cols: list[str]) -> tuple[int, int]:
        """Copy rows x cols of a table as formulas; returns the block's first data row and col."""
        nonlocal r
        placed = places[table.id]
        ws.write_string(r, 0, table.title, f["key"])
        for k, c in enumerate(cols):
            ws.write_string(r + 1, 2 + k, table.name(c), f["head_num"])
        top = r + 2
        for i, label in enumerate(rows):
            ws.write_string(top + i, 0, label, f["text"])
            ws.write_string(top + i, 1, table.name(label), f["text"])
            for k, c in enumerate(cols):
                cell = xl_rowcol_to_cell(placed.rows[label], placed.cols[c])
                ref = f"={quote_sheetname(placed.sheet)}!{cell}"
                ws.write_formula(top + i, 2 + k, ref, f["num"], int(table.rounded.at[label, c]))
        r = top + len(rows) + 2
        return top, 2

    name = ws.get_name()
    widest = max(len(tables[i].value_columns) for i in ("a1-priority-entity", "a4-entity-year"))
    anchor_col = 2 + widest + 1          # right of the data blocks
    a1 = tables["a1-priority-entity"]
    top, left = block(a1, a1.rows, a1.value_columns)
    chart = book.wb.add_chart({"type": "column", "subtype": "stacked"})
    for k, _ in enumerate(a1.value_columns):
        chart.add_series({
            "name": [name, top - 1, left + k],
            "categories": [name, top, 0, top + len(a1.rows) - 1, 0],
            "values": [name, top, left + k, top + len(a1.rows) - 1, left + k],
        })
    chart.set_title({"name": f"Resources by thematic priority, by entity ({a1.unit})"})
    chart.set_y_axis({"num_format": AMOUNT})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 400})
    ws.insert_chart(2, anchor_col, chart)

    a2 = tables["a2-goal-entity"]
    goal_rows = list(a2.row_groups[0][1]) if a2.row_groups else a2.rows
    top, left = block(a2, goal_rows, [TOTAL])
    pie = book.wb.add_chart({"type": "pie"})
    pie.add_series({
        "name": "Share of each strategic goal",
        "categories": [name, top, 1, top + len(goal_rows) - 1, 1],
        "values": [name, top, left, top + len(goal_rows) - 1, left],
        "data_labels": {"percentage": True, "leader_lines": True},
    })
    pie.set_title({"name": "Share of each strategic goal"
                   + (" (thematic priorities; support lines not included)" if a2.row_groups else "")})
    pie.set_legend({"position": "bottom"})
    pie.set_size({"width": 760, "height": 400})
    ws.insert_chart(23, anchor_col, pie)

    a4 = tables["a4-entity-year"]
    top, left = block(a4, a4.rows, a4.value_columns)
    years = book.wb.add_chart({"type": "column", "subtype": "stacked"})
    for i, _ in enumerate(a4.rows):
        years.add_series({
            "name": [name, top + i, 0],
            "categories": [name, top - 1, left, top - 1, left + len(a4.value_columns) - 1],
            "values": [name, top + i, left, top + i, left + len(a4.value_columns) - 1],
        })
    years.set_title({"name": f"Resources by year, by entity ({a4.unit})"})
    years.set_y_axis({"num_format": AMOUNT})
    years.set_legend({"position": "bottom"})
    years.set_size({"width": 760, "height": 400})
    ws.insert_chart(44, anchor_col, years)
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2 + widest - 1, 13)
    ws.fit_to_pages(1, 0)


@dataclass(frozen=True)
class Sheet:
    """A plain sheet of rows under a title and notes: what an explanation adds to the workbook
    (the rules with their prices, ranges, room for manoeuvre). Computed elsewhere, laid out here.

    `columns`: (column of the frame, header, kind, width); kinds are text, wrap, amount (whole
    units), detail (thousandths), number (as it is), share and flag (yes or empty). Rows whose
    `bold` column is true are written in bold.
    """

    title: str
    heading: str
    notes: tuple[str, ...]
    columns: tuple[tuple[str, str, str, float], ...]
    frame: pd.DataFrame
    bold: str | None = None


def _write_sheet(book: _Book, sheet: Sheet) -> None:
    f = book.f
    wb = book.wb
    kinds = {"text": {"valign": "top"}, "wrap": {"text_wrap": True, "valign": "top"},
             "amount": {"num_format": AMOUNT, "valign": "top"},
             "detail": {"num_format": DETAIL, "valign": "top"},
             "number": {"num_format": "General", "valign": "top"},
             "share": {"num_format": "0.00%", "valign": "top"},
             "flag": {"valign": "top", "align": "center"}}
    plain = {k: wb.add_format(v) for k, v in kinds.items()}
    strong = {k: wb.add_format({**v, "bold": True}) for k, v in kinds.items()}
    ws = book.sheet(sheet.title)
    widths = [w for _, _, _, w in sheet.columns]
    ws.write_string(0, 0, sheet.heading, f["title"])
    r = 1
    for text in sheet.notes:
        book.note(ws, r, text, len(sheet.columns), widths)
        r += 1
    header = r + 1
    for c, (_, head, kind, _) in enumerate(sheet.columns):
        ws.write_string(header, c, head, f["head_num"] if kind in ("amount", "detail", "number",
                                                                    "share") else f["head"])
    ws.set_row(header, 2 * _LINE_POINTS)
    frame = sheet.frame
    bold = (frame[sheet.bold].astype(bool).tolist() if sheet.bold is not None
            else [False] * len(frame))
    for k, row in enumerate(frame.itertuples(index=False)):
        values = dict(zip(frame.columns, row, strict=True))
        fmt = strong if bold[k] else plain
        for c, (column, _, kind, _) in enumerate(sheet.columns):
            value = values[column]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                ws.write_blank(header + 1 + k, c, None, fmt[kind])
            elif kind == "flag":
                ws.write_string(header + 1 + k, c, "yes" if value else "", fmt[kind])
            elif kind in ("text", "wrap"):
                ws.write_string(header + 1 + k, c, str(value), fmt[kind])
            else:
                ws.write_number(header + 1 + k, c, float(value), fmt[kind])
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    ws.freeze_panes(header + 1, 0)
    ws.repeat_rows(header)
    if len(frame):
        ws.autofilter(header, 0, header + len(frame), len(sheet.columns) - 1)


def write_workbook(path: Path, summary: Summary, tables: Sequence[Table],
                   allocation: pd.DataFrame, run: Mapping[str, object],
                   sheets: Sequence[Sheet] = ()) -> None:
    """Write appendix-a.xlsx: Summary, one sheet per table, Charts, Allocation, the extra
    `sheets` (an explanation's), Run."""
    book = _Book(path, summary)
    _write_summary(book, summary)
    places = {t.id: _write_table(book, t) for t in tables}
    _write_charts(book, {t.id: t for t in tables}, places)
    _write_allocation(book, allocation, summary.unit)
    for sheet in sheets:
        _write_sheet(book, sheet)
    _write_run(book, run)
    book.close()
