"""A corpus of bad workbooks, each made from a good template by openpyxl: each gets a message
naming the workbook, the sheet and the cell, exit code 2, no traceback, and no scenario written."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from alloc.cli import main
from tests.inputbook.conftest import scenario_files

Edit = Callable[[Any], None]


def cell(sheet: str, ref: str, value: object) -> Edit:
    def edit(wb: Any) -> None:
        wb[sheet][ref] = value
    return edit


def swap_columns(sheet: str, a: int, b: int) -> Edit:
    """Swap two whole columns, headers included: a moved column."""
    def edit(wb: Any) -> None:
        ws = wb[sheet]
        for r in range(1, ws.max_row + 1):
            x, y = ws.cell(r, a), ws.cell(r, b)
            x.value, y.value = y.value, x.value
    return edit


def delete_sheet(name: str) -> Edit:
    def edit(wb: Any) -> None:
        del wb[name]
    return edit


def rename_sheet(name: str, new: str) -> Edit:
    def edit(wb: Any) -> None:
        wb[name].title = new
    return edit


def merge(sheet: str, cells: str) -> Edit:
    def edit(wb: Any) -> None:
        wb[sheet].merge_cells(cells)
    return edit


def insert(sheet: str, what: str, at: int) -> Edit:
    def edit(wb: Any) -> None:
        getattr(wb[sheet], f"insert_{what}")(at)
    return edit


# (id, edit, sheet and cell named, words of the message)
EDITS: list[tuple[str, Edit, str, str]] = [
    ("text-for-units", cell("Revenue", "D7", "n/a"), "sheet Revenue, cell D7",
     'expected a number of units, found "n/a"'),
    ("text-for-amount", cell("Revenue", "F10", "about 11 million"), "sheet Revenue, cell F10",
     "expected a number of CHF thousands"),
    ("number-as-text", cell("Requirements", "F6", "2136"), "sheet Requirements, cell F6",
     "expected a number of CHF thousands"),
    ("share-above-1", cell("Funds", "G6", 1.5), "sheet Funds, cell G6",
     "a share between 0 and 1, at most 1"),
    ("negative-amount", cell("Funds", "C7", -5), "sheet Funds, cell C7", "not below 0"),
    ("bool-as-text", cell("Funds", "I6", "maybe"), "sheet Funds, cell I6",
     "expected TRUE or FALSE"),
    ("entity-not-in-list", cell("Committed", "C6", "ITU-X"), "sheet Committed, cell C6",
     "'ITU-X' is not in the list of entities"),
    ("priority-not-in-list", cell("Funds", "K6", "TP3, TP9"), "sheet Funds, cell K6",
     "'TP9' is not in the list of thematic priorities"),
    ("group-not-in-list", cell("Revenue", "C6", "gifts"), "sheet Revenue, cell C6",
     "'gifts' is not in the list of revenue groups"),
    ("mandate-mark", cell("Mandate", "C6", "yes"), "sheet Mandate, cell C6",
     "expected x (a cell of the mandate)"),
    ("formula", cell("Weights", "B6", "=1.2*1.1"), "sheet Weights, cell B6", "a formula"),
    ("formula-sum", cell("Revenue", "F10", "=SUM(F11:F12)"), "sheet Revenue, cell F10",
     "a formula"),
    ("ref-error", cell("Revenue", "G10", "#REF!"), "sheet Revenue, cell G10",
     "an error value (#REF!)"),
    ("div0-error", cell("Requirements", "F8", "#DIV/0!"), "sheet Requirements, cell F8",
     "an error value (#DIV/0!)"),
    ("merged", merge("Bounds", "B6:C6"), "sheet Bounds, cell B6", "merged cells (B6:C6)"),
    ("deleted-sheet", delete_sheet("Funds"), "sheet Funds", "missing (deleted or renamed?)"),
    ("renamed-sheet", rename_sheet("Revenue", "Revenues"), "sheet Revenue",
     "the workbook has Revenues"),
    ("moved-column", swap_columns("Revenue", 4, 5), "sheet Revenue, cell D5",
     "expected the header 'Units (contributory units)', found \"Unit value"),
    ("inserted-column", insert("Requirements", "cols", 2), "sheet Requirements, cell B5",
     "expected the header 'Priority'"),
    ("inserted-row", insert("Weights", "rows", 4), "sheet Weights, cell A4",
     "expected the table 'Goal weights' here"),
    ("code-changed", cell("Requirements", "A6", "ZZ"), "sheet Requirements, cell A6",
     "expected the code 'BR' (a locked cell)"),
    ("provenance-deleted", delete_sheet("Provenance"), "sheet Provenance", "missing"),
    ("goal-shares-not-1", cell("Framework", "C22", 0.5), "sheet Framework, cell C22",
     "goal"),
    ("fund-name-cleared", cell("Funds", "B6", None), "sheet Funds, cell B6", "name"),
]


def _save(wb: Any, path: Path) -> Path:
    wb.save(path)
    return path


def _files(tmp: Path, template: bytes) -> list[tuple[str, Path, str, str]]:
    """Bad files that are not workbooks at all, or not plain .xlsx ones."""
    out = []
    text = tmp / "notes.xlsx"
    text.write_text("entity,priority\nBR,TP1\n")
    out.append(("text-file", text, "", "is not an Excel workbook (.xlsx)"))
    empty = tmp / "empty.xlsx"
    empty.write_bytes(b"")
    out.append(("empty-file", empty, "", "is not an Excel workbook (.xlsx)"))
    ole = tmp / "locked.xlsx"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024)
    out.append(("encrypted", ole, "", "is a password-protected (encrypted) workbook"))
    xlsm = tmp / "macros.xlsm"
    xlsm.write_bytes(template)
    out.append(("xlsm-name", xlsm, "", "macro-enabled"))
    vba = tmp / "vba.xlsx"
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as src, zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/vbaProject.bin", b"\x00" * 64)
    vba.write_bytes(buf.getvalue())
    out.append(("vba-inside", vba, "", "macro-enabled"))
    plain_zip = tmp / "archive.xlsx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hello")
    plain_zip.write_bytes(buf.getvalue())
    out.append(("zip-not-workbook", plain_zip, "", "not an Excel workbook"))
    cut = tmp / "cut.xlsx"
    cut.write_bytes(template[: len(template) // 2])
    out.append(("truncated", cut, "", "not an Excel workbook"))
    return out


def test_the_corpus_is_large_enough() -> None:
    assert len(EDITS) + 7 >= 20


@pytest.mark.parametrize("name, edit, where, words", EDITS, ids=[e[0] for e in EDITS])
def test_bad_cell(name: str, edit: Edit, where: str, words: str, shipped: Path, template: bytes,
                  tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(template))
    edit(wb)
    path = _save(wb, tmp_path / f"{name}.xlsx")
    before = scenario_files(shipped)
    code = main(["import", str(path), "--as", "bad", "--project", str(shipped)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err
    assert f"  - {name}.xlsx, {where}: " in err, err
    assert words in err, err
    assert scenario_files(shipped) == before


def test_bad_files(shipped: Path, template: bytes, tmp_path: Path,
                   capsys: pytest.CaptureFixture[str]) -> None:
    for name, path, _where, words in _files(tmp_path, template):
        before = scenario_files(shipped)
        code = main(["import", str(path), "--as", "bad", "--project", str(shipped)])
        err = capsys.readouterr().err
        assert code == 2, (name, err)
        assert "Traceback" not in err and "internal error" not in err, name
        assert f"  - {path.name}: " in err and words in err, (name, err)
        assert scenario_files(shipped) == before, name


def test_every_problem_at_once(shipped: Path, template: bytes, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(template))
    for _, edit, _, _ in EDITS[:6]:
        edit(wb)
    path = _save(wb, tmp_path / "many.xlsx")
    assert main(["import", str(path), "--as", "bad", "--project", str(shipped)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("alloc: 6 problems in the input:"), err
