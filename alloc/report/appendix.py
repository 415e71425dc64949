"""Appendix A in a report folder: the tables as CSV, the workbook, the Markdown.

The only place that knows which files Appendix A makes; `report.write_report` calls it inside
its temporary folder, so the files appear whole or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from alloc.lp.solution import AMOUNT_DECIMALS, Solution
from alloc.report.book import write_csv
from alloc.report.markdown import write_markdown
from alloc.report.requirements import REQUIREMENTS_CSV, requirement_rows, requirements, sheet_columns
from alloc.report.tables import Appendix, Table, appendix_views, summarize
from alloc.report.workbook import ANNEX, Sheet, write_annex, write_workbook

TABLES_FOLDER = "tables"
UNROUNDED_FOLDER = "unrounded"
WORKBOOK = "appendix-a.xlsx"
MARKDOWN = "appendix-a.md"


def write_table_csv(table: Table, folder: Path) -> None:
    """tables/<id>.csv in whole units, and tables/unrounded/<id>.csv as computed."""
    write_csv(table.rounded, folder / f"{table.id}.csv", index=True)
    write_csv(table.values.round(AMOUNT_DECIMALS) + 0.0, folder / UNROUNDED_FOLDER / f"{table.id}.csv",
              index=True)


def write_appendix(solution: Solution, folder: Path, support: str = "rows",
                   run: Mapping[str, object] | None = None, sheets: Sequence[Sheet] = (),
                   appendix: Appendix | None = None) -> list[str]:
    """Write Appendix A for an optimal solution into `folder`; returns the names written.

    `sheets` are added to the workbook after the allocation (an explanation's rules and ranges).
    `appendix`: the solution's views when the caller has them already (`appendix_views`).
    """
    appendix = appendix if appendix is not None else appendix_views(solution, support)
    tables = appendix.tables
    summary = summarize(solution, tables, support)
    (folder / TABLES_FOLDER / UNROUNDED_FOLDER).mkdir(parents=True, exist_ok=True)
    for table in tables:
        write_table_csv(table, folder / TABLES_FOLDER)
    needs = requirements(solution, [y.total for y in summary.years])
    if needs is not None:
        write_csv(requirement_rows(solution), folder / TABLES_FOLDER / REQUIREMENTS_CSV)
        sheets = [Sheet("Requirements", f"Costed requirements: funded and unfunded ({needs.unit})",
                        needs.notes, sheet_columns(), needs.rows, bold="total",
                        csv=f"{TABLES_FOLDER}/{REQUIREMENTS_CSV}", council=True), *sheets]
    write_workbook(folder / WORKBOOK, summary, appendix, sheets)
    write_annex(folder / ANNEX, summary, solution.allocation, run or {}, sheets)
    write_markdown(folder / MARKDOWN, summary, tables, needs)
    return [f"{TABLES_FOLDER}/", WORKBOOK, ANNEX, MARKDOWN]
