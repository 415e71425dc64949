"""The Council workbook as a reader gets it: a banner on every sheet, page header and chart when the
model says its figures are illustrative (and none when it does not), no technical sheet, rows tall
enough for their wrapped text, and, where LibreOffice is installed, a rendering to PDF with the
expected pages and no text printed over other text.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pytest

import alloc
from alloc.report.book import BANNER, lines_of
from alloc.report.tables import appendix_views, summarize
from alloc.report.workbook import ANNEX

PROJECT = Path(__file__).parents[2]
MODELS = Path(__file__).parents[1] / "appendix_models"
TECHNICAL = {"Allocation", "Constraints", "Flexibility", "Ranging", "Reduction options", "Run"}
SHA256 = re.compile(r"\b[0-9a-f]{64}\b")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference model's baseline, whose model says its figures are illustrative."""
    reports = tmp_path_factory.mktemp("reports")
    result = alloc.run("baseline", PROJECT)
    alloc.write(result, reports, PROJECT)
    return reports / "baseline"


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model that does not say its figures are illustrative."""
    reports = tmp_path_factory.mktemp("plain")
    result = alloc.run("fractions", MODELS)
    alloc.write(result, reports, MODELS)
    return reports / "fractions"


def books(folder: Path) -> list[openpyxl.Workbook]:
    return [openpyxl.load_workbook(folder / name) for name in ("appendix-a.xlsx", ANNEX)]


def test_every_sheet_page_and_chart_of_an_illustrative_model_says_so(baseline: Path) -> None:
    for book in books(baseline):
        for ws in book.worksheets:
            assert str(ws["A1"].value).startswith(BANNER), ws.title
            assert ws["A1"].font.b and ws["A1"].font.color.rgb.endswith("C00000")
            assert BANNER in (ws.oddHeader.center.text or ""), ws.title
            for chart in ws._charts:
                title = "".join(run.t for p in chart.title.tx.rich.p for run in (p.r or []))
                assert BANNER in title, (ws.title, title)
    assert BANNER in (baseline / "appendix-a.md").read_text(encoding="utf-8")
    assert '"illustrative": true' in (baseline / "run.json").read_text(encoding="utf-8")


def test_a_model_that_does_not_say_so_has_no_banner(plain: Path) -> None:
    for book in books(plain):
        for ws in book.worksheets:
            assert BANNER not in (ws.oddHeader.center.text or "")
            for row in ws.iter_rows():
                assert not any(BANNER in str(c.value) for c in row if c.value), ws.title
    assert BANNER not in (plain / "appendix-a.md").read_text(encoding="utf-8")


def test_the_council_workbook_has_no_technical_sheet(baseline: Path) -> None:
    council, annex = books(baseline)
    assert not TECHNICAL & set(council.sheetnames)
    assert {"Allocation", "Constraints", "Reduction options", "Run"} <= set(annex.sheetnames)
    for ws in council.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert not SHA256.search(str(cell.value or "")), (ws.title, cell.coordinate)
    assert any(SHA256.search(str(c.value)) for row in annex["Run"].iter_rows() for c in row)
    assert council.sheetnames[:3] == ["Cover", "Summary", "Financial plan"]


def test_tabs_are_named_as_the_tables_are_titled(baseline: Path) -> None:
    council = books(baseline)[0]
    for ws in council.worksheets:
        if ws.title.startswith("A") and ws.title[1].isdigit():
            titles = [str(c.value) for c in ws["A"] if str(c.value).startswith("Table ")]
            assert titles and all(t.startswith(f"Table {ws.title[:2]}.") for t in titles)
            funds = ws.title.partition(", ")[2]
            if funds:
                assert all(funds in t for t in titles), ws.title


def test_names_not_codes_where_a_reader_reads(baseline: Path) -> None:
    """Codes stay in a narrow first column; the second column holds names, never the code."""
    council = books(baseline)[0]
    plan = alloc.load("baseline", PROJECT)
    names = {i.code: i.name for items in (plan.entities, plan.priorities, plan.goals)
             for i in items}
    for ws in council.worksheets:
        for row in ws.iter_rows(min_col=1, max_col=2):
            code, name = row[0].value, row[1].value
            if code in names and name is not None:
                assert name == names[code], (ws.title, row[0].coordinate)
        if (ws.title[:1] == "A" and ws.title[1].isdigit()) or ws.title in ("Financial plan",
                                                                           "Previous period"):
            assert widths(ws)[1] <= 24, ws.title


def widths(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[int, float]:
    """Each column's width (a <col> element may span several columns)."""
    out: dict[int, float] = {}
    for dim in ws.column_dimensions.values():
        if dim.width:
            for c in range(dim.min, dim.max + 1):
                out[c] = dim.width
    return out


def test_rows_are_tall_enough_for_their_wrapped_text(baseline: Path) -> None:
    council = books(baseline)[0]
    checked = 0
    for ws in council.worksheets:
        merged = {r.min_row: r for r in ws.merged_cells.ranges}
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell.value, str) or not cell.alignment.wrap_text:
                    continue
                span = merged.get(cell.row)
                cols = range(span.min_col, span.max_col + 1) if span and span.min_col == cell.column \
                    else [cell.column]
                width = sum(widths(ws).get(c, 8.43) for c in cols)
                needed = lines_of(cell.value, width)
                height = ws.row_dimensions[cell.row].height or 15.0
                assert height >= 15.0 * needed - 1e-9 or needed == 1, (ws.title, cell.coordinate)
                checked += 1
    assert checked > 100


def test_the_financial_plan_adds_up_as_decision_5_shows_it(baseline: Path) -> None:
    result = alloc.run("baseline", PROJECT)
    st = appendix_views(result.solution).statement
    rows = st.rows
    kinds = [r.kind for r in rows]
    assert kinds.count("balance") == 1
    for row in rows:
        if row.kind in ("subtotal", "total"):
            assert list(row.values) == [sum(v) for v in zip(*(rows[m].values for m in row.members),
                                                              strict=True)]
        if row.kind == "line":
            assert not row.name.startswith(("revenue:", "allocated:", "support_costs:"))
    expenses = next(r for r in rows if r.name.startswith("Total expenses: regular"))
    assert all(v > 0 for v in expenses.values)
    ceiling = next(r for r in rows if r.name.startswith("Total revenue"))
    summary = summarize(result.solution, appendix_views(result.solution).tables)
    assert list(ceiling.values) == [y.ceiling for y in summary.years]
    groups = [r.name for r in rows if r.kind == "subtotal"]
    assert "Total assessed contributions" in groups and "Total cost recovery" in groups


# -- rendered by LibreOffice -------------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOTEXT = shutil.which("pdftotext")


@pytest.mark.skipif(not (SOFFICE and PDFTOTEXT),
                    reason="LibreOffice and poppler-utils are not installed (apt-get install "
                           "libreoffice-calc-nogui poppler-utils)")
def test_rendered_pages_have_no_text_over_text(baseline: Path, tmp_path: Path) -> None:
    shutil.copy(baseline / "appendix-a.xlsx", tmp_path / "appendix-a.xlsx")
    subprocess.run([str(SOFFICE), "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "appendix-a.xlsx")],
                   check=True, capture_output=True, timeout=300)
    pdf = tmp_path / "appendix-a.pdf"
    html = subprocess.run([str(PDFTOTEXT), "-bbox", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    pages = html.split("<page ")[1:]
    result = alloc.run("baseline", PROJECT)
    views = appendix_views(result.solution).views
    # a page per table block (its title once on it), and at least one for each other sheet
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">')
    text = re.compile(r'<word [^>]*>([^<]*)</word>')
    titles = []
    for page in pages:
        words = text.findall(page)
        titles.append(sum(1 for a, b in itertools.pairwise(words)
                          if a == "Table" and re.fullmatch(r"A\d\.", b)))
    assert titles.count(1) == len(views)
    assert len(pages) >= len(views) + 6
    for number, page in enumerate(pages, start=1):
        boxes = np.array([[float(v) for v in m] for m in word.findall(page)])
        assert len(boxes), f"page {number} is empty"
        assert ">ILLUSTRATIVE<" in page, f"page {number} has no banner in its header"
        x0, y0, x1, y1 = boxes.T
        w = np.clip(np.minimum.outer(x1, x1) - np.maximum.outer(x0, x0), 0, None)
        h = np.clip(np.minimum.outer(y1, y1) - np.maximum.outer(y0, y0), 0, None)
        area = (x1 - x0) * (y1 - y0)
        overlap = w * h / np.maximum(np.minimum.outer(area, area), 1e-9)
        np.fill_diagonal(overlap, 0)
        i, j = np.unravel_index(np.argmax(overlap), overlap.shape)
        assert overlap[i, j] < 0.25, f"page {number}: two words printed over each other"
