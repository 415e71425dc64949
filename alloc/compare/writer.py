"""Writing a comparison: comparison.xlsx, deltas.csv, attribution.csv, inputs.csv, comparison.md.

Knows formats only: every figure was computed by `alloc.compare.core` (the attribution, the
differences of every cell) and `alloc.compare.matrix` (the scenarios side by side, taken from
each scenario's own Appendix A tables).

`comparison.xlsx` is a document a working group can table: a cover (each scenario's title, the
question it answers, model, inputs date, input hashes, alloc version, unit), a matrix per axis
(thematic priority, entity, strategic goal) with the scenarios side by side and the differences
(amount and %), charts of the allocations and of the differences, the attribution of the
differences to the policies that changed, and the inputs that differ. Every sheet prints
landscape on A4, a page wide, with the document reference, "Draft" and page x of y; when the
model says its figures are illustrative, every sheet, page header and chart title says so.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pandas as pd

from alloc._version import __version__
from alloc.compare.core import TOTAL_DIFFERENCE, Compared, Comparison
from alloc.compare.matrix import AXES, Matrix, MatrixRow, matrix
from alloc.model.scenario import SET_SOURCE
from alloc.report.book import (
    AMOUNT,
    BANNER,
    Book,
    Format,
    Properties,
    Worksheet,
    created_on,
    lines_of,
    with_unit,
    write_csv,
)
from alloc.text import markdown_text as escape

BANNER_TEXT = (f"{BANNER}: the model states that its amounts are illustrative; they are not "
               "a proposal and must not be quoted as budget figures.")
DRAFT = "Draft"
NA = "n/a"
DIFF = "+#,##0;-#,##0;0"
"""A difference: signed, in whole units."""
CHANGE = "+0.0%;-0.0%;0.0%"
"""A difference as a percentage of the first scenario's figure."""
EFFECT = "+#,##0.0;-#,##0.0;0.0"
"""An attribution's effect, to a tenth of the unit."""
ROW_POINTS = 15.0
"""Height of one line of text (Calibri 11) in points."""
COLOURS = ("#4472C4", "#ED7D31", "#70AD47", "#7F6084", "#FFC000", "#5B9BD5", "#A5A5A5")
"""A colour per scenario, the same in every chart."""
AXIS_WORDS = {"priority": "thematic priority and support line", "entity": "entity",
              "goal": "strategic goal"}


def write_comparison(comparison: Comparison, folder: Path) -> list[str]:
    write_csv(comparison.deltas, folder / "deltas.csv")
    write_csv(comparison.attribution.round(6), folder / "attribution.csv")
    write_csv(comparison.inputs, folder / "inputs.csv")
    _workbook(comparison, folder / "comparison.xlsx")
    (folder / "comparison.md").write_text(_markdown(comparison), encoding="utf-8", newline="\n")
    return ["comparison.xlsx", "deltas.csv", "attribution.csv", "inputs.csv", "comparison.md"]


def illustrative(comparison: Comparison) -> bool:
    """Whether any compared model says its figures are illustrative (`illustrative = true` in
    model.toml, read into the plan)."""
    return any(s.plan.illustrative for s in comparison.scenarios)


def reference(comparison: Comparison) -> str:
    """The document reference on every page: "Comparison of baseline vs zng"."""
    names = " vs ".join(comparison.names)
    return f"Comparison of {names}" if len(names) <= 90 else \
        f"Comparison of {comparison.names[0]} with {len(comparison.names) - 1} scenarios"


def matrices(comparison: Comparison) -> list[Matrix]:
    """The side-by-side matrices the workbook and the Markdown show, in order."""
    out = []
    for axis, table_id, _ in AXES:
        tables = [s.tables[table_id] for s in comparison.scenarios if table_id in s.tables]
        if len(tables) == len(comparison.scenarios):
            out.append(matrix(tables, axis))
    return out


def height(text: str, width: float, size: float = 11.0, bold: bool = False,
           mono: bool = False) -> float:
    """The row height (points) a wrapped text needs in a column `width` characters wide, in a
    font of `size` points (bold and monospaced fonts are wider)."""
    scale = size / 11.0 * (1.1 if bold else 1.0) * (1.35 if mono else 1.0)
    points = lines_of(text, width / scale) * ROW_POINTS * max(size / 11.0, 0.75)
    return math.ceil(points / 0.75 - 1e-9) * 0.75   # whole pixels, as the row is stored


def word_width(texts: Sequence[str], least: float, most: float = 40.0) -> float:
    """A column width at least `least` and wide enough for the longest word of `texts` (a
    word wider than its column is broken in the middle), within `most`."""
    longest = max([0, *(len(w) for t in texts for w in re.split(r"\s+|(?<=-)", str(t)))])
    return float(min(max(least, longest * 1.1 + 2), most))


@dataclass
class _Doc:
    """A workbook being written, with what every sheet needs to know."""

    book: Book
    comparison: Comparison
    banner: bool
    formats: dict[object, Format] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return self.comparison.names

    @property
    def first(self) -> Compared:
        return self.comparison.scenarios[0]

    @property
    def unit(self) -> str:
        return self.first.plan.unit

    @property
    def period(self) -> str:
        years = self.first.plan.years
        return f"{years[0]}-{years[-1]}"

    def fmt(self, name: str, **props: object) -> Format:
        """A format of this document's own (beyond the shared `STYLES`), made once."""
        key = (name, tuple(sorted(props.items())))
        if key not in self.formats:
            self.formats[key] = self.book.add_format(props)
        return self.formats[key]

    def chart_title(self, text: str) -> str:
        return f"{BANNER}: {text}" if self.banner else text

    def top(self, ws: Worksheet, title: str, columns: int, widths: Sequence[float]) -> int:
        """The banner (when illustrative) and the title across `columns`; the next free row."""
        row = 0
        width = sum(widths[:columns])
        if self.banner:
            fmt = self.fmt("banner", bold=True, font_color="#9C0006", bg_color="#FFC7CE",
                           font_size=12, text_wrap=True, valign="vcenter", border=1)
            self._span(ws, row, columns, BANNER_TEXT, fmt)
            ws.set_row(row, height(BANNER_TEXT, width, 12, bold=True))
            row += 1
        fmt = self.fmt("title", bold=True, font_size=13, text_wrap=True, valign="top")
        self._span(ws, row, columns, title, fmt)
        ws.set_row(row, height(title, width, 13, bold=True))
        return row + 2

    def note(self, ws: Worksheet, row: int, columns: int, text: str, widths: Sequence[float]) -> int:
        fmt = self.fmt("note", italic=True, text_wrap=True, valign="top")
        self._span(ws, row, columns, text, fmt)
        ws.set_row(row, height(text, sum(widths[:columns])))
        return row + 1

    @staticmethod
    def _span(ws: Worksheet, row: int, columns: int, text: str, fmt: Format) -> None:
        if columns > 1:
            ws.merge_range(row, 0, row, columns - 1, "", fmt)
        ws.write_string(row, 0, text, fmt)


def _workbook(comparison: Comparison, path: Path) -> None:
    """comparison.xlsx (see the module)."""
    first = comparison.scenarios[0]
    ref = reference(comparison)
    book = Book(path, Properties(title=f"alloc: {ref}", subject=f"{DRAFT}; figures in {first.plan.unit}",
                                 created=created_on(first.plan.inputs_date),
                                 keywords=BANNER.lower() if illustrative(comparison) else None))
    doc = _Doc(book, comparison, illustrative(comparison))
    _cover(doc)
    shown = matrices(comparison)
    for m in shown:
        _matrix_sheet(doc, m)
    if len(comparison.names) > 1:
        for m in shown:
            _chart_sheet(doc, m)
    if len(comparison.attribution):
        _attribution_sheet(doc)
    _inputs_sheet(doc)
    book.print_setup(_footer(doc))
    head = doc.book.page_header(reference(doc.comparison), banner=doc.banner)
    for ws in book.wb.worksheets():
        ws.set_header(head)
        ws.set_margins(left=0.5, right=0.5, top=0.9, bottom=0.8)
    book.close()


def _amp(text: str) -> str:
    return text.replace("&", "&&")


def _footer(doc: _Doc) -> str:
    return (f"&L{_amp(reference(doc.comparison))}, {DRAFT.lower()}; {_amp(doc.unit)}"
            "&RPage &P of &N")


# -- the cover ----------------------------------------------------------------------------------

def _cover(doc: _Doc) -> None:
    scenarios = doc.comparison.scenarios
    ws = doc.book.sheet("Cover")
    n = len(scenarios)
    value_width = {1: 90.0, 2: 62.0, 3: 46.0}.get(n, 36.0)
    widths = [22.0, *([value_width] * n)]
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    titles = " vs ".join(s.plan.title for s in scenarios)
    row = doc.top(ws, f"Comparison of scenarios: {titles}", n + 1, widths)
    f = doc.book.f
    key = doc.fmt("key", bold=True, valign="top", text_wrap=True)
    wrap = doc.fmt("wrap", text_wrap=True, valign="top")
    hashes = doc.fmt("hash", text_wrap=True, valign="top", font_name="Courier New", font_size=8)
    head = doc.fmt("head", bold=True, text_wrap=True, valign="bottom", bottom=1, bg_color="#DDEBF7")

    def line(label: str, values: Sequence[str], fmt: Format = wrap) -> None:
        nonlocal row
        ws.write_string(row, 0, label, key)
        for c, v in enumerate(values, start=1):
            ws.write_string(row, c, v, fmt)
        mono = fmt is hashes
        ws.set_row(row, max([height(label, widths[0], bold=True),
                             *(height(v, widths[c], 8 if mono else 11, bold=fmt is not wrap,
                                      mono=mono) for c, v in enumerate(values, start=1))]))
        row += 1

    line("Scenario", [s.name for s in scenarios], head)
    line("Title", [s.plan.title for s in scenarios], key)
    line("Question it answers", [s.question or "(the scenario file states none)" for s in scenarios])
    line("Role in this comparison", ["Base: the differences are against it" if k == 0 else
                                     f"Compared with {scenarios[0].name}"
                                     for k in range(n)])
    line("Scenario chain", [" <- ".join(s.plan.scenario_chain) for s in scenarios])
    line("Model", [s.plan.model for s in scenarios])
    line("Inputs date", [s.plan.inputs_date for s in scenarios])
    line("Unit", [s.plan.unit for s in scenarios])
    line("Figures", [BANNER.capitalize() if s.plan.illustrative
                     else "As given in the model's inputs" for s in scenarios])
    sets = [[f"{o.key} = {json.dumps(o.new, default=str)}" for o in s.plan.overrides
             if o.scenario == SET_SOURCE] for s in scenarios]
    if any(sets):
        line("Changed for this comparison (--set)", ["; ".join(x) or "(none)" for x in sets])
    line("Solution", [s.solution.status for s in scenarios])
    line("alloc version", [__version__] * n)
    row += 1
    ws.write_string(row, 0, "Input files (sha256)", f["bold"])
    row += 1
    files: list[str] = []
    for s in scenarios:
        files += [label for label in s.plan.input_files if label not in files]
    for label in files:
        line(label, [s.plan.input_files.get(label, "(not read)") for s in scenarios], hashes)
    row += 1
    base = scenarios[0]
    sheets = ", ".join(title for _, _, title in AXES)
    for text in (
        f"What the sheets show: {sheets}: each scenario's resources over {doc.period} side by "
        f"side, with each other scenario's difference from {base.name} in {doc.unit} and in % "
        f"of {base.name}'s figure (n/a where {base.name}'s is 0); charts of the allocations and "
        "of the differences; why the totals differ (the attribution to the policies that "
        "changed); the inputs that differ, key by key.",
        "Every figure is the scenario's own Appendix A table (the Total column of Tables A1, A4 "
        f"and A2), in whole {doc.unit}, rounded so that every row and column adds up; the "
        "subtotals, totals and differences are computed from these rounded figures, so they add "
        "up too.",
        "Beside this workbook: deltas.csv (every cell of every Appendix A table, with the "
        "differences), attribution.csv, inputs.csv and comparison.md.",
        *(f"No tables side by side: scenario {s.name} is {s.solution.status} (it has no "
          f"allocation to compare); `alloc run {s.name}` gives the diagnosis."
          for s in scenarios if not s.solution.optimal),
    ):
        row = doc.note(ws, row, n + 1, text, widths) + 1
    ws.repeat_rows(0, 0)


# -- the matrices -------------------------------------------------------------------------------

def _matrix_columns(doc: _Doc, m: Matrix) -> tuple[list[str], list[float]]:
    names, scenarios = doc.names, doc.comparison.scenarios
    headers = ["Code", m.row_title, *(f"{s.plan.title} ({s.name})" for s in scenarios)]
    for name in names[1:]:
        headers += [f"Difference: {name} - {names[0]}", f"% of {names[0]}"]
    longest = max(len(r.name) for r in m.rows)
    value = word_width(headers[2:2 + len(names)], 17.0)
    widths = [8.0, float(min(max(longest + 2, 24), 48)), *([value] * len(names)),
              *([word_width(headers[2 + len(names)::2], 15.0), 11.0] * (len(names) - 1))]
    return headers, widths


def _matrix_sheet(doc: _Doc, m: Matrix) -> None:
    title = next(t for axis, _, t in AXES if axis == m.axis)
    ws = doc.book.sheet(title)
    headers, widths = _matrix_columns(doc, m)
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    row = doc.top(ws, with_unit(f"Resources by {AXIS_WORDS[m.axis]}, {doc.period}: "
                                + " vs ".join(doc.names), doc.unit), len(headers), widths)
    head = doc.fmt("head", bold=True, text_wrap=True, valign="bottom", bottom=1, bg_color="#DDEBF7")
    head_num = doc.fmt("head_num", bold=True, text_wrap=True, valign="bottom", bottom=1,
                       bg_color="#DDEBF7", align="right")
    for c, h in enumerate(headers):
        ws.write_string(row, c, h, head if c < 2 else head_num)
    ws.set_row(row, max(height(h, w, bold=True) for h, w in zip(headers, widths, strict=True)))
    ws.repeat_rows(0, row)
    ws.freeze_panes(row + 1, 2)
    top = row + 1
    for r in m.rows:
        _matrix_row(doc, ws, top, r, widths)
        top += 1
    table = doc.first.tables[m.table_id]
    source = {"priority": "Table A1 (support lines as their own rows)", "entity": "Table A4",
              "goal": "Table A2 (a thematic priority's resources count for each goal in "
                      "proportion to its goal shares, as in the table)"}[m.axis]
    top += 1
    for text in (f"Source: the Total column of {source} of each scenario's Appendix A, in whole "
                 f"{doc.unit}. All funds: regular budget and extrabudgetary. Subtotals, totals and "
                 "differences are computed from the rounded figures, so they add up.",
                 f"% of {doc.names[0]}: the difference as a percentage of {doc.names[0]}'s figure; "
                 f"n/a where {doc.names[0]}'s figure is 0 (a row {doc.names[0]} does not have).",
                 *( [table.method] if table.method else [])):
        top = doc.note(ws, top, len(headers), text, widths)


def _matrix_row(doc: _Doc, ws: Worksheet, row: int, r: MatrixRow, widths: Sequence[float]) -> None:
    styles: dict[str, dict[str, object]] = {
        "row": {}, "subtotal": {"bold": True, "bg_color": "#F2F2F2"},
        "total": {"bold": True, "top": 1, "bottom": 6}}
    kind = styles[r.kind]
    text = doc.fmt("text", valign="top", text_wrap=True, **kind)
    num = doc.fmt("num", valign="top", num_format=AMOUNT, **kind)
    diff = doc.fmt("diff", valign="top", num_format=DIFF, **kind)
    pct = doc.fmt("pct", valign="top", num_format=CHANGE, **kind)
    na = doc.fmt("na", valign="top", align="right", font_color="#595959", **kind)
    ws.write_string(row, 0, r.code, text)
    ws.write_string(row, 1, r.name, text)
    c = 2
    for v in r.values:
        ws.write_number(row, c, v, num)
        c += 1
    for d, change in zip(r.differences, r.changes, strict=True):
        ws.write_number(row, c, d, diff)
        if change is None:
            ws.write_string(row, c + 1, NA, na)
        else:
            ws.write_number(row, c + 1, change, pct)
        c += 2
    ws.set_row(row, height(r.name, widths[1], bold=r.kind != "row"))


# -- the charts ---------------------------------------------------------------------------------

def _chart_sheet(doc: _Doc, m: Matrix) -> None:
    """The allocations side by side (clustered bars) and the differences, with the figures
    they chart below them (the matrix has subtotals between its rows)."""
    title = next(t for axis, _, t in AXES if axis == m.axis)
    ws = doc.book.sheet(f"Charts - {title[3:]}")
    names = doc.names
    lines = m.lines
    labels = [f"{r.code} {r.name}" if r.code else r.name for r in lines]
    label_width = float(min(max(max(len(t) for t in labels) + 2, 24), 60))
    widths = [label_width, *([17.0] * len(names)), *([15.0] * (len(names) - 1))]
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    row = doc.top(ws, with_unit(f"Charts: resources by {AXIS_WORDS[m.axis]}, {doc.period}",
                                doc.unit), len(widths), widths)
    bars = len(lines) * len(names)
    # each chart on a page of its own (landscape A4 holds about 560 pixels below the title)
    height1 = int(min(max(120 + 22 * bars, 320), 520))
    height2 = int(min(max(120 + 22 * len(lines) * (len(names) - 1), 260), 520))
    second = row + math.ceil(height1 / 20) + 1
    chart_rows = math.ceil(height1 / 20) + 1 + math.ceil(height2 / 20) + 1
    data = row + chart_rows + 1
    ws.write_string(data - 1, 0, with_unit("Figures charted (from the sheet " + title + ")",
                                           doc.unit), doc.book.f["bold"])
    head = doc.fmt("head", bold=True, text_wrap=True, valign="bottom", bottom=1, bg_color="#DDEBF7")
    headers = [m.row_title, *names, *(f"{n} - {names[0]}" for n in names[1:])]
    head_num = doc.fmt("head_num", bold=True, text_wrap=True, valign="bottom", bottom=1,
                       bg_color="#DDEBF7", align="right")
    for c, h in enumerate(headers):
        ws.write_string(data, c, h, head if c == 0 else head_num)
    ws.set_row(data, max(height(h, w, bold=True) for h, w in zip(headers, widths, strict=True)))
    text = doc.fmt("text", valign="top", text_wrap=True)
    num = doc.fmt("num", valign="top", num_format=AMOUNT)
    diff = doc.fmt("diff", valign="top", num_format=DIFF)
    for k, (label, r) in enumerate(zip(labels, lines, strict=True), start=data + 1):
        ws.write_string(k, 0, label, text)
        for c, v in enumerate([*r.values, *r.differences], start=1):
            ws.write_number(k, c, v, num if c <= len(names) else diff)
        ws.set_row(k, height(label, label_width))
    first, last = data + 1, data + len(lines)
    words = AXIS_WORDS[m.axis]
    font = {"name": "Calibri", "size": 9}
    side = doc.book.add_chart({"type": "bar"})
    for c in range(1, len(names) + 1):
        side.add_series({"name": [ws.name, data, c], "categories": [ws.name, first, 0, last, 0],
                         "values": [ws.name, first, c, last, c], "gap": 60,
                         "fill": {"color": COLOURS[(c - 1) % len(COLOURS)]}})
    side.set_title({"name": doc.chart_title(with_unit(f"Resources by {words}, {doc.period}",
                                                      doc.unit)),
                    "name_font": {"size": 11, "bold": True,
                                  **({"color": "#9C0006"} if doc.banner else {})}})
    side.set_x_axis({"num_format": AMOUNT, "num_font": font})
    side.set_y_axis({"reverse": True, "crossing": "max", "num_font": font})
    side.set_legend({"position": "bottom"})
    side.set_size({"width": 1000, "height": height1})
    ws.insert_chart(row, 0, side)
    change = doc.book.add_chart({"type": "bar"})
    for k in range(len(names) + 1, 2 * len(names)):
        change.add_series({"name": [ws.name, data, k], "categories": [ws.name, first, 0, last, 0],
                           "values": [ws.name, first, k, last, k], "gap": 60,
                           "invert_if_negative": False,
                           "fill": {"color": COLOURS[(k - len(names)) % len(COLOURS)]}})
    change.set_title({"name": doc.chart_title(with_unit(f"Difference from {names[0]} by {words}",
                                                        doc.unit)),
                      "name_font": {"size": 11, "bold": True,
                                    **({"color": "#9C0006"} if doc.banner else {})}})
    change.set_x_axis({"num_format": DIFF, "num_font": font})
    change.set_y_axis({"reverse": True, "crossing": "max", "num_font": font,
                      "label_position": "low"})
    change.set_legend({"position": "bottom"})
    change.set_size({"width": 1000, "height": height2})
    ws.insert_chart(second, 0, change)
    ws.set_h_pagebreaks([second - 1, data - 1])
    ws.repeat_rows(0, row - 2)


# -- the attribution and the inputs -------------------------------------------------------------

def _attribution_sheet(doc: _Doc) -> None:
    """Per compared scenario and axis, a matrix: rows in the tables' order, a column per policy
    and the total difference; each policy's effect is its Shapley value, so a row's effects add
    up to its total difference."""
    a = doc.comparison.attribution
    most = int(a.groupby("scenario")["input"].nunique().max())
    longest = max(len(str(v)) for v in a["name"])
    widths = [8.0, float(min(max(longest + 2, 30), 48)),
              *([word_width(list(a["input"].drop_duplicates()), 16.0)] * most)]
    ws = doc.book.sheet("Why the totals differ")
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    columns = len(widths)
    row = doc.top(ws, with_unit("Why the totals differ: each policy's share of the difference "
                                f"from {doc.names[0]}", doc.unit), columns, widths)
    ws.repeat_rows(0, row - 2)
    row = doc.note(ws, row, columns,
                   "Each policy's effect is its Shapley value: its change to the totals "
                   f"averaged over every order in which the policies could be applied to "
                   f"{doc.names[0]}. The effects add up to the total difference: there is no "
                   "unexplained remainder. Figures before rounding, to a tenth of the unit: the "
                   "total difference may differ by 1 from the difference of the rounded tables.",
                   widths) + 1
    head = doc.fmt("head", bold=True, text_wrap=True, valign="bottom", bottom=1, bg_color="#DDEBF7")
    head_num = doc.fmt("head_num", bold=True, text_wrap=True, valign="bottom", bottom=1,
                       bg_color="#DDEBF7", align="right")
    text = doc.fmt("text", valign="top", text_wrap=True)
    effect = doc.fmt("effect", valign="top", num_format=EFFECT)
    total_text = doc.fmt("ttext", valign="top", text_wrap=True, bold=True, top=1, bottom=6)
    total_num = doc.fmt("teffect", valign="top", num_format=EFFECT, bold=True, top=1, bottom=6)
    sub = doc.fmt("sub", bold=True, font_size=12, text_wrap=True, valign="top")
    titles = {s.name: s.plan.title for s in doc.comparison.scenarios}
    for (scenario, axis), part in a.groupby(["scenario", "axis"], sort=False):
        pivot = part.pivot_table(index=["code", "name"], columns="input", values="effect",
                                 aggfunc="sum", sort=False)
        order = [*(g for g in part["input"].drop_duplicates() if g != TOTAL_DIFFERENCE),
                 TOTAL_DIFFERENCE]
        bound = float(part["error_bound"].max())
        method = str(part["method"].iloc[0])
        heading = (f"{titles.get(str(scenario), scenario)} ({scenario}) against "
                   f"{doc.names[0]}: by {AXIS_WORDS.get(str(axis), str(axis))}")
        doc._span(ws, row, columns, heading, sub)
        ws.set_row(row, height(heading, sum(widths), 12, bold=True))
        row += 1
        headers = ["Code", AXIS_WORDS.get(str(axis), str(axis)).capitalize(),
                   *(g[:1].upper() + g[1:] for g in order)]
        for c, h in enumerate(headers):
            ws.write_string(row, c, h, head if c < 2 else head_num)
        ws.set_row(row, max(height(h, w, bold=True) for h, w in zip(headers, widths,
                                                                    strict=False)))
        row += 1
        for key, values in pivot.iterrows():
            code, name = cast(tuple[str, str], key)
            ws.write_string(row, 0, str(code), text)
            ws.write_string(row, 1, str(name), text)
            for c, g in enumerate(order, start=2):
                ws.write_number(row, c, round(float(values[g]), 1) + 0.0, effect)
            ws.set_row(row, height(str(name), widths[1]))
            row += 1
        ws.write_string(row, 0, "", total_text)
        ws.write_string(row, 1, "Total", total_text)
        for c, g in enumerate(order, start=2):
            ws.write_number(row, c, round(float(pivot[g].sum()), 1) + 0.0, total_num)
        row += 1
        row = doc.note(ws, row, columns, f"Method: {method}"
                       + (f"; error bound up to {bound:,.1f} {doc.unit}." if bound > 0 else "."),
                       widths) + 1


def _inputs_sheet(doc: _Doc) -> None:
    """Every input that differs, key by key; on numbered sheets when there are more than a
    sheet holds (inputs.csv holds them all)."""
    inputs = doc.comparison.inputs

    def width(column: str, least: float, most: float) -> float:
        longest = max([0, *(len(str(v)) for v in inputs[column])]) if column in inputs else 0
        return float(min(max(longest + 2, least), most))

    widths = [width("scenario", 14, 24), width("key", 30, 64), 28.0, 28.0,
              width("group", 24, 40)]
    headers = ["Scenario", "Key", f"Value in {doc.names[0]}", "Value in the scenario",
               "Policy (attribution group)"]
    shown = pd.DataFrame([[_within(str(v), w) for v, w in zip(rec, widths, strict=True)]
                          for rec in inputs.itertuples(index=False)], columns=headers,
                         dtype=object) if len(inputs) else pd.DataFrame(columns=headers)
    head = doc.fmt("head", bold=True, text_wrap=True, valign="bottom", bottom=1, bg_color="#DDEBF7")
    text = doc.fmt("text", valign="top", text_wrap=True)
    title = f"Every input that differs from {doc.names[0]}, key by key"
    top = (1 if doc.banner else 0) + 2

    def above(ws: Worksheet, _: object) -> None:
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        doc.top(ws, title, len(widths), widths)
        ws.set_row(top, max(height(h, w, bold=True) for h, w in zip(headers, widths, strict=True)))
        ws.repeat_rows(0, top)
        ws.freeze_panes(top + 1, 0)

    parts = doc.book.frame_sheets("Inputs that differ", shown, top, header=head,
                                  formats=[text] * len(headers), keep_empty=True, before=above,
                                  whole="inputs.csv")
    for part in parts:
        for k, i in enumerate(part.records, start=top + 1):
            record = shown.iloc[i]
            part.ws.set_row(k, max(height(str(v), w) for v, w in zip(record, widths, strict=True)))
    if not len(shown):
        doc.note(parts[0].ws, top + 1, len(widths), "None: the scenarios have the same inputs.",
                 widths)


MAX_LINES = 24
"""Lines of text a row shows at most (a row is at most 409 points high)."""


def _within(text: str, width: float) -> str:
    """A value short enough for its row, or its start and where the whole of it is."""
    if lines_of(text, width) <= MAX_LINES:
        return text
    more = " ... (the whole value is in inputs.csv)"
    keep = int((MAX_LINES - 2) * (width - 1.5) / 0.92) - len(more)
    return text[:keep] + more


# -- Markdown -----------------------------------------------------------------------------------

def _markdown(comparison: Comparison) -> str:
    names = comparison.names
    unit = comparison.scenarios[0].plan.unit
    lines = [f"# {escape(reference(comparison))}", ""]
    if illustrative(comparison):
        lines += [f"**{escape(BANNER_TEXT)}**", ""]
    lines += [f"{DRAFT}. Whole {escape(unit)}; differences against {escape(names[0])}, from the "
              "rounded figures of each scenario's Appendix A tables.", ""]
    for s in comparison.scenarios:
        lines += [f"- **{escape(s.name)}**: {escape(s.plan.title)}."
                  + (f" {escape(s.question)}" if s.question else "")]
    lines.append("")
    if not len(comparison.deltas):
        return "\n".join(lines) + "\n"
    for m in matrices(comparison):
        lines += [f"## {escape(with_unit('Resources by ' + AXIS_WORDS[m.axis], unit))}", "",
                  "| Code | " + escape(m.row_title) + " | " + " | ".join(escape(n) for n in names)
                  + "".join(f" | {escape(n)} - {escape(names[0])} | %" for n in names[1:]) + " |",
                  "| --- | --- |" + " --: |" * (len(names) + 2 * (len(names) - 1))]
        for r in m.rows:
            name = escape(r.name) if r.kind == "row" else f"**{escape(r.name)}**"
            cells = [f"{v:,}" for v in r.values]
            for d, c in zip(r.differences, r.changes, strict=True):
                cells += [f"{d:+,}" if d else "0",
                          NA if c is None else f"{c * 100:+.1f}%" if d else "0.0%"]
            lines.append(f"| {escape(r.code)} | {name} | " + " | ".join(cells) + " |")
        lines.append("")
    a = comparison.attribution
    if len(a):
        lines += ["## Why the totals differ", "",
                  "Each policy's share of the difference: its effect on the first scenario "
                  "averaged over every order in which the policies could be applied (Shapley "
                  "value). The shares add up to the total difference.", ""]
        for (scenario, axis), part in a.groupby(["scenario", "axis"], sort=False):
            part = part.assign(row=part["code"].astype(str) + " " + part["name"].astype(str))
            pivot = part.pivot_table(index="row", columns="input", values="effect",
                                     aggfunc="sum", sort=False)
            bound = float(part["error_bound"].max())
            lines += [f"### {escape(str(scenario))}: by {escape(str(axis))}", "",
                      f"Method: {escape(str(part['method'].iloc[0]))}"
                      + (f"; error bound up to {bound:,.1f}." if bound > 0 else "."), "",
                      "| | " + " | ".join(escape(str(c)) for c in pivot.columns) + " |",
                      "| --- |" + " --: |" * len(pivot.columns)]
            for code, row in pivot.iterrows():
                lines.append(f"| {escape(str(code))} | " + " | ".join(f"{v:,.1f}" for v in row) + " |")
            lines.append("")
    lines += ["## Inputs that differ", ""]
    if len(comparison.inputs):
        lines += ["| Scenario | Key | Old | New | Policy |", "| --- | --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(escape(str(v)) for v in rec) + " |"
                  for rec in comparison.inputs.itertuples(index=False)]
    else:
        lines.append("None: the scenarios have the same inputs.")
    return "\n".join(lines) + "\n"

