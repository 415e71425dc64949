"""comparison.xlsx as a document: the scenarios side by side with the figures of their own
Appendix A tables, differences that add up, rows in the framework's order, a cover with each
scenario's title, question and input hashes, the illustrative banner on every sheet, page header
and chart title exactly when the model says so, and the print setup of the other workbooks."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alloc._version import __version__
from alloc.compare.core import Comparison, compare
from alloc.compare.matrix import AXES, matrix, merge_order, question
from alloc.compare.writer import BANNER, height, matrices, write_comparison

REPO = Path(__file__).resolve().parents[2]
NAMES = ["baseline", "cyber-standalone", "innovation-security-goals"]
SHEETS = {axis: title for axis, _, title in AXES}


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    return compare(NAMES, REPO)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each scenario run on its own by the command: its tables/*.csv are the reference."""
    reports = tmp_path_factory.mktemp("runs")
    for name in NAMES:
        result = subprocess.run([sys.executable, "-m", "alloc", "run", name, "--project",
                                 str(REPO), "--reports", str(reports), "--quiet"],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    return {name: reports / name / "tables" for name in NAMES}


def _write(comparison: Comparison, folder: Path, illustrative: bool) -> Path:
    for s in comparison.scenarios:   # the model's `illustrative` key, read into the plan
        object.__setattr__(s.plan, "illustrative", illustrative)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_comparison(comparison, folder)
    finally:
        for s in comparison.scenarios:
            object.__delattr__(s.plan, "illustrative") if "illustrative" in vars(s.plan) else None
    return folder / "comparison.xlsx"


@pytest.fixture(scope="module")
def marked(comparison: Comparison, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(comparison, tmp_path_factory.mktemp("marked"), True)


@pytest.fixture(scope="module")
def plain(comparison: Comparison, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(comparison, tmp_path_factory.mktemp("plain"), False)


def _sheet_rows(path: Path, sheet: str) -> tuple[list[str], list[tuple]]:
    """The header and the records (code, name, values...) of a matrix sheet."""
    ws = openpyxl.load_workbook(path)[sheet]
    rows = [tuple(c.value for c in r) for r in ws.iter_rows()]
    top = next(i for i, r in enumerate(rows) if r[0] == "Code")
    records = []
    for r in rows[top + 1:]:
        if r[1] is None:
            break
        records.append(r)
    return list(rows[top]), records


def test_side_by_side_figures_are_each_scenarios_own_tables(comparison, runs, marked) -> None:
    for _, table_id, title in AXES:
        _, records = _sheet_rows(marked, title)
        lines = [r for r in records if r[0]]
        assert lines, title
        for k, name in enumerate(NAMES):
            csv = pd.read_csv(runs[name] / f"{table_id}.csv", index_col=0, dtype={0: str})
            csv.index = csv.index.astype(str)
            for r in lines:
                expected = int(csv.at[r[0], "Total"]) if r[0] in csv.index else 0
                assert r[2 + k] == expected, (title, name, r[0])
            total = next(r for r in records if r[1] == "Total")
            assert total[2 + k] == int(csv.at["Total", "Total"]), (title, name)
            shown = {r[0] for r in lines}
            assert set(csv.index) - {"Total"} <= shown, (title, name)


def test_differences_add_up_and_percentages_are_against_the_first(marked) -> None:
    n = len(NAMES)
    for title in SHEETS.values():
        header, records = _sheet_rows(marked, title)
        assert header[2 + n] == f"Difference: {NAMES[1]} - {NAMES[0]}"
        lines = [r for r in records if r[0]]
        total = records[-1]
        assert total[1] == "Total"
        for c in range(2, 2 + n + 2 * (n - 1)):
            if c >= 2 + n and (c - 2 - n) % 2 == 1:
                continue     # a percentage
            assert sum(r[c] for r in lines) == total[c], (title, header[c])
        # subtotals: the rows of their group, just above them
        group: list[tuple] = []
        for r in records[:-1]:
            if r[0]:
                group.append(r)
            else:
                assert r[1].startswith("Subtotal")
                for c in range(2, 2 + n):
                    assert r[c] == sum(g[c] for g in group)
                group = []
        for r in records:
            for k in range(1, n):
                diff, pct = r[2 + n + 2 * (k - 1)], r[3 + n + 2 * (k - 1)]
                assert diff == r[2 + k] - r[2]
                if r[2] == 0:
                    assert pct == "n/a"
                else:
                    assert pct == pytest.approx(diff / abs(r[2]))


def test_a_new_priority_and_new_goals_have_no_percentage(marked) -> None:
    _, records = _sheet_rows(marked, SHEETS["priority"])
    tp6 = next(r for r in records if r[0] == "TP6")
    assert tp6[2] == 0 and tp6[3] > 0 and tp6[1] == "Cybersecurity"
    assert tp6[3 + len(NAMES)] == "n/a"
    _, goals = _sheet_rows(marked, SHEETS["goal"])
    assert {"G3", "G4"} <= {r[0] for r in goals}


def test_rows_in_the_frameworks_order_with_names(comparison, marked) -> None:
    base, cyber, goals = (s.plan for s in comparison.scenarios)
    _, records = _sheet_rows(marked, SHEETS["priority"])
    assert [r[0] for r in records if r[0]] == (
        [p.code for p in cyber.priorities if not p.support]
        + [p.code for p in cyber.priorities if p.support])
    names = {p.code: p.name for p in base.priorities}
    assert all(r[1] == names[r[0]] for r in records if r[0] in names)
    _, records = _sheet_rows(marked, SHEETS["entity"])
    assert [r[0] for r in records if r[0]] == [e.code for e in base.entities]
    _, records = _sheet_rows(marked, SHEETS["goal"])
    codes = [r[0] for r in records if r[0]]
    assert codes[:4] == [g.code for g in goals.goals]
    assert [r[1] for r in records if not r[0]] == [
        "Subtotal: Strategic goals (thematic priorities)", "Subtotal: Support lines (enablers)",
        "Total"]


def _cells(path: Path) -> dict[str, list[str]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: [str(c.value) for r in ws.iter_rows() for c in r if c.value is not None]
            for ws in book.worksheets}


def _charts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]


def test_banner_on_every_sheet_header_and_chart_title_iff_illustrative(marked, plain) -> None:
    book = openpyxl.load_workbook(marked)
    assert len(book.worksheets) >= 8
    for ws in book.worksheets:
        assert str(ws["A1"].value).startswith(BANNER), ws.title
        assert BANNER in (ws.oddHeader.center.text or ""), ws.title
        assert ws.print_title_rows and ws.print_title_rows.startswith("$1:"), ws.title
    charts = _charts(marked)
    assert len(charts) == 6
    assert all(BANNER in c for c in charts)
    for sheet, cells in _cells(plain).items():
        assert not any(BANNER in v for v in cells), sheet
    for ws in openpyxl.load_workbook(plain).worksheets:
        assert BANNER not in (ws.oddHeader.center.text or ""), ws.title
    assert not any(BANNER in c for c in _charts(plain))
    assert BANNER in (marked.parent / "comparison.md").read_text()
    assert BANNER not in (plain.parent / "comparison.md").read_text()


def test_cover_names_each_scenario_its_question_and_its_inputs(comparison, plain) -> None:
    cover = " ".join(_cells(plain)["Cover"])
    for s in comparison.scenarios:
        assert s.plan.title in cover
        assert s.question and s.question in cover
        assert s.plan.inputs_date in cover and s.plan.model in cover
        for label, sha in s.plan.input_files.items():
            assert label in cover and sha in cover
    assert __version__ in cover and comparison.scenarios[0].plan.unit in cover
    assert comparison.scenarios[1].question.startswith("What would the allocation look like")


def test_print_setup_as_the_other_workbooks(plain) -> None:
    for ws in openpyxl.load_workbook(plain).worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert str(ws.page_setup.paperSize) == "9"
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
        assert "Page &P of &N" in ws.oddFooter.right.text
        assert ws.oddHeader.right.text == "DRAFT"
        assert ws.oddHeader.left.text == "Comparison of " + " vs ".join(NAMES)


def test_wrapped_text_has_the_row_height_it_needs(plain) -> None:
    """What LibreOffice would otherwise draw over the next row: every wrapped cell's row is as
    tall as its text needs in its column (merged cells: over their columns)."""
    for ws in openpyxl.load_workbook(plain).worksheets:
        merged = {(m.min_row, m.min_col): (m.min_col, m.max_col) for m in ws.merged_cells.ranges}
        widths: dict[int, float] = {}
        for dim in ws.column_dimensions.values():   # a run of columns of one width is one entry
            for c in range(dim.min, dim.max + 1):
                widths[c] = dim.width - 0.71        # xlsxwriter adds a cell's padding
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell.value, str) or not cell.alignment.wrap_text:
                    continue
                first, last = merged.get((cell.row, cell.column), (cell.column, cell.column))
                width = sum(widths.get(c, 8.43) for c in range(first, last + 1))
                needed = height(cell.value, width, cell.font.sz or 11.0, bool(cell.font.b),
                                mono=cell.font.name == "Courier New")
                tall = ws.row_dimensions[cell.row].height or 15.0
                assert tall >= needed - 1e-6, (ws.title, cell.coordinate, cell.value[:40])


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice (soffice) and poppler-utils are not installed")
def test_rendered_by_libreoffice_every_page_marked(marked, tmp_path: Path) -> None:
    shutil.copy(marked, tmp_path / "comparison.xlsx")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "comparison.xlsx"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=240)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "comparison.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    sheets = len(openpyxl.load_workbook(marked).worksheets)
    assert sheets <= len(pages) <= 4 * sheets
    for k, page in enumerate(pages, start=1):
        assert BANNER in page and "DRAFT" in page, k
        assert re.search(rf"Page {k} of {len(pages)}", page), k
    # the longest priority name is on one or two lines of its cell, whole
    assert "Inclusive and secure telecommunication/ICT" in text


# -- the parts -----------------------------------------------------------------------------------

@given(st.lists(st.lists(st.sampled_from("ABCDEFGH"), unique=True, max_size=8), min_size=1,
                max_size=4))
def test_merge_order_keeps_every_code_once_and_the_first_order(orders: list[list[str]]) -> None:
    merged = merge_order(orders)
    assert sorted(merged) == sorted({c for o in orders for c in o})
    assert [c for c in merged if c in orders[0]] == orders[0]


def test_a_new_code_goes_where_its_own_order_puts_it() -> None:
    assert merge_order([["T1", "T2", "T5", "E1"], ["T1", "T2", "T5", "T6", "E1"]]) == [
        "T1", "T2", "T5", "T6", "E1"]
    assert merge_order([["T2", "T3"], ["T1", "T2"]]) == ["T1", "T2", "T3"]


def test_question_from_the_comment_block(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text("# Title\n# Question: what if\n# the unit rises? It buys more.\n"
                 "[scenario]\ntitle = 't'\n")
    assert question(f) == "What if the unit rises?"
    f.write_text("# Title only\n[scenario]\ndescription = '''A\n  described one.'''\n")
    assert question(f) == "A described one."
    f.write_text("[scenario]\n")
    assert question(f) == ""
    assert question(REPO / "scenarios" / "baseline.toml").startswith("How would the regular budget")


def test_matrix_of_one_scenario_against_itself_has_zero_differences(comparison) -> None:
    a1 = comparison.scenarios[0].tables["a1-priority-entity"]
    m = matrix([a1, a1], "priority")
    assert all(r.differences == (0,) for r in m.rows)
    assert [r.code for r in m.lines] == a1.rows
    assert len(matrices(comparison)) == 3
    assert math.isclose(sum(r.values[0] for r in m.lines), m.rows[-1].values[0])


def test_a_long_list_of_inputs_goes_on_numbered_sheets(tmp_path: Path, monkeypatch) -> None:
    """Moved from tests/report/test_sheet_limits.py: the matrices and the attribution are as
    long as the framework; the inputs that differ can be any number, and go on as many sheets
    as they take, each with its banner, title and header, every input once and in order."""
    from alloc.report import book as base

    comparison = compare(["baseline", "cyber-standalone"], REPO)
    assert len(comparison.inputs) > 60
    monkeypatch.setattr(base, "MAX_ROWS", 72)
    folder = _write(comparison, tmp_path / "long", True).parent
    wb = openpyxl.load_workbook(folder / "comparison.xlsx")
    names = [n for n in wb.sheetnames if n.startswith("Inputs that differ")]
    top = 3                                         # banner, title, a blank row, the header
    room = 72 - top - 1
    assert names == ["Inputs that differ"] + [f"Inputs that differ ({k})" for k in
                                              range(2, -(-len(comparison.inputs) // room) + 1)]
    assert len(names) == 2
    keys = []
    for name in names:
        ws = wb[name]
        assert str(ws["A1"].value).startswith(BANNER)
        assert ws.cell(top + 1, 1).value == "Scenario" and ws.max_row <= 72
        keys += [ws.cell(r, 2).value for r in range(top + 2, ws.max_row + 1)
                 if ws.cell(r, 2).value is not None]
    assert keys == comparison.inputs["key"].tolist()
    note = wb[names[0]].cell(top + 1, 7).value
    assert "inputs.csv holds the whole table" in note


@st.composite
def _tables(draw: st.DrawFn) -> list:
    """Two to four versions of a table: each its own subset of the codes (in one framework
    order), its own whole figures, grouped into thematic rows and support lines."""
    from alloc.report.tables import TOTAL, Table

    thematic, support = ["T1", "T2", "T3", "T4"], ["S1", "S2"]
    out = []
    for _ in range(draw(st.integers(2, 4))):
        rows = ([c for c in thematic if draw(st.booleans())] or ["T1"]) + \
               ([c for c in support if draw(st.booleans())] or ["S1"])
        figures = [draw(st.integers(0, 10**6)) for _ in rows]
        frame = pd.DataFrame({"Total": [*figures, sum(figures)]}, index=[*rows, TOTAL])
        groups = (("Thematic", tuple(c for c in rows if c in thematic)),
                  ("Support", tuple(c for c in rows if c in support)))
        out.append(Table("a1-priority-entity", "t", "u", "s", "priority", frame.astype(float),
                         frame, row_groups=groups, names={c: f"name {c}" for c in rows}))
    return out


@given(_tables())
def test_a_matrix_adds_up_and_keeps_every_row_in_order(tables: list) -> None:
    m = matrix(tables, "priority")
    lines = m.lines
    codes = [r.code for r in lines]
    assert sorted(codes) == sorted({c for t in tables for c in t.rows})
    for t in tables:     # each version's own order kept (the framework's, where they share codes)
        assert [c for c in codes if c in t.rows] == t.rows
    if all(set(t.rows) <= set(tables[0].rows) for t in tables):
        assert codes == tables[0].rows
    total = m.rows[-1]
    for k, t in enumerate(tables):
        assert sum(r.values[k] for r in lines) == total.values[k] == int(t.rounded.at["Total", "Total"])
        for r in lines:
            assert r.values[k] == (int(t.rounded.at[r.code, "Total"]) if r.code in t.rows else 0)
    for j in range(len(tables) - 1):
        assert sum(r.differences[j] for r in lines) == total.differences[j]
        subtotals = [r for r in m.rows if r.kind == "subtotal"]
        assert sum(r.differences[j] for r in subtotals) == total.differences[j]


def test_a_scenario_without_a_solution_is_named_on_the_cover(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "scenarios").mkdir(parents=True)
    (project / "models").symlink_to(REPO / "models")
    shutil.copy(REPO / "scenarios" / "baseline.toml", project / "scenarios")
    (project / "scenarios" / "broke.toml").write_text(
        '[scenario]\nparent = "baseline"\ntitle = "=Broke & <b>"\n'
        '[financial_plan.growth]\ncut = 0.9\n')
    comparison = compare(["baseline", "broke"], project)
    book = _write(comparison, tmp_path / "out", False)
    cells = _cells(book)
    assert list(cells) == ["Cover", "Inputs that differ"]
    assert "=Broke & <b>" in cells["Cover"]
    assert any("broke is infeasible" in v for v in cells["Cover"])
