"""Writing a comparison: comparison.xlsx, deltas.csv, attribution.csv, inputs.csv, comparison.md.

Knows formats only: everything it writes was computed by `alloc.compare.core`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from alloc.compare.core import Comparison, totals_side_by_side
from alloc.report.book import (
    AMOUNT,
    Book,
    Format,
    Part,
    Properties,
    Worksheet,
    created_on,
    with_unit,
    write_csv,
)
from alloc.text import markdown_text as escape


def write_comparison(comparison: Comparison, folder: Path) -> list[str]:
    write_csv(comparison.deltas, folder / "deltas.csv")
    write_csv(comparison.attribution.round(6), folder / "attribution.csv")
    write_csv(comparison.inputs, folder / "inputs.csv")
    _workbook(comparison, folder / "comparison.xlsx")
    (folder / "comparison.md").write_text(_markdown(comparison), encoding="utf-8")
    return ["comparison.xlsx", "deltas.csv", "attribution.csv", "inputs.csv", "comparison.md"]


def _workbook(comparison: Comparison, path: Path) -> None:
    """comparison.xlsx: a sheet per Appendix A table with the scenarios side by side, the
    difference chart, the attribution and the inputs that differ."""
    names = comparison.names
    first = comparison.scenarios[0]
    book = Book(path, Properties(title="alloc comparison " + " vs ".join(names),
                                 created=created_on(first.plan.inputs_date)))
    f = book.f
    unit = first.plan.unit
    d = comparison.deltas
    for table_id in d["table"].drop_duplicates():
        part = d[d["table"] == table_id].drop(columns=["table"])
        part = part.assign(row=part["row"].map(str), column=part["column"].map(str))
        table = first.tables[table_id]
        caption = f"{with_unit(table.title, unit)}: {' vs '.join(names)}"
        headers = ["Row", "Column", *names,
                   *(h for n in names[1:] for h in (f"{n} - {names[0]}", f"% vs {names[0]}"))]
        formats: list[Format] = [f["plain"], f["plain"], *(f["num"] for _ in names),
                                 *(fmt for _ in names[1:] for fmt in (f["num"], f["points"]))]

        def above(ws: Worksheet, _: Part, caption: str = caption) -> None:
            ws.write_string(0, 0, caption, f["caption"])

        for sheet in book.frame_sheets(table_id, part, 2, headers=headers, header=f["head_top"],
                                       formats=formats, keep_empty=True, before=above,
                                       whole="deltas.csv"):
            ws, last = sheet.ws, sheet.last
            for k in range(len(names) - 1):
                c = 2 + len(names) + 2 * k
                ws.conditional_format(3, c, last, c, {"type": "cell", "criteria": "<", "value": 0,
                                                      "format": f["fall"]})
                ws.conditional_format(3, c, last, c, {"type": "cell", "criteria": ">", "value": 0,
                                                      "format": f["rise"]})
            ws.set_column(0, 1, 14)
            ws.set_column(2, len(headers), 13)
            ws.freeze_panes(3, 2)
            ws.autofilter(2, 0, last, len(headers) - 1)
    if len(names) > 1:
        _chart_sheet(book, comparison)
    _frame_sheet(book, "Attribution", comparison.attribution.round(3),
                 f"Why the totals differ ({unit}): each policy's share of the difference against "
                 f"{names[0]} (Shapley value over the orders of applying them; the shares add up "
                 "to the total difference)", "attribution.csv")
    _frame_sheet(book, "Inputs", comparison.inputs,
                 f"Every input that differs from {names[0]}, key by key (old -> new)", "inputs.csv")
    title = " vs ".join(names).replace("&", "&&")
    book.print_setup(f"&Lalloc comparison: {title}&CPage &P of &N")
    book.close()


def _chart_sheet(book: Book, comparison: Comparison) -> None:
    f = book.f
    names = comparison.names
    totals = totals_side_by_side(comparison, "a1-priority-entity").drop(index="Total", errors="ignore")
    ws = book.sheet("Difference chart")
    ws.write_string(0, 0, with_unit(f"Difference by thematic priority against {names[0]}",
                                    comparison.scenarios[0].plan.unit), f["caption"])
    frame = pd.DataFrame({"Priority": [str(code) for code in totals.index],
                          **{f"{n} - {names[0]}": totals[f"diff_{n}"].to_numpy() for n in names[1:]}})
    last = book.write_frame(ws, frame, 2, header=f["head_top"],
                            formats=[None, *(f["num"] for _ in names[1:])], keep_empty=True)
    chart = book.add_chart({"type": "bar"})
    for k, name in enumerate(names[1:], start=1):
        chart.add_series({"name": f"{name} - {names[0]}", "categories": [ws.name, 3, 0, last, 0],
                          "values": [ws.name, 3, k, last, k]})
    chart.set_title({"name": "Difference in resources by thematic priority"})
    chart.set_x_axis({"num_format": AMOUNT})
    ws.insert_chart(2, len(names) + 1, chart, {"x_scale": 1.5, "y_scale": 1.5})


def _frame_sheet(book: Book, name: str, frame: pd.DataFrame, caption: str, whole: str) -> None:
    """A frame as it is: numbers in whole units, text as text (on further sheets past a sheet's
    rows; `whole`, the CSV file beside the workbook, holds it all)."""
    f = book.f
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
               for c in frame.columns]

    def above(ws: Worksheet, _: Part) -> None:
        ws.write_string(0, 0, caption, f["caption"])

    for sheet in book.frame_sheets(name, frame, 2, header=f["head_top"],
                                   formats=[f["num"] if n else None for n in numeric],
                                   keep_empty=True, before=above, whole=whole):
        ws = sheet.ws
        for c, column in enumerate(frame.columns):
            # wide enough for the longest text of the column (names, policies), within reason
            longest = max([len(str(column)), *(len(str(v)) for v in frame[column].head(2000))])
            ws.set_column(c, c, min(max(longest + 2, 10), 60) if not numeric[c] else 14)
        if len(sheet.records):
            ws.autofilter(2, 0, sheet.last, len(frame.columns) - 1)
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
