"""The Appendix A workbook, Markdown and CSV files, read back as a reader would.

The workbook is opened with openpyxl: sheets, numbers and formats, every formula recomputed from
the cells it names and compared with its cached value and with the CSV, print setup, charts,
text that looks like a formula, and the same bytes from two runs.
"""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import range_boundaries

from alloc.lp.build import build
from alloc.lp.solution import Solution
from alloc.lp.solve import solve
from alloc.model.load import load_plan
from alloc.report.book import SHEET_NAME_MAX, sheet_name
from alloc.report.tables import TABLE_IDS
from alloc.report.workbook import TABS
from alloc.report.write import write_report

MODELS = Path(__file__).parents[1] / "appendix_models"
TAB = {tid: tab if tid in ("a4-entity-year", "a5-priority-fund") else f"{tab}, all funds"
       for tid, tab in TABS.items()}
"""The sheet holding each table's period, all funds, as its first block."""
SHEETS = ["Cover", "Summary", "Financial plan",
          *(name for tid, tab in TABS.items() for name in
            ([tab] if tid in ("a4-entity-year", "a5-priority-fund")
             else [f"{tab}, all funds", f"{tab}, regular budget"])),
          "Charts"]
ANNEX_SHEETS = ["Allocation", "Run"]
FORBIDDEN = set("[]:*?/\\")


def solved(scenario: str) -> Solution:
    solution = solve(build(load_plan(scenario, MODELS)))
    assert solution.optimal
    return solution


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reports")
    for scenario in ("fractions", "inject"):
        write_report(solved(scenario), root / scenario, {"solve": 0.1})
    write_report(solved("fractions"), root / "tiny-reciprocal", {"solve": 0.2},
                 support_costs="reciprocal")
    return root


@pytest.fixture(scope="module")
def book(reports: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(reports / "fractions" / "appendix-a.xlsx")


@pytest.fixture(scope="module")
def cached(reports: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(reports / "fractions" / "appendix-a.xlsx", data_only=True)


@pytest.fixture(scope="module")
def annex(reports: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(reports / "fractions" / "technical-annex.xlsx")


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


# -- a fractions evaluator for the formulas alloc writes: =SUM(ranges) and ='sheet'!cell ------------

REF = re.compile(r"^=(?:'((?:[^']|'')+)'|([A-Za-z0-9_.-]+))!\$?([A-Z]+)\$?(\d+)$")
CELL = re.compile(r"\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?")


def evaluate(book: openpyxl.Workbook, sheet: str, coordinate: str) -> float:
    """A cell's value, its formula recomputed: SUM, IF, ROUND, + and -, and links to a cell."""
    value = book[sheet][coordinate].value
    if not isinstance(value, str) or not value.startswith("="):
        assert isinstance(value, int | float), f"{sheet}!{coordinate} holds {value!r}, not a number"
        return float(value)
    match = REF.match(value)
    if match:
        other = (match[1] or "").replace("''", "'") or match[2]
        return evaluate(book, other, f"{match[3]}{match[4]}")
    assert re.fullmatch(r"=[A-Z$\d:(),+\-/>.]+", value), f"unexpected formula {value!r}"

    def cells(m: re.Match[str]) -> str:
        if m[3] is None:
            return f"v({evaluate(book, sheet, f'{m[1]}{m[2]}')!r})"
        lo_col, lo_row, hi_col, hi_row = range_boundaries(m[0].replace("$", ""))
        parts = [evaluate(book, sheet, c.coordinate) for row in book[sheet].iter_rows(
            min_row=lo_row, max_row=hi_row, min_col=lo_col, max_col=hi_col) for c in row]
        return f"v({sum(parts)!r})"

    expression = CELL.sub(cells, value[1:].replace("SUM(", "S(").replace("ROUND(", "R(")
                          .replace("IF(", "I("))
    return float(eval(expression, {"__builtins__": {}}, {   # the expression is digits and v/S/R/I
        "v": float, "S": lambda *a: sum(a), "R": lambda x, n: round(x, int(n)),
        "I": lambda c, a, b: a if c else b}))


def formulas(book: openpyxl.Workbook, sheet: str) -> list[str]:
    return [c.coordinate for row in book[sheet].iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith("=")]


# -- tests ---------------------------------------------------------------------------------------

def test_report_folder_holds_appendix_a(reports: Path) -> None:
    folder = reports / "fractions"
    for name in ("allocation.csv", "run.json", "appendix-a.xlsx", "appendix-a.md"):
        assert (folder / name).is_file()
    for tid in TABLE_IDS:
        assert (folder / "tables" / f"{tid}.csv").is_file()
        assert (folder / "tables" / "unrounded" / f"{tid}.csv").is_file()


def test_sheets_and_their_names(book: openpyxl.Workbook, annex: openpyxl.Workbook) -> None:
    assert book.sheetnames == SHEETS
    assert annex.sheetnames == ANNEX_SHEETS
    for name in [*book.sheetnames, *annex.sheetnames]:
        assert len(name) <= SHEET_NAME_MAX and not set(name) & FORBIDDEN


def test_every_formula_recomputes_to_its_cached_value(book: openpyxl.Workbook,
                                                      cached: openpyxl.Workbook) -> None:
    count = 0
    for sheet in book.sheetnames:
        for coordinate in formulas(book, sheet):
            value = cached[sheet][coordinate].value
            assert value is not None, f"{sheet}!{coordinate} has no cached value"
            assert evaluate(book, sheet, coordinate) == pytest.approx(value, abs=1e-9), \
                f"{sheet}!{coordinate}: {book[sheet][coordinate].value}"
            count += 1
    assert count > 100


def test_table_sheets_match_the_csv(reports: Path, book: openpyxl.Workbook,
                                    cached: openpyxl.Workbook) -> None:
    for tid in TABLE_IDS[:-1]:
        rows = read_csv(reports / "fractions" / "tables" / f"{tid}.csv")
        header, body, total = rows[0], rows[1:-1], rows[-1]
        ws, wv = book[TAB[tid]], cached[TAB[tid]]
        head_row = next(r for r in range(1, 12) if ws.cell(r, 1).value == "Code")
        # where each CSV column went: the header shows names, so go by position of the values
        codes = {ws.cell(r, 1).value: r for r in range(head_row + 1, ws.max_row + 1)
                 if ws.cell(r, 1).value}
        total_row = next(r for r in range(head_row + 1, ws.max_row + 1)
                         if ws.cell(r, 2).font.b and str(ws.cell(r, 3).value).startswith("=SUM(")
                         and not str(ws.cell(r, 2).value).startswith("Subtotal"))
        codes = {}
        for r in range(total_row - 1, head_row, -1):
            if ws.cell(r, 1).value:
                codes[ws.cell(r, 1).value] = r
        columns = [c for c in range(3, ws.max_column + 1) if ws.cell(head_row, c).value is not None]
        value_cols = [c for c in columns if not str(ws.cell(head_row + 1, c).value).startswith("=")]
        assert header[0] in ("priority", "goal", "entity", "line")
        n_values = len(header) - 1 - (2 if header[-1] == "Share" else 1)
        for row in body:
            r = codes[row[0]]
            numbers = [ws.cell(r, c).value for c in value_cols]
            assert numbers[:n_values] == [int(x) for x in row[1: 1 + n_values]], (tid, row[0])
            assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers)
        # the Total row and the Total column: formulas whose values equal the CSV's
        total_col = next(c for c in columns if ws.cell(head_row, c).value == "Total")
        assert str(ws.cell(total_row, total_col).value).startswith("=SUM(")
        assert wv.cell(total_row, total_col).value == int(total[header.index("Total")])
        grand = int(total[header.index("Total")])
        assert evaluate(book, TAB[tid], ws.cell(total_row, total_col).coordinate) == grand
        for r in (codes[row[0]] for row in body):
            assert str(ws.cell(r, total_col).value).startswith("=SUM(")
        for k, code in enumerate(header[1: 1 + n_values]):
            c = value_cols[k]
            assert wv.cell(total_row, c).value == int(total[1 + k]), (tid, code)


def test_number_formats(book: openpyxl.Workbook, annex: openpyxl.Workbook) -> None:
    ws = book[TAB["a1-priority-entity"]]
    formats = {c.number_format for row in ws.iter_rows(min_row=5) for c in row
               if isinstance(c.value, int | float) or str(c.value).startswith("=")}
    assert formats == {"#,##0", "0.0%"}
    for name in (TAB[t] for t in TABLE_IDS[:-1]):
        titles = [c.value for c in book[name]["A"] if str(c.value).startswith("Table A")]
        assert titles and all("(CHF thousands)" in t for t in titles)
    assert annex["Allocation"]["F2"].number_format == "#,##0.000"


def test_each_share_is_its_amount_over_the_total(cached: openpyxl.Workbook) -> None:
    """Shares are rounded on their own (they need not add up to 100.0%), so that the same amount
    has the same share in every table; the subtotals' too."""
    ws = cached[TAB["a1-priority-entity"]]
    head = next(r for r in range(1, 12) if ws.cell(r, 1).value == "Code")
    share_col = next(c for c in range(1, ws.max_column + 1) if ws.cell(head, c).value == "% of total")
    total_col = share_col - 1
    total = next(r for r in range(head + 1, ws.max_row + 1) if ws.cell(r, 2).value == "Total")
    grand = ws.cell(total, total_col).value
    rows = list(range(head + 1, total + 1))
    assert len(rows) == 4 + 2 + 1
    for r in rows:
        amount = ws.cell(r, total_col).value
        assert ws.cell(r, share_col).value == pytest.approx(
            int(amount / grand * 1000 + 0.5) / 1000, abs=1e-9)


def test_print_setup_and_panes(book: openpyxl.Workbook, annex: openpyxl.Workbook) -> None:
    for ws in [*book.worksheets, *annex.worksheets]:
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToHeight in ((None, 1) if ws.title in ("Cover", "Summary") else (0,))
        assert ws.freeze_panes is not None or ws.title in ("Cover", "Charts", "Previous period")
        assert "fractions" in (ws.oddHeader.left.text or "")      # the document reference
        assert ws.oddHeader.right.text == "DRAFT"
        assert "&P of &N" in (ws.oddFooter.center.text or "")
        assert ws.oddFooter.left.text                              # the scenario's title
    for name in ("Financial plan", *ANNEX_SHEETS):
        ws = book[name] if name in book.sheetnames else annex[name]
        assert ws.print_title_rows
    ws = book[TAB["a1-priority-entity"]]
    assert ws.freeze_panes == "C1"
    assert ws.column_dimensions["B"].width >= 30
    breaks = [b.id for b in ws.row_breaks.brk]
    assert len(breaks) == 2 + 4 - 1 + 1    # a page per block: the period, 2 biennia, 4 years


def test_summary_sheet(book: openpyxl.Workbook, cached: openpyxl.Workbook) -> None:
    ws = book["Summary"]
    facts = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, 12)}
    assert facts["Scenario and its parents"] == "fractions"
    assert facts["Date of the inputs"] == "2023-01-31"
    assert facts["Model"] == "fractions" and facts["Status"] == "optimal"
    values = [[cached["Summary"].cell(r, c).value for c in range(1, 7)]
              for r in range(1, cached["Summary"].max_row + 1)]
    parts_title = next(k for k, v in enumerate(values)
                       if str(v[0]).startswith("The ceiling of the regular budget and its parts"))
    years = [v for v in values[:parts_title] if v[0] in ("2024", "2025", "2026", "2027")]
    assert len(years) == 4 and all(v[3] == 0 for v in years)          # balanced
    total = next(v for v in values if v[0] == "Total")
    assert total[5] == sum(v[5] for v in years)
    # the ceiling's parts (revenue lines, support costs earned) add up to the same ceiling
    head = values[parts_title + 1]
    assert head[:4] == ["Year", "Revenue lines",
                        "Programme support costs earned on extrabudgetary funds", "Ceiling"]
    parts = values[parts_title + 2:parts_title + 6]
    for year, row in zip(years, parts, strict=True):
        assert row[0] == year[0] and row[1] + row[2] == row[3] == year[1]


def test_allocation_sheet_is_a_filterable_table(reports: Path, annex: openpyxl.Workbook) -> None:
    ws = annex["Allocation"]
    table = ws.tables["Allocation"]
    rows = read_csv(reports / "fractions" / "allocation.csv")
    assert table.ref == f"A1:F{len(rows)}"
    assert table.autoFilter is not None
    for i, row in enumerate(rows[1:], start=2):
        assert [ws.cell(i, c).value for c in range(1, 5)] == [row[0], row[1], row[2], int(row[3])]
        assert ws.cell(i, 6).value == pytest.approx(float(row[5]))


def test_run_sheet_has_run_json_but_no_timings(reports: Path, annex: openpyxl.Workbook) -> None:
    keys = [c.value for c in annex["Run"]["A"] if c.value]
    assert "scenario" in keys and "status" in keys
    assert not any(str(k).startswith("seconds") for k in keys)
    assert "seconds" in (reports / "fractions" / "run.json").read_text()


def test_charts(book: openpyxl.Workbook) -> None:
    charts = book["Charts"]._charts
    assert len(charts) >= 2
    kinds = sorted(type(c).__name__ for c in charts)
    assert "PieChart" in kinds and "BarChart" in kinds
    bar = next(c for c in charts if type(c).__name__ == "BarChart")
    assert bar.grouping == "stacked"


def test_same_inputs_same_bytes(tmp_path: Path) -> None:
    solution = solved("fractions")
    write_report(solution, tmp_path / "one", {"solve": 1.0})
    write_report(solution, tmp_path / "two", {"solve": 2.0})
    one = (tmp_path / "one" / "appendix-a.xlsx").read_bytes()
    assert one == (tmp_path / "two" / "appendix-a.xlsx").read_bytes()
    for name in ("appendix-a.md", *(f"tables/{t}.csv" for t in TABLE_IDS)):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    with zipfile.ZipFile(tmp_path / "one" / "appendix-a.xlsx") as z:
        core = z.read("docProps/core.xml").decode()
    assert "2023-01-31T00:00:00Z" in core       # created = the date of the inputs


def test_formula_like_text_stays_text(reports: Path) -> None:
    path = reports / "inject" / "appendix-a.xlsx"
    with zipfile.ZipFile(path) as z:
        sheets = " ".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert "1+1</f>" not in sheets and "<f>1+1" not in sheets
    assert "<f>HYPERLINK" not in sheets
    book = openpyxl.load_workbook(path)
    found = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value in ("=1+1", "@SUM(A1:A2)|*pipes*", "+cmd|' /C calc'!A0") \
                        or (isinstance(cell.value, str) and cell.value.startswith("inject: =HYPERLINK")):
                    assert cell.data_type == "s", f"{ws.title}!{cell.coordinate} is not text"
                    found[cell.value] = ws.title
    assert {"=1+1", "@SUM(A1:A2)|*pipes*", "+cmd|' /C calc'!A0"} <= set(found)
    assert any(str(v).startswith("inject: =HYPERLINK") for v in found)
    # every formula in the workbook is one alloc wrote: a SUM or a link to a table cell
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert re.fullmatch(r"=[A-Z$\d:(),+\-/>]+", cell.value) or REF.match(cell.value), \
                        cell.value
    # the CSV files carry codes, never names; the Markdown escapes what could be markup
    for tid in TABLE_IDS:
        text = (reports / "inject" / "tables" / f"{tid}.csv").read_text()
        assert "=1+1" not in text and "@SUM" not in text
    md = (reports / "inject" / "appendix-a.md").read_text()
    assert "\\=1+1" not in md and "=1+1" in md
    assert "@SUM(A1:A2)\\|\\*pipes\\*" in md


def test_markdown_has_every_table_with_the_csv_totals(reports: Path) -> None:
    md = (reports / "fractions" / "appendix-a.md").read_text()
    assert md.startswith("# Appendix A")
    for tid in TABLE_IDS:
        rows = read_csv(reports / "fractions" / "tables" / f"{tid}.csv")
        total = int(rows[-1][rows[0].index("Total")])
        assert f"**{total:,}**" in md, tid
    assert "Biennium 2024-2025" in md and "| 2024-2025 |" in md
    widths = {line.count("|") for line in md.splitlines() if line.startswith("| --- |")}
    assert widths, "tables have a separator row"


def test_csv_layout(reports: Path) -> None:
    for tid in TABLE_IDS:
        rows = read_csv(reports / "fractions" / "tables" / f"{tid}.csv")
        header = rows[0]
        assert "Total" in header and header.index("Total") in (len(header) - 1, len(header) - 2)
        if header[-1] != "Total":
            assert header[-1] == "Share"
        assert rows[-1][0] == "Total"
        assert all("," not in cell and " " not in cell for row in rows[1:] for cell in row[1:])
        assert len({len(r) for r in rows}) == 1
    a4 = read_csv(reports / "fractions" / "tables" / "a4-entity-year.csv")[0]
    assert a4 == ["entity", "2024", "2025", "2026", "2027", "Total", "Share"]


def test_distributed_report_states_its_method(reports: Path) -> None:
    rows = read_csv(reports / "tiny-reciprocal" / "tables" / "a1-priority-entity.csv")
    assert [r[0] for r in rows[1:]] == ["P1", "P2", "Total"]
    book = openpyxl.load_workbook(reports / "tiny-reciprocal" / "appendix-a.xlsx")
    text = " ".join(str(c.value) for row in book[TAB["a1-priority-entity"]].iter_rows(max_row=5)
                    for c in row if c.value)
    assert "reciprocal method" in text
    assert "reciprocal method" in (reports / "tiny-reciprocal" / "appendix-a.md").read_text()


def test_a_failure_midway_leaves_the_previous_report(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    solution = solved("fractions")
    target = tmp_path / "fractions"
    write_report(solution, target, {})
    before = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("alloc.report.appendix.write_markdown", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(solution, target, {}, support_costs="direct")
    after = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".fractions.tmp")]


@pytest.mark.parametrize(("text", "expected"), [
    ("a1-priority-entity", "a1-priority-entity"),
    ("Priorities: [draft] x/y?*", "Priorities- -draft- x-y--"),
    ("x" * 40, "x" * 31),
    ("'quoted'", "quoted"),
    ("", "Sheet"),
    ("History", "History-"),
])
def test_sheet_names_are_valid(text: str, expected: str) -> None:
    assert sheet_name(text) == expected


def test_sheet_names_are_unique() -> None:
    taken = ["x" * 31]
    name = sheet_name("x" * 40, taken)
    assert name != taken[0] and len(name) <= 31 and name.endswith("(2)")


@pytest.mark.parametrize("support", ["rows", "reciprocal"])
def test_views_made_once_write_the_same_files(tmp_path: Path, support: str) -> None:
    """The writer given the result's Appendix A views (`Result.appendix`, made once: `api.write`
    hands them over, the terminal and the web view read them too) writes the same bytes as with
    views made inside; and after `api.write` the tables the terminal prints are those very ones."""
    import alloc

    result = alloc.solve(load_plan("fractions", MODELS), support_costs=support)
    write_report(result.solution, tmp_path / "inside", {}, support_costs=support)
    write_report(result.solution, tmp_path / "given", {}, support_costs=support,
                 appendix=result.appendix)
    inside, given = tmp_path / "inside", tmp_path / "given"
    names = sorted(p.relative_to(inside).as_posix() for p in inside.rglob("*")
                   if p.is_file() and p.name != "run.json")
    assert "appendix-a.xlsx" in names and "tables/a1-priority-entity.csv" in names
    assert names == sorted(p.relative_to(given).as_posix() for p in given.rglob("*")
                           if p.is_file() and p.name != "run.json")
    for name in names:
        assert (inside / name).read_bytes() == (given / name).read_bytes(), name
    again = alloc.solve(load_plan("fractions", MODELS), support_costs=support)
    alloc.write(again, tmp_path / "api")
    assert again.appendix is not None and again._tables[0] is again.appendix.tables[0]
