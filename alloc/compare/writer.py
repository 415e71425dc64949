"""Writing a comparison: comparison.xlsx, deltas.csv, attribution.csv, inputs.csv, comparison.md.

Knows formats only: everything it writes was computed by `alloc.compare.core`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import xlsxwriter

from alloc.compare.core import Comparison, totals_side_by_side
from alloc.report.workbook import sheet_name
from alloc.report.write import write_csv
from alloc.text import markdown_text as escape


def write_comparison(comparison: Comparison, folder: Path) -> list[str]:
    write_csv(comparison.deltas, folder / "deltas.csv")
    write_csv(comparison.attribution.round(6), folder / "attribution.csv")
    write_csv(comparison.inputs, folder / "inputs.csv")
    _workbook(comparison, folder / "comparison.xlsx")
    (folder / "comparison.md").write_text(_markdown(comparison), encoding="utf-8")
    return ["comparison.xlsx", "deltas.csv", "attribution.csv", "inputs.csv", "comparison.md"]


def _workbook(comparison: Comparison, path: Path) -> None:
    names = comparison.names
    first = comparison.scenarios[0]
    book = xlsxwriter.Workbook(str(path))
    date = first.plan.inputs_date or "2000-01-01"
    book.set_properties({"title": "alloc comparison " + " vs ".join(names), "author": "alloc",
                         "created": dt.datetime.fromisoformat(date)})
    title = book.add_format({"bold": True, "font_size": 12})
    head = book.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
    text = book.add_format({})
    num = book.add_format({"num_format": "#,##0"})
    pct = book.add_format({"num_format": "0.0"})
    red = book.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})
    green = book.add_format({"font_color": "#006100", "bg_color": "#C6EFCE"})
    taken: list[str] = []
    unit = first.plan.unit
    d = comparison.deltas
    for table_id in d["table"].drop_duplicates():
        part = d[d["table"] == table_id].drop(columns=["table"])
        name = sheet_name(table_id, taken)
        taken.append(name)
        ws = book.add_worksheet(name)
        table = first.tables[table_id]
        ws.write_string(0, 0, f"{table.title} ({unit}): {' vs '.join(names)}", title)
        headers = ["Row", "Column", *names,
                   *(h for n in names[1:] for h in (f"{n} - {names[0]}", f"% vs {names[0]}"))]
        for c, h in enumerate(headers):
            ws.write_string(2, c, h, head)
        for r, record in enumerate(part.itertuples(index=False), start=3):
            values = list(record)
            ws.write_string(r, 0, str(values[0]), text)
            ws.write_string(r, 1, str(values[1]), text)
            for c, v in enumerate(values[2:], start=2):
                is_pct = c >= 2 + len(names) and (c - 2 - len(names)) % 2 == 1
                if pd.isna(v):
                    ws.write_blank(r, c, None)
                else:
                    ws.write_number(r, c, float(v), pct if is_pct else num)
        last = 2 + len(part)
        for k in range(len(names) - 1):
            c = 2 + len(names) + 2 * k
            ws.conditional_format(3, c, last, c, {"type": "cell", "criteria": "<", "value": 0,
                                                  "format": red})
            ws.conditional_format(3, c, last, c, {"type": "cell", "criteria": ">", "value": 0,
                                                  "format": green})
        ws.set_column(0, 1, 14)
        ws.set_column(2, len(headers), 13)
        ws.freeze_panes(3, 2)
        ws.autofilter(2, 0, last, len(headers) - 1)
    if len(names) > 1:
        _chart_sheet(book, comparison, taken, title, head, num)
    _frame_sheet(book, "Attribution", comparison.attribution.round(3), title, head, num,
                 f"Why the totals differ ({unit}): each input group applied alone to "
                 f"{names[0]}, the interaction, and the total difference")
    _frame_sheet(book, "Inputs", comparison.inputs, title, head, num,
                 f"Every input that differs from {names[0]}, key by key (old -> new)")
    book.close()


def _chart_sheet(book, comparison: Comparison, taken: list[str], title, head, num) -> None:
    names = comparison.names
    totals = totals_side_by_side(comparison, "a1-priority-entity").drop(index="Total", errors="ignore")
    ws = book.add_worksheet(sheet_name("Difference chart", taken))
    ws.write_string(0, 0, f"Difference by thematic priority against {names[0]} "
                    f"({comparison.scenarios[0].plan.unit})", title)
    ws.write_string(2, 0, "Priority", head)
    for k, name in enumerate(names[1:], start=1):
        ws.write_string(2, k, f"{name} - {names[0]}", head)
    for r, (code, row) in enumerate(totals.iterrows(), start=3):
        ws.write_string(r, 0, str(code))
        for k, name in enumerate(names[1:], start=1):
            ws.write_number(r, k, float(row[f"diff_{name}"]), num)
    chart = book.add_chart({"type": "bar"})
    last = 2 + len(totals)
    for k, name in enumerate(names[1:], start=1):
        chart.add_series({"name": f"{name} - {names[0]}", "categories": [ws.name, 3, 0, last, 0],
                          "values": [ws.name, 3, k, last, k]})
    chart.set_title({"name": "Difference in resources by thematic priority"})
    chart.set_x_axis({"num_format": "#,##0"})
    ws.insert_chart(2, len(names) + 1, chart, {"x_scale": 1.5, "y_scale": 1.5})


def _frame_sheet(book, name: str, frame: pd.DataFrame, title, head, num, caption: str) -> None:
    ws = book.add_worksheet(name)
    ws.write_string(0, 0, caption, title)
    for c, column in enumerate(frame.columns):
        ws.write_string(2, c, str(column), head)
    for r, record in enumerate(frame.itertuples(index=False), start=3):
        for c, v in enumerate(record):
            if isinstance(v, int | float) and not isinstance(v, bool):
                ws.write_number(r, c, float(v), num)
            else:
                ws.write_string(r, c, str(v))
    ws.set_column(0, max(len(frame.columns) - 1, 0), 22)
    if len(frame):
        ws.autofilter(2, 0, 2 + len(frame), len(frame.columns) - 1)
    ws.freeze_panes(3, 0)


def _markdown(comparison: Comparison) -> str:
    names = comparison.names
    unit = comparison.scenarios[0].plan.unit
    lines = [f"# Comparison: {escape(' vs '.join(names))}", "",
             f"Generated by alloc; whole {escape(unit)}; differences against {escape(names[0])}.", ""]
    for table_id, heading in (("a1-priority-entity", "Total by thematic priority"),
                              ("a4-entity-year", "Total by entity")):
        totals = totals_side_by_side(comparison, table_id)
        lines += [f"## {heading}", "",
                  "| | " + " | ".join(escape(c) for c in totals.columns) + " |",
                  "| --- |" + " --: |" * len(totals.columns)]
        for code, row in totals.iterrows():
            cells = ["" if pd.isna(v) else f"{v:,.1f}" if str(c).startswith("pct_") else f"{v:,.0f}"
                     for c, v in row.items()]
            lines.append(f"| {escape(str(code))} | " + " | ".join(cells) + " |")
        lines.append("")
    a = comparison.attribution
    if len(a):
        lines += ["## Why the totals differ", "",
                  "Each input group applied alone to the first scenario; the interaction is what "
                  "the single effects do not explain. Effects add up to the total difference.", ""]
        for (scenario, axis), part in a.groupby(["scenario", "axis"], sort=False):
            pivot = part.pivot_table(index="code", columns="input", values="effect",
                                     aggfunc="sum", sort=False)
            lines += [f"### {escape(str(scenario))}: by {escape(str(axis))}", "",
                      "| | " + " | ".join(escape(str(c)) for c in pivot.columns) + " |",
                      "| --- |" + " --: |" * len(pivot.columns)]
            for code, row in pivot.iterrows():
                lines.append(f"| {escape(str(code))} | " + " | ".join(f"{v:,.1f}" for v in row) + " |")
            lines.append("")
    lines += ["## Inputs that differ", ""]
    if len(comparison.inputs):
        lines += ["| Scenario | Key | Old | New |", "| --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(escape(str(v)) for v in rec) + " |"
                  for rec in comparison.inputs.itertuples(index=False)]
    else:
        lines.append("None: the scenarios have the same inputs.")
    return "\n".join(lines) + "\n"
