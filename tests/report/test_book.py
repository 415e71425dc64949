"""The shared base of every workbook and CSV file alloc writes (alloc.report.book), checked on the
three workbooks that use it (appendix-a.xlsx, comparison.xlsx, sweep.xlsx), read back with
openpyxl and as the zip and XML they are: text that looks like a formula or a link stays text,
document properties are fixed, the same inputs give the same bytes, amounts are in the model's
unit; and the CSV policy (write_csv, neutralise).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from alloc.compare.core import Comparison, compare
from alloc.compare.writer import write_comparison
from alloc.lp.build import build
from alloc.lp.solution import Solution
from alloc.lp.solve import solve
from alloc.model.domain import Plan
from alloc.model.load import load_plan
from alloc.model.scenario import resolve
from alloc.model.validate import validate
from alloc.report.book import (
    OPTIONS,
    STYLES,
    Book,
    Properties,
    created_on,
    neutralise,
    sheet_name,
    with_unit,
    write_csv,
)
from alloc.report.write import write_report
from alloc.sweep.core import Parameter, Result, Sweep, grid, run_variants, write_sweep

TESTS = Path(__file__).parents[1]
HYPERLINK = '=HYPERLINK("http://example.com","click")'
PIPES = "@SUM(A1:A2)|*pipes*"
CMD = "+cmd|' /C calc'!A0"
URL = "http://example.com/x"
ARRAY = "{=SUM(A1:A2)}"
LOOKS_LIKE_A_FORMULA = ("=1+1", HYPERLINK, PIPES, CMD, "-2+3", URL, ARRAY, "007")
INPUTS_DATE = "2024-01-01"
KINDS = ("appendix", "comparison", "sweep")


# -- the three workbooks, of a model in USD thousands with names that look like formulas ----------

@pytest.fixture(scope="module")
def usd_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("book") / "project"
    shutil.copytree(TESTS / "project", root)
    usd = root / "models" / "usd"
    shutil.copytree(root / "models" / "tiny", usd)
    model = usd / "model.toml"
    model.write_text(model.read_text().replace('"CHF thousands"', '"USD thousands"'))
    (root / "scenarios" / "usd.toml").write_text(
        '[scenario]\nmodel = "usd"\ntitle = "Tiny model in US dollars"\n')
    (root / "scenarios" / "evil.toml").write_text(
        '[scenario]\nparent = "usd"\ntitle = "=1+1"\n'
        f"[framework.priorities.P1]\nname = '{HYPERLINK}'\n"      # a literal string: no escapes
        f'[framework.entities.A]\nname = "{PIPES}"\n'
        f'[framework.goals.G1]\nname = "{CMD}"\n'
        f'[framework.outputs.O]\nname = "{URL}"\n')
    return root


@pytest.fixture(scope="module")
def evil(usd_project: Path) -> Solution:
    solution = solve(build(load_plan("evil", usd_project)))
    assert solution.optimal and solution.plan.unit == "USD thousands"
    return solution


@pytest.fixture(scope="module")
def comparison(usd_project: Path) -> Comparison:
    return compare(["usd", "evil"], usd_project)


@pytest.fixture(scope="module")
def swept(usd_project: Path) -> tuple[Sweep, list[Result], Plan]:
    """A sweep of the ceiling under a label that looks like a formula, with a variant whose
    message does (what an invalid variant's message could quote)."""
    resolved = resolve("evil", usd_project)
    sweep = grid([(Parameter("=1+1", None), [0.9, 1.0])])
    results = run_variants(resolved, sweep)
    assert [r.status for r in results] == ["optimal", "optimal"]
    sweep.variants.append((1.1,))
    results.append(Result(3, (1.1,), "invalid", message=HYPERLINK))
    results.append(Result(4, (1.2,), "invalid", message=URL))
    return sweep, results, validate(resolved)


Writer = Callable[[Path], Path]


@pytest.fixture(scope="module")
def writers(evil: Solution, comparison: Comparison,
            swept: tuple[Sweep, list[Result], Plan]) -> dict[str, Writer]:
    """Per workbook, a function that writes it under a folder and returns its path."""

    def appendix(folder: Path) -> Path:
        write_report(evil, folder / "evil", {"solve": 0.5})
        return folder / "evil" / "appendix-a.xlsx"

    def comparison_book(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        write_comparison(comparison, folder)
        return folder / "comparison.xlsx"

    def sweep_book(folder: Path) -> Path:
        write_sweep(folder / "evil", *swept)
        return folder / "evil" / "sweep" / "sweep.xlsx"

    return {"appendix": appendix, "comparison": comparison_book, "sweep": sweep_book}


@pytest.fixture(scope="module")
def books(writers: dict[str, Writer], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("books")
    return {kind: write(root / kind) for kind, write in writers.items()}


def xml(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xml", ".rels"))}


def cells(path: Path) -> list[openpyxl.cell.cell.Cell]:
    book = openpyxl.load_workbook(path)
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


# -- text is text ---------------------------------------------------------------------------------

EXPECTED_TEXT = {
    # where each workbook shows the texts: names in the tables and the summary; the inputs that
    # differ; the swept parameter's label and the variants' messages
    "appendix": {"=1+1", HYPERLINK, PIPES, CMD, URL},
    "comparison": {HYPERLINK, PIPES, CMD, URL},
    "sweep": {"=1+1", HYPERLINK, URL},
}


@pytest.mark.parametrize("kind", KINDS)
def test_text_that_looks_like_a_formula_is_text(books: dict[str, Path], kind: str) -> None:
    found = set()
    for cell in cells(books[kind]):
        if isinstance(cell.value, str):
            for text in LOOKS_LIKE_A_FORMULA:
                if text in cell.value:
                    assert cell.data_type == "s", (kind, cell.coordinate, cell.value)
                    found.add(text)
        if cell.data_type == "f":       # a formula alloc wrote: a sum or a link to a table
            assert kind == "appendix", (kind, cell.coordinate, cell.value)
            assert re.match(r"^=('?[\w .,-]+'?!\$?[A-Z]+\$?\d+$|[A-Z$\d:(),+\-/>]+$)",
                            cell.value), cell.value
            assert set(re.findall(r"[A-Z]{2,}(?=\()", cell.value)) <= {"SUM", "IF", "ROUND"}
    assert found >= EXPECTED_TEXT[kind]
    parts = xml(books[kind])
    sheets = " ".join(text for name, text in parts.items() if name.startswith("xl/worksheets/"))
    for text in ("1+1", "HYPERLINK", "cmd|", "@SUM"):
        assert not re.search(f"<f>[^<]*{re.escape(text)}", sheets), (kind, text)
    assert "<hyperlink" not in sheets, kind                 # no link made of http://...
    assert not any("hyperlink" in text for name, text in parts.items() if name.endswith(".rels"))


def test_every_workbook_is_opened_with_the_safe_options() -> None:
    assert OPTIONS["strings_to_formulas"] is False and OPTIONS["strings_to_urls"] is False
    assert OPTIONS["strings_to_numbers"] is False and OPTIONS["in_memory"] is True


def test_write_keeps_text_as_text_and_numbers_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "cells.xlsx"
    book = Book(path, Properties(title="cells", created=created_on(INPUTS_DATE)))
    ws = book.sheet("cells")
    values: list[object] = [*LOOKS_LIKE_A_FORMULA, 3, 2.5, True, None, float("nan"), "", "x"]
    for r, value in enumerate(values):
        book.write(ws, r, 0, value)
    book.write(ws, 0, 1, "", book.f["num"])                     # a blank cell with a format
    book.write(ws, 1, 1, "", keep_empty=True)                   # a cell of empty text
    book.close()
    ws = openpyxl.load_workbook(path)["cells"]
    got = [ws.cell(r + 1, 1).value for r in range(len(values))]
    assert got == [*LOOKS_LIKE_A_FORMULA, 3, 2.5, True, None, None, None, "x"]
    assert [ws.cell(r + 1, 1).data_type for r in range(len(LOOKS_LIKE_A_FORMULA))] == \
        ["s"] * len(LOOKS_LIKE_A_FORMULA)
    assert ws.cell(1, 2).value is None and ws.cell(1, 2).number_format == "#,##0"
    assert ws.cell(2, 2).value == "" and ws.cell(2, 2).data_type == "s"


def test_write_frame_lays_out_a_table(tmp_path: Path) -> None:
    path = tmp_path / "frame.xlsx"
    book = Book(path, Properties(title="frame", created=created_on(INPUTS_DATE)))
    ws = book.sheet("frame")
    frame = pd.DataFrame({"=code": ["=1+1", "B"], "amount": [1234.5, float("nan")]})
    last = book.write_frame(ws, frame, 2, 1, header=book.f["bold"], formats=[None, book.f["num"]])
    assert last == 4
    assert book.write_frame(ws, frame.iloc[:0], 6) == 6            # a header, no rows
    with pytest.raises(ValueError, match="2 formats for 1 columns"):
        book.write_frame(ws, frame[["amount"]], 8, formats=[None, None])
    book.close()
    ws = openpyxl.load_workbook(path)["frame"]
    assert [c.value for c in ws[3][1:]] == ["=code", "amount"]
    assert ws["B3"].data_type == "s" and ws["B3"].font.b
    assert [ws["B4"].value, ws["C4"].value, ws["B5"].value, ws["C5"].value] == \
        ["=1+1", 1234.5, "B", None]
    assert ws["B4"].data_type == "s" and ws["C4"].number_format == "#,##0"


def test_sheet_names_in_a_book_are_valid_and_unique(tmp_path: Path) -> None:
    book = Book(tmp_path / "names.xlsx", Properties(title="names", created=created_on("")))
    names = [book.sheet(t).get_name() for t in ("a/b", "A-B", "x" * 40, "x" * 40)]
    book.close()
    assert names == ["a-b", "A-B (2)", "x" * 31, "x" * 27 + " (2)"]
    assert sheet_name("History") == "History-"


# -- fixed document properties, the same bytes ------------------------------------------------

CREATED = {"appendix": INPUTS_DATE, "comparison": INPUTS_DATE, "sweep": "2000-01-01"}


@pytest.mark.parametrize("kind", KINDS)
def test_document_properties_are_fixed(books: dict[str, Path], kind: str) -> None:
    core = xml(books[kind])["docProps/core.xml"]
    stamp = f"{CREATED[kind]}T00:00:00Z"
    assert f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>' in core
    assert f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>' in core
    assert "<dc:creator>alloc</dc:creator>" in core
    assert "<cp:lastModifiedBy>alloc</cp:lastModifiedBy>" in core
    properties = openpyxl.load_workbook(books[kind]).properties
    assert properties.creator == "alloc" and properties.title
    assert properties.created == dt.datetime.fromisoformat(CREATED[kind])
    app = xml(books[kind])["docProps/app.xml"]
    assert "<Company></Company>" in app                    # nothing of the machine or the user


def test_created_is_the_date_of_the_inputs() -> None:
    assert created_on("2023-01-31") == dt.datetime(2023, 1, 31, tzinfo=dt.UTC)
    assert created_on("") == created_on("31/01/2023") == dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert Properties("t", created_on("")).as_dict() == {
        "title": "t", "author": "alloc", "created": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)}


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_inputs_give_the_same_bytes(writers: dict[str, Writer], tmp_path: Path,
                                             kind: str) -> None:
    one = writers[kind](tmp_path / "one")
    two = writers[kind](tmp_path / "two")
    assert one.read_bytes() == two.read_bytes()
    with zipfile.ZipFile(one) as z:         # packed in memory: fixed timestamps, no file modes
        assert {info.date_time for info in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_formats_are_made_when_used(tmp_path: Path) -> None:
    """Asking for a named format that no cell uses changes nothing: the base may offer more
    formats than a workbook uses, and the order a workbook asks for them does not matter."""
    def write(path: Path, ask: list[str]) -> bytes:
        book = Book(path, Properties(title="f", created=created_on(INPUTS_DATE)))
        for name in ask:
            book.f[name]
        ws = book.sheet("s")
        ws.write_string(0, 0, "x", book.f["title"])
        ws.write_number(1, 0, 1.0, book.f["num"])
        book.close()
        return path.read_bytes()

    assert write(tmp_path / "a.xlsx", []) == write(tmp_path / "b.xlsx", [*STYLES][::-1])


# -- the model's unit -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_amounts_are_in_the_model_unit(books: dict[str, Path], kind: str) -> None:
    parts = xml(books[kind])
    text = " ".join(parts.values())
    assert "CHF" not in text, kind
    assert "USD thousands" in text, kind
    if kind == "sweep":
        chart = next(t for n, t in parts.items() if n.startswith("xl/charts/"))
        assert "<a:t>USD thousands</a:t>" in chart          # the axis of the spread
    folder = books[kind].parent
    for path in [*folder.glob("*.csv"), *folder.glob("*.md"), *folder.glob("tables/*.csv")]:
        assert "CHF" not in path.read_text(), path.name


def test_with_unit() -> None:
    assert with_unit("Total", "CHF thousands") == "Total (CHF thousands)"


# -- one CSV policy -------------------------------------------------------------------------------

def test_write_csv_neutralises_cells_header_and_index(tmp_path: Path) -> None:
    frame = pd.DataFrame({"=name": ["=1+1", "-5", "@cmd", None], "n": [1.5, -2.0, 3.0, 4.0]},
                         index=pd.Index(["+x", "P1", "2024", "-3"], name="code"))
    before = frame.copy()
    write_csv(frame, tmp_path / "plain.csv")
    assert (tmp_path / "plain.csv").read_text() == (
        "'=name,n\n'=1+1,1.5\n-5,-2.0\n'@cmd,3.0\n,4.0\n")
    write_csv(frame, tmp_path / "index.csv", index=True, float_format="%.3f")
    assert (tmp_path / "index.csv").read_text() == (
        "code,'=name,n\n'+x,'=1+1,1.500\nP1,-5,-2.000\n2024,'@cmd,3.000\n-3,,4.000\n")
    pd.testing.assert_frame_equal(frame, before)                  # the caller's frame untouched


def test_write_csv_keeps_types_and_repeated_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame([["=a", "b", 1]], columns=["x", "x", "y"]).astype({"y": "int64"})
    frame.iloc[:, 1] = frame.iloc[:, 1].astype("string")
    write_csv(frame, tmp_path / "twice.csv")
    assert (tmp_path / "twice.csv").read_text() == "x,x,y\n'=a,b,1\n"


@pytest.mark.parametrize(("text", "expected"), [
    ("=1+1", "'=1+1"), ("@cmd", "'@cmd"), ("-5", "-5"), ("1e3", "1e3"), ("", ""),
])
def test_neutralise(text: str, expected: str) -> None:
    assert neutralise(text) == expected


def test_every_csv_of_a_sweep_and_a_comparison_is_inert(books: dict[str, Path]) -> None:
    sweep = books["sweep"].parent
    variants = (sweep / "variants.csv").read_text()
    assert variants.startswith("variant,'=1+1,status")
    assert f"'{HYPERLINK}".replace('"', '""') in variants and "\n3," in variants
    inputs = (books["comparison"].parent / "inputs.csv").read_text()
    assert "'=HYPERLINK" in inputs and "'@SUM" in inputs and "'+cmd" in inputs
