"""The sheet data alloc puts in the XML itself (`_Worksheet._write_rows`, `_calculate_spans`): byte
for byte what xlsxwriter writes, on random sheets of every kind of cell and row and column setting,
and on the workbooks of the shipped reference model."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from xlsxwriter import Workbook
from xlsxwriter.worksheet import Worksheet

from alloc.report import book
from alloc.report.book import OPTIONS, _Worksheet


class _Stock(_Worksheet):
    """The same sheet with xlsxwriter's own row and span writers."""

    _write_rows = Worksheet._write_rows
    _calculate_spans = Worksheet._calculate_spans


def _workbook(kind: type[Worksheet]) -> type[Workbook]:
    """alloc's workbook (its shared strings writer) for alloc's sheets, xlsxwriter's for the
    stock ones."""
    return Workbook if issubclass(kind, _Stock) else book._Workbook


TEXTS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) | \
    st.sampled_from(["", " lead", "trail ", "a&b<c>\"d\"", "_x0041_", "x\x01y", "<r>rich</r>",
                     "=1+1", "http://example.org", "007"])
CELL = st.tuples(
    st.integers(0, 24), st.integers(0, 8),
    st.sampled_from(["number", "int", "string", "blank", "boolean", "formula", "rich",
                     "datetime", "array"]),
    TEXTS, st.floats(allow_nan=False, allow_infinity=False) | st.integers(-10**12, 10**12),
    st.integers(0, 3))
ROW = st.tuples(st.integers(0, 27), st.sampled_from([None, 15, 30.5]), st.integers(0, 3),
                st.booleans(), st.integers(0, 2))
COLUMN = st.tuples(st.integers(0, 9), st.integers(0, 3), st.sampled_from([None, 8.43, 20]))
COMMENT = st.tuples(st.integers(0, 30), st.integers(0, 10), TEXTS)


def _sheet(kind: type[Worksheet], cells: list, rows: list, columns: list, comments: list,
           merge: bool) -> bytes:
    out = io.BytesIO()
    wb = _workbook(kind)(out, dict(OPTIONS))
    wb.set_properties({"created": dt.datetime(2020, 1, 1)})
    formats = [None, wb.add_format({"bold": True}), wb.add_format({"num_format": "0.0%"}),
               wb.add_format({"italic": True, "text_wrap": True})]
    ws = wb.add_worksheet("Data", worksheet_class=kind)
    for first, fmt, width in columns:
        ws.set_column(first, first + 1, width, formats[fmt])
    for row, height, fmt, hidden, level in rows:
        ws.set_row(row, height, formats[fmt], {"hidden": hidden, "level": level})
    for row, col, what, text, number, fmt in cells:
        f = formats[fmt]
        if what == "number":
            ws.write_number(row, col, float(number), f)
        elif what == "int":
            ws.write_number(row, col, int(number), f)
        elif what == "string":
            ws.write_string(row, col, text, f)
        elif what == "blank":
            ws.write_blank(row, col, None, f)
        elif what == "boolean":
            ws.write_boolean(row, col, bool(fmt % 2), f)
        elif what == "formula":
            ws.write_formula(row, col, "=1+1", f, number if fmt % 2 else text)
        elif what == "rich":
            ws.write_rich_string(row, col, "a", formats[1], text or "b", "c", *([f] if f else []))
        elif what == "datetime":
            ws.write_datetime(row, col, dt.datetime(2024, 1, 1 + fmt), formats[2])
        else:
            ws.write_array_formula(row, col, row, col, "{=SUM(A1:A2)}", f)
    for row, col, text in comments:
        ws.write_comment(row, col, text or "note")
    if merge:
        ws.merge_range(90, 1, 91, 3, "merged", formats[1])
    wb.close()
    return out.getvalue()


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


@settings(max_examples=150, deadline=None)
@given(st.lists(CELL, max_size=120), st.lists(ROW, max_size=12), st.lists(COLUMN, max_size=4),
       st.lists(COMMENT, max_size=4), st.booleans())
def test_the_rows_are_the_bytes_xlsxwriter_writes(cells, rows, columns, comments, merge):
    fast = _sheet(_Worksheet, cells, rows, columns, comments, merge)
    stock = _sheet(_Stock, cells, rows, columns, comments, merge)
    if fast != stock:   # name the part that differs
        a, b = _parts(fast), _parts(stock)
        assert {n for n in a if a[n] != b.get(n)} == set()
    assert fast == stock


def test_a_seeded_corpus_of_dense_sheets():
    """Sheets where cells, row and column settings and comments fall on each other often: every
    rule for a cell's style (its own, its row's, its column's) and every kind of row met."""
    rng = random.Random(20261201)
    kinds = ["number", "int", "string", "blank", "boolean", "formula", "rich", "datetime"]
    texts = ["", " lead", "trail ", "a&b<c>", "_x0041_", "x\x01y", "<r>rich</r>", "plain"]
    for _ in range(120):
        cells = [(rng.randrange(40), rng.randrange(12), rng.choice(kinds), rng.choice(texts),
                  rng.choice([rng.uniform(-1e6, 1e6), rng.randrange(-10**9, 10**9), 0.1, 1e-7]),
                  rng.randrange(4)) for _ in range(rng.randrange(1, 200))]
        rows = [(rng.randrange(44), rng.choice([None, 15, 30.5]), rng.randrange(4),
                 rng.random() < 0.2, rng.randrange(3)) for _ in range(rng.randrange(12))]
        columns = [(rng.randrange(13), rng.randrange(4), rng.choice([None, 8.43, 20]))
                   for _ in range(rng.randrange(4))]
        comments = [(rng.randrange(45), rng.randrange(14), rng.choice(texts))
                    for _ in range(rng.randrange(3))]
        merge = rng.random() < 0.3
        assert (_sheet(_Worksheet, cells, rows, columns, comments, merge)
                == _sheet(_Stock, cells, rows, columns, comments, merge))


@pytest.mark.parametrize("rows", [1, 15, 16, 17, 33, 1000])
def test_spans_at_the_edges_of_their_blocks(rows):
    cells = [(r, (r * 7) % 19, "number" if r % 3 else "string", "t", r, r % 4)
             for r in range(3, 3 + rows)]
    assert (_sheet(_Worksheet, cells, [], [], [], False)
            == _sheet(_Stock, cells, [], [], [], False))


def test_an_empty_sheet():
    assert _sheet(_Worksheet, [], [], [], [], False) == _sheet(_Stock, [], [], [], [], False)
    assert (_sheet(_Worksheet, [], [(4, 30, 0, False, 0)], [], [], False)
            == _sheet(_Stock, [], [(4, 30, 0, False, 0)], [], [], False))


def test_the_reference_workbooks_are_written_the_same(tmp_path: Path, monkeypatch):
    """The shipped reference model's report, written with alloc's rows and with xlsxwriter's:
    every workbook the same file."""
    import alloc

    root = Path(__file__).resolve().parents[2]
    result = alloc.run("baseline", project=root)
    fast = alloc.write(result, tmp_path / "fast", project=root)
    monkeypatch.setattr(book, "_Worksheet", _Stock)
    monkeypatch.setattr(book, "_Workbook", Workbook)
    stock = alloc.write(result, tmp_path / "stock", project=root)
    books = [name for name in fast.files if name.endswith(".xlsx")]
    assert len(books) >= 2
    for name in books:
        assert (fast.folder / name).read_bytes() == (stock.folder / name).read_bytes(), name


FRAME_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8) | \
    st.sampled_from(["", " x ", "=SUM(A1)", "a&b", "long " * 4000, "y" * 40000])
FRAME_VALUE = (st.floats(allow_infinity=True) | st.integers(-10**6, 10**6) | st.booleans()
               | st.none() | FRAME_TEXT)


def _frame_book(kind: type[Worksheet], columns: list[tuple[str, list]], keep_empty: bool,
                strong: list[bool] | None, blanks: bool) -> bytes:
    import pandas as pd

    n = min((len(values) for _, values in columns), default=0)
    frame = pd.DataFrame({f"c{k}": (pd.Series(values[:n], dtype=dtype) if dtype else
                                    pd.Series(values[:n], dtype=object))
                          for k, (dtype, values) in enumerate(columns)})
    out = io.BytesIO()
    shelf = book.Book.__new__(book.Book)
    shelf.wb = _workbook(kind)(out, dict(OPTIONS))
    shelf.wb.set_properties({"created": dt.datetime(2020, 1, 1)})
    shelf.f, shelf.names, shelf.illustrative, shelf.top = book.Formats(shelf.wb), [], False, 0
    original = book._Worksheet
    book._Worksheet = kind
    try:
        ws = shelf.sheet("Frame")
        shelf.write_frame(ws, frame, 1, 1, keep_empty=keep_empty,
                          formats=[shelf.f["num"]] * frame.shape[1])
        marks = (strong[:n] + [False] * n)[:n] if strong is not None else None
        shelf.frame_sheets("Parts", frame, 2, keep_empty=keep_empty, blanks=blanks,
                           strong=None if marks is None else
                           (marks, [shelf.f["tot_num"]] * frame.shape[1]))
    finally:
        book._Worksheet = original
    shelf.close()
    return out.getvalue()


class _StockStored(_Stock):
    """xlsxwriter's own writers for storing the cells too."""

    bulk = False


COLUMNS = st.lists(st.one_of(
    st.tuples(st.just("float64"), st.lists(st.floats(allow_infinity=True), max_size=30)),
    st.tuples(st.just("int64"), st.lists(st.integers(-10**9, 10**9), max_size=30)),
    st.tuples(st.just("bool"), st.lists(st.booleans(), max_size=30)),
    st.tuples(st.just("str"), st.lists(FRAME_TEXT, max_size=30)),
    st.tuples(st.just(""), st.lists(FRAME_VALUE, max_size=30))), max_size=5)


@settings(max_examples=80, deadline=None)
@given(COLUMNS, st.booleans(), st.none() | st.lists(st.booleans(), max_size=30), st.booleans())
def test_frames_stored_at_once_are_the_cells_xlsxwriter_stores(columns, keep_empty, strong,
                                                                blanks):
    """Numbers a column and text a row at a time, stored directly: the same workbook as each
    cell written through xlsxwriter (strings cut at Excel's limit, blanks, booleans, text
    columns with other values among them)."""
    assert (_frame_book(_Worksheet, columns, keep_empty, strong, blanks)
            == _frame_book(_StockStored, columns, keep_empty, strong, blanks))


def _heights_book(kind: type[Worksheet], before: list, rows: list[int], heights: list[float],
                  cells: list) -> bytes:
    out = io.BytesIO()
    wb = _workbook(kind)(out, dict(OPTIONS))
    wb.set_properties({"created": dt.datetime(2020, 1, 1)})
    ws = wb.add_worksheet("Data", worksheet_class=kind)
    for row, col in cells:
        ws.write_number(row, col, row + col)
    for row, height in before:
        ws.set_row(row, height)
    ws.set_row_heights(rows, heights)
    wb.close()
    return out.getvalue()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.sampled_from([None, 12, 45])), max_size=6),
       st.dictionaries(st.integers(0, 60), st.sampled_from([0.0, 0.3, 12.75, 15, 25.5, 300]),
                       max_size=30),
       st.lists(st.tuples(st.integers(0, 70), st.integers(0, 6)), max_size=20))
@example([], {5: 30.0, 1: 30.0, 10: 30.0}, [])    # the first row neither the lowest nor the last
def test_row_heights_set_at_once_are_those_set_row_sets(before, heights, cells):
    """Heights of many rows (tall rows of a long sheet) stored at once: the same workbook as
    each row set through `set_row`, heights that round to a hidden row and rows set before
    included."""
    for rows in (sorted(heights), list(heights)):     # in order, and as drawn
        assert (_heights_book(_Worksheet, before, rows, [heights[r] for r in rows], cells)
                == _heights_book(_StockStored, before, rows, [heights[r] for r in rows], cells))


def test_row_heights_beyond_the_sheet_are_refused():
    with pytest.raises(book.SheetTooLarge):
        _heights_book(_Worksheet, [], [3, book.MAX_ROWS], [15.0, 15.0], [])


def test_a_long_frame_stored_at_once(tmp_path: Path):
    """A few thousand rows of numbers and text, emphasis on some: the same bytes."""
    rng = random.Random(7)
    columns = [("float64", [rng.uniform(-1e9, 1e9) for _ in range(3000)]),
               ("str", [rng.choice(["a", "b", "", "c d", "x" * 20000, "z" * 33000]) for _ in range(3000)]),
               ("int64", [rng.randrange(10**6) for _ in range(3000)]),
               ("str", [f"rule {i}" for i in range(3000)])]
    strong = [rng.random() < 0.1 for _ in range(3000)]
    assert (_frame_book(_Worksheet, columns, True, strong, True)
            == _frame_book(_StockStored, columns, True, strong, True))


def test_shared_strings_of_every_kind():
    """Strings with control characters, escapes written out, markup, spaces at either end
    (Unicode ones too), rich strings, and more than a block of them: the same shared strings
    part as xlsxwriter's."""
    rng = random.Random(11)
    corpus = ["", " ", "a", " lead", "trail ", "\nline", "line\n", "\u00a0nbsp", "nbsp\u00a0",
              "tab\t", "\x01ctl", "ctl\x1f", "_x0041_", "_X0041_", "_x00zz_", "a_x1234_b\x02",
              "&", "<b>", '"q"', "<r>rich</r>", "<r>x", "x</r>", "\u2028sep", "emoji \U0001F600"]
    cells = [(k // 7, k % 7, "string", rng.choice(corpus) + (str(k) if rng.random() < 0.7 else ""),
              0, k % 4) for k in range(9000)]
    cells += [(1300, c, "rich", text, 0, 0) for c, text in enumerate(corpus[:6])]
    assert (_sheet(_Worksheet, cells, [], [], [], False)
            == _sheet(_Stock, cells, [], [], [], False))
