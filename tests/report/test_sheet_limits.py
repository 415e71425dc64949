"""Nothing cut at the edge of a sheet (issue 16): Excel holds 1,048,576 rows x 16,384 columns,
and xlsxwriter drops whatever is written beyond them without a word (it returns -1, which no
writer looked at). Every sheet alloc writes comes from `alloc.report.book`, which refuses a cell
beyond the sheet (`SheetTooLarge`) and splits a frame too long for one sheet over numbered
sheets, each with its header (and table), with a note saying how many sheets and rows there are
and which CSV file holds the whole table.

The limit is a constant of the base, read when a sheet is written: most tests lower it (to a
few dozen rows) and write real workbooks through the real writers, read back with openpyxl;
`test_true_row_limit_*` write at Excel's own limit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from alloc.cli import main
from alloc.errors import SheetTooLarge
from alloc.lp.build import build
from alloc.lp.solution import Solution
from alloc.lp.solve import solve
from alloc.model.load import load_plan
from alloc.model.scenario import resolve
from alloc.model.validate import validate
from alloc.report import book as base
from alloc.report.book import MAX_COLS, MAX_ROWS, Book, Properties, created_on, sheet_name, split_rows
from alloc.report.tables import appendix_a, summarize
from alloc.report.workbook import Sheet, write_annex
from alloc.sweep.core import Parameter, grid, run_variants, write_sweep

TESTS = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def tiny() -> Solution:
    solution = solve(build(load_plan("tiny", TESTS / "project")))
    assert solution.optimal
    return solution


def new_book(path: Path) -> Book:
    return Book(path, Properties(title="limits", created=created_on("2024-01-01")))


def values(ws: openpyxl.worksheet.worksheet.Worksheet, first: int, width: int) -> list[list[object]]:
    """The rows of a sheet from row `first` (1-based), `width` columns."""
    return [list(row) for row in ws.iter_rows(min_row=first, max_col=width, values_only=True)]


# -- the plan and the guard -------------------------------------------------------------------------

def test_split_rows_at_the_true_limit() -> None:
    assert (MAX_ROWS, MAX_COLS) == (1_048_576, 16_384)
    assert split_rows(0, 0) == [range(0)]
    assert split_rows(1_048_575, 0) == [range(0, 1_048_575)]          # header + 1,048,575 rows
    assert split_rows(1_048_576, 0) == [range(0, 1_048_575), range(1_048_575, 1_048_576)]
    assert split_rows(2_500_000, 2) == [range(0, 1_048_573), range(1_048_573, 2_097_146),
                                        range(2_097_146, 2_500_000)]
    with pytest.raises(SheetTooLarge, match="no room for a record"):
        split_rows(1, MAX_ROWS - 1)


def test_a_cell_beyond_the_sheet_is_refused_not_dropped(tmp_path: Path) -> None:
    """At Excel's own limits: xlsxwriter alone returns -1 and writes nothing."""
    book = new_book(tmp_path / "edge.xlsx")
    ws = book.sheet("edge")
    ws.write_number(MAX_ROWS - 1, MAX_COLS - 1, 1.0)                    # the last cell is fine
    for write in (lambda: ws.write_number(MAX_ROWS, 0, 2.0),
                  lambda: ws.write_string(0, MAX_COLS, "x"),
                  lambda: ws.write_row(MAX_ROWS - 1, MAX_COLS - 2, [1, 2, 3]),
                  lambda: ws.add_table(MAX_ROWS - 2, 0, MAX_ROWS, 1),
                  lambda: ws.conditional_format(0, 0, MAX_ROWS, 0, {"type": "no_blanks"}),
                  lambda: ws.merge_range(0, MAX_COLS - 1, 0, MAX_COLS, "", None)):
        with pytest.raises(SheetTooLarge, match=r"'edge': cell .* outside the 1,048,576 rows x "
                                                r"16,384 columns"):
            write()
    with pytest.raises(SheetTooLarge, match=r"'edge': a table of 3 rows and 2 columns from A1048574"):
        book.write_frame(ws, pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6]}), MAX_ROWS - 3)
    book.close()


def test_numbered_sheet_names() -> None:
    assert sheet_name("Allocation", number=2) == "Allocation (2)"
    assert sheet_name("x" * 40, number=12) == "x" * 26 + " (12)"
    assert sheet_name("a/b", ["a-b (2)"], number=2) == "a-b (2) (2)"


@pytest.mark.parametrize("width", [5, 6])
def test_a_frame_too_wide_is_refused_before_anything_is_written(tmp_path: Path, monkeypatch,
                                                                 width: int) -> None:
    monkeypatch.setattr(base, "MAX_COLS", 5)
    book = new_book(tmp_path / "wide.xlsx")
    frame = pd.DataFrame({f"c{k}": [1.0] * 30 for k in range(width)})
    if width == 6:
        with pytest.raises(SheetTooLarge, match="'wide': the table has 6 columns, more than the 5 "
                                                r"a sheet holds \(wide.csv holds the whole table\)"):
            book.frame_sheets("wide", frame, whole="wide.csv")
        assert book.names == []
    else:       # as wide as the sheet: fits, but a split leaves no column for its note
        monkeypatch.setattr(base, "MAX_ROWS", 20)
        with pytest.raises(SheetTooLarge, match="leave none for the note"):
            book.frame_sheets("wide", frame)
        assert len(book.frame_sheets("wide", frame.head(19))) == 1
    book.close()


# -- a generic frame through the base -------------------------------------------------------------

def test_a_generic_frame_goes_on_numbered_sheets_with_its_layout(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(base, "MAX_ROWS", 20)
    n = 45                                           # 17 rows fit below a header at row 3 of 20
    frame = pd.DataFrame({
        "code": [f"=C{k}" if k % 7 == 0 else f"C{k}" for k in range(n)],   # text stays text
        "amount": [float("nan") if k % 5 == 0 else 1000.5 * k for k in range(n)],
        "count": list(range(n)),
        "flag": [k % 2 == 0 for k in range(n)],
        "note": [None if k % 3 == 0 else "" if k % 3 == 1 else "x" for k in range(n)]})
    path = tmp_path / "generic.xlsx"
    book = new_book(path)
    captions = []

    def above(ws, part) -> None:
        captions.append((part.number, part.count, part.top, part.records))
        ws.write_string(0, 0, f"Caption {part.number}", book.f["caption"])

    parts = book.frame_sheets("Inputs", frame, 2, header=book.f["head_top"],
                              formats=[None, book.f["num"], None, None, None], keep_empty=True,
                              before=above, whole="inputs.csv")
    with pytest.raises(SheetTooLarge, match="'chart data': a table of 45 rows"):
        book.frame_sheets("chart data", frame, 2, split=False)
    book.close()
    assert [p.ws.get_name() for p in parts] == ["Inputs", "Inputs (2)", "Inputs (3)"]
    assert captions == [(1, 3, 2, range(0, 17)), (2, 3, 2, range(17, 34)), (3, 3, 2, range(34, 45))]
    assert [p.last for p in parts] == [19, 19, 13]

    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Inputs", "Inputs (2)", "Inputs (3)"]     # "chart data": not made
    got = []
    for k, name in enumerate(wb.sheetnames, start=1):
        ws = wb[name]
        assert ws["A1"].value == f"Caption {k}"
        assert values(ws, 3, 5)[0] == ["code", "amount", "count", "flag", "note"]
        assert ws.max_row <= 20
        got += values(ws, 4, 5)
        for cell in ws["A"][3:]:
            assert cell.data_type == "s"
        assert all(c.number_format == "#,##0" for c in ws["B"][3:] if c.value is not None)
    expected = [[c, None if a != a else a, k, f, None if not isinstance(v, str) else v]
                for k, (c, a, f, v) in enumerate(zip(frame["code"], frame["amount"], frame["flag"],
                                                     frame["note"], strict=True))]
    assert got == expected                                           # every row once, in order
    notes = [wb[name]["G3"].value for name in wb.sheetnames]
    assert notes[0] == ("Too long for one sheet: rows 1 to 17 of the 45 are here, the rest on the "
                        "next 2 sheets ('Inputs (2)' to 'Inputs (3)'): 3 sheets in all; "
                        "inputs.csv holds the whole table.")
    assert notes[2] == ("Rows 35 to 45 of the 45 of the table that starts on sheet 'Inputs': "
                        "sheet 3 of 3; inputs.csv holds the whole table.")


# -- the Appendix A workbook: the allocation and an explanation's sheet ----------------------------

def long_allocation(rows: int) -> pd.DataFrame:
    k = np.arange(rows)
    return pd.DataFrame({
        "entity": [f"E{i % 7}" for i in k], "priority": [f"TP{i % 3}" for i in k],
        "output": [f"PS{i % 2}" for i in k], "year": 2024 + k % 4,
        "fund": np.where(k % 5 == 0, "=cmd|' /C calc'!A0", "regular"),
        "amount": np.round(k * 1.234567, 6)})


def test_a_long_allocation_goes_on_numbered_sheets_each_a_table(tiny: Solution, tmp_path: Path,
                                                                monkeypatch) -> None:
    monkeypatch.setattr(base, "MAX_ROWS", 100)
    allocation = long_allocation(250)                  # 99 rows a sheet: 99 + 99 + 52
    constraints = pd.DataFrame({
        "binding": [k % 4 == 0 for k in range(150)], "name": [f"rule {k}" for k in range(150)],
        "slack": [None if k % 6 == 0 else k / 8 for k in range(150)]})
    sheet = Sheet("Constraints", "Rules", ("A note.",),
                  (("binding", "Binding", "flag", 8), ("name", "Rule", "text", 11),
                   ("slack", "Slack", "detail", 12)), constraints, bold="binding",
                  csv="constraints.csv")
    tables = appendix_a(tiny, "rows")
    path = tmp_path / "technical-annex.xlsx"
    write_annex(path, summarize(tiny, tables, "rows"), allocation, {"scenario": "tiny"}, [sheet])

    wb = openpyxl.load_workbook(path)
    names = wb.sheetnames
    assert names == ["Allocation", "Allocation (2)", "Allocation (3)",
                     "Constraints", "Constraints (2)", "Run"]
    headers = ["entity", "priority", "output", "year", "fund", "amount (CHF thousands)"]
    rows = []
    for k, (name, count) in enumerate(zip(names[:3], (99, 99, 52), strict=True), start=1):
        ws = wb[name]
        (table,) = ws.tables.values()
        assert table.name == ("Allocation" if k == 1 else f"Allocation_{k}")
        assert table.ref == f"A1:F{count + 1}" and table.autoFilter is not None
        assert [c.value for c in ws[1][:6]] == headers
        assert ws.freeze_panes == "A2" and ws.max_row == count + 1
        assert all(c.number_format == "#,##0.000" for c in ws["F"][1:])
        assert all(c.data_type == "s" for c in ws["E"][1:])            # "=cmd..." stays text
        rows += values(ws, 2, 6)
    expected = [list(r) for r in allocation.itertuples(index=False)]
    assert rows == expected
    note = wb["Allocation"]["H1"].value
    assert "rows 1 to 99 of the 250" in note and "3 sheets in all" in note
    assert "allocation.csv holds the whole table" in note
    assert "'Allocation (2)' to 'Allocation (3)'" in note

    got = []
    for name, count in (("Constraints", 96), ("Constraints (2)", 54)):  # header at row 4 of 100
        ws = wb[name]
        assert ws["A1"].value == "Rules" and ws["A2"].value == "A note."
        assert [c.value for c in ws[4][:3]] == ["Binding", "Rule", "Slack"]
        assert ws.auto_filter.ref == f"A4:C{4 + count}"
        for row in ws.iter_rows(min_row=5, max_col=3):
            got.append([c.value for c in row])
            assert row[1].font.b == (row[0].value == "yes")
            assert row[2].number_format == "#,##0.000"                 # a blank cell keeps it
    assert got == [["yes" if b else "", n, None if s != s or s is None else s]
                   for b, n, s in constraints.itertuples(index=False)]
    assert "constraints.csv holds the whole table" in wb["Constraints (2)"]["E4"].value


def test_the_allocation_refuses_an_amount_that_is_not_a_number(tiny: Solution, tmp_path: Path) -> None:
    allocation = long_allocation(3)
    allocation.loc[1, "amount"] = float("inf")
    tables = appendix_a(tiny, "rows")
    with pytest.raises(ValueError, match="not a finite number"):
        write_annex(tmp_path / "a.xlsx", summarize(tiny, tables, "rows"), allocation, {})


# -- the true limit ---------------------------------------------------------------------------------

def test_true_row_limit_a_frame_of_1048600_rows_goes_on_two_sheets(tmp_path: Path) -> None:
    """1,048,600 records of two narrow columns, at Excel's own limit and through the base as every
    workbook uses it: the first sheet ends on row 1,048,576 (the header and 1,048,575 records),
    the second holds the other 25. Most values are missing (a cell xlsxwriter does not store)
    so that the test stays small (about 1 s and 300 MB, where storing every cell takes xlsxwriter
    7 s and 650 MB for one column, 14 s and 780 MB for two); the records that are there sit on
    the rows that count: the first and the last of each sheet, and every 4,096th."""
    n = MAX_ROWS + 24
    k = np.arange(n)
    kept = (k % 4096 == 0) | (k >= MAX_ROWS - 3)
    frame = pd.DataFrame({"record": np.where(kept, k + 1.0, np.nan),
                          "code": [f"R{i + 1}" if keep else None for i, keep in zip(k, kept, strict=True)]})
    path = tmp_path / "limit.xlsx"
    book = new_book(path)
    parts = book.frame_sheets("records", frame, whole="records.csv")
    book.close()
    assert [(p.ws.get_name(), p.records, p.last) for p in parts] == [
        ("records", range(0, 1_048_575), 1_048_575), ("records (2)", range(1_048_575, n), 25)]
    wb = openpyxl.load_workbook(path, read_only=True)      # only the rows that are there
    first, second = wb["records"], wb["records (2)"]
    heads = [list(next(ws.iter_rows(max_row=1, values_only=True))) for ws in (first, second)]
    assert heads[0][:2] == heads[1][:2] == ["record", "code"]
    assert heads[0][3].startswith("Too long for one sheet: rows 1 to 1,048,575 of the 1,048,600 "
                                  "are here, the rest on the next sheet ('records (2)'): 2 "
                                  "sheets in all")
    assert "records.csv holds the whole table" in heads[1][3]

    def records(ws) -> dict[int, tuple[float, str]]:
        return {row[0].row: (row[0].value, row[1].value)
                for row in ws.iter_rows(min_row=2, max_col=2) if row[0].value is not None}

    on_first, on_second = records(first), records(second)
    assert max(on_first) == MAX_ROWS and max(on_second) == 26
    assert on_first[2] == (1.0, "R1") and on_first[MAX_ROWS] == (1_048_575.0, "R1048575")
    assert on_second == {r: (1_048_574.0 + r, f"R{1_048_574 + r}") for r in range(2, 27)}
    assert list(on_first) == sorted(on_first)
    assert all(value == row - 1 for row, (value, _) in on_first.items())   # record r on row r + 1
    assert len(on_first) + len(on_second) == int(kept.sum())


# -- the sweep and the comparison -------------------------------------------------------------------

def test_a_long_sweep_goes_on_numbered_variants_sheets(tmp_path: Path, monkeypatch) -> None:
    project = tmp_path / "project"
    shutil.copytree(TESTS / "project", project)
    resolved = resolve("tiny", project)
    sweep = grid([(Parameter("ceiling_factor", None), [0.9 + 0.005 * k for k in range(40)])])
    results = run_variants(resolved, sweep)
    monkeypatch.setattr(base, "MAX_ROWS", 36)           # 35 variants a sheet: 35 + 5
    write_sweep(tmp_path / "tiny", sweep, results, validate(resolved))
    folder = tmp_path / "tiny" / "sweep"
    variants = pd.read_csv(folder / "variants.csv")
    wb = openpyxl.load_workbook(folder / "sweep.xlsx")
    assert wb.sheetnames == ["about", "summary", "variants", "variants (2)"]
    rows = []
    for name in wb.sheetnames[2:]:
        ws = wb[name]
        assert [c.value for c in ws[1][:len(variants.columns)]] == list(variants.columns)
        assert ws.freeze_panes == "B2" and ws.max_row <= 36
        rows += values(ws, 2, len(variants.columns))
    assert len(rows) == len(variants) == 40
    assert [r[0] for r in rows] == variants.iloc[:, 0].tolist()        # every variant once, in order
    for row, (_, expected) in zip(rows, variants.iterrows(), strict=True):
        for got, want in zip(row, expected, strict=True):
            if isinstance(want, float) and want != want:
                assert got in (None, ""), (got, want)
            else:
                assert got == (pytest.approx(want, abs=1e-6) if isinstance(want, float)
                               else want), (got, want)
    assert "variants.csv holds the whole table" in wb["variants"].cell(1, len(variants.columns) + 2).value


def test_a_table_wider_than_a_sheet_is_refused_by_the_command_line(project: Path, capsys,
                                                                   monkeypatch) -> None:
    """Refused with what and where, exit 3, and no report: never a workbook with columns cut."""
    monkeypatch.setattr(base, "MAX_COLS", 5)
    assert main(["run", "tiny", "--project", str(project), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("alloc: sheet 'Summary': cell F3 (row 3, column 6) is outside the "
                          "1,048,576 rows x 5 columns a sheet holds; the workbook was not written")
    assert "internal error" not in err
    assert not (project / "reports" / "tiny").exists()
