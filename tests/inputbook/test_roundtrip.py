"""Template, then import: no edit gives no override and the same plan; random edits of number
cells give exactly those overrides, and the resolved scenario holds the values typed."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alloc.errors import InputError
from alloc.inputbook import import_workbook, write_template
from alloc.inputbook.layout import MISSING, NUMBER, SHARE, build, cells, get, ref
from alloc.model.scenario import resolve
from tests.inputbook.conftest import REPO, copy_project, scenario_files

SHIPPED = sorted(p.stem for p in (REPO / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("scenario", SHIPPED)
def test_no_edit_gives_no_override(scenario: str, shipped: Path, tmp_path: Path) -> None:
    book = write_template(scenario, shipped, tmp_path / f"{scenario}.xlsx")
    done = import_workbook(book, shipped, f"rt-{scenario}")
    assert done.changes == []
    assert done.parent == scenario
    again = resolve(f"rt-{scenario}", shipped)
    assert again.doc == resolve(scenario, shipped).doc
    assert [o for o in again.overrides if o.scenario == f"rt-{scenario}"] == []


def test_the_template_is_deterministic(shipped: Path, tmp_path: Path) -> None:
    a = write_template("cyber-standalone", shipped, tmp_path / "a.xlsx").read_bytes()
    b = write_template("cyber-standalone", shipped, tmp_path / "b.xlsx").read_bytes()
    assert a == b


def test_another_parent(shipped: Path, template: bytes, tmp_path: Path) -> None:
    """The baseline's workbook imported over cut-5pct: the cut is the only difference, and the
    baseline's workbook has none, so the new scenario takes the cut away."""
    path = tmp_path / "over-cut.xlsx"
    path.write_bytes(template)
    done = import_workbook(path, shipped, "over-cut", parent="cut-5pct")
    assert [c.path for c in done.changes] == [("financial_plan", "growth", "cut")]
    assert "financial_plan.growth.cut" in done.text and "sheet Revenue" in done.text
    doc = resolve("over-cut", shipped).doc
    assert doc["financial_plan"].pop("growth") == {}  # cut-5pct's table, emptied
    assert doc == resolve("baseline", shipped).doc


def _number_cells(root: Path) -> list[tuple[str, str, tuple[str, ...], bool, str, float]]:
    """(sheet, cell, key, by year, kind, value) of the number cells a finance officer edits."""
    doc = resolve("baseline", root).doc
    out = []
    for sheet in build(doc, "CHF thousands").sheets:
        if sheet.name not in ("Revenue", "Funds", "Requirements", "Weights", "Previous"):
            continue
        for block, top in sheet.places():
            if block.title in ("Tranches", "Settings"):
                continue
            for i, row in enumerate(block.rows):
                for c, _col, kind, key in cells(block, row):
                    value = get(doc, key, _col.by_year)
                    if kind in (NUMBER, SHARE) and isinstance(value, int | float):
                        out.append((sheet.name, ref(top + 2 + i, c), key, _col.by_year, kind,
                                    float(value)))
    return out


_names = itertools.count()


@pytest.fixture(scope="module")
def template_file(shipped: Path, template: bytes) -> Path:
    """The template as a file (a path, not bytes, shows in a falsifying example)."""
    return shipped / "baseline-in.xlsx"


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_edits_become_exactly_those_overrides(data: Any, shipped: Path, template_file: Path,
                                             tmp_path: Path) -> None:
    numbers = _number_cells(shipped)
    picks = data.draw(st.lists(st.sampled_from(numbers), min_size=1, max_size=4,
                               unique_by=lambda n: (n[0], n[1])))
    wb = openpyxl.load_workbook(template_file)
    typed = []
    base = resolve("baseline", shipped).doc
    expected = set()
    for sheet, cell, key, by_year, kind, old in picks:
        step = data.draw(st.integers(1, 50))
        share = round(old * (1 - step / 200), 6) if old > 0 else step / 1000
        new = share if kind == SHARE else old + step
        wb[sheet][cell] = new
        typed.append((key, by_year, new))
        whole = get(base, key[:-1])
        expected.add(key[:-1] if by_year and not isinstance(whole, dict) else key)
    path = tmp_path / f"edited-{next(_names)}.xlsx"
    wb.save(path)
    done = import_workbook(path, shipped, "edited", force=True)
    assert {c.path for c in done.changes} == expected
    for change in done.changes:
        assert change.where in done.text
    doc = resolve("edited", shipped).doc
    for key, by_year, new in typed:
        got = get(doc, key, by_year)
        assert got is not MISSING and float(got) == new, (key, got, new)
    for other in ("Revenue", "Funds"):  # nothing else moved
        for sheet, _cell, key, by_year, _kind, old in _number_cells(shipped):
            if sheet == other and all(key != k for k, _, _ in typed):
                assert float(get(doc, key, by_year)) == old
    assert not [f for f in scenario_files(shipped) if "/.import-" in f]


def test_an_x_and_a_cleared_cell(shipped: Path, template_file: Path, tmp_path: Path) -> None:
    """A new x in the mandate adds the cell; a cleared note removes the key: one change each,
    the removal under [scenario] remove."""
    wb = openpyxl.load_workbook(template_file)
    ws = wb["Mandate"]
    assert (ws["A6"].value, ws["B6"].value, ws["G5"].value) == ("BR", "TP1", "PS5")
    assert ws["G6"].value is None
    ws["G6"] = "x"
    assert wb["Funds"]["A7"].value == "voluntary_unearmarked"
    wb["Funds"]["M7"] = None
    wb.save(tmp_path / "x.xlsx")
    done = import_workbook(tmp_path / "x.xlsx", shipped, "with-x")
    assert [c.path for c in done.changes] == [
        ("financial_plan", "funds", "voluntary_unearmarked", "source"), ("mandate", "BR/TP1/PS5")]
    assert "remove = [\n  \"financial_plan.funds.voluntary_unearmarked.source\",   # sheet " \
        "Funds, cell M7\n]" in done.text
    assert '[mandate."BR/TP1/PS5"]\n# added: sheet Mandate, cell G6' in done.text
    doc = resolve("with-x", shipped).doc
    assert doc["mandate"]["BR/TP1/PS5"] == {}
    assert "source" not in doc["financial_plan"]["funds"]["voluntary_unearmarked"]


def test_model_changed_since_the_template(tmp_path: Path) -> None:
    """A workbook made before a model file changed: its old value becomes an override, and the
    file and the CLI say the model changed since."""
    root = copy_project(tmp_path / "project")
    book = write_template("baseline", root, tmp_path / "old.xlsx")
    plan = root / "models" / "itu-2024-2027" / "financial-plan.toml"
    plan.write_text(plan.read_text().replace("amount = { 2024 = 18500,", "amount = { 2024 = 18600,"))
    done = import_workbook(book, root, "old")
    assert [c.path for c in done.changes] == [
        ("financial_plan", "revenue", "publications", "amount", "2024")]
    assert done.stale == ["models/itu-2024-2027/financial-plan.toml"]
    assert "# Changed since the template was made: models/itu-2024-2027/financial-plan.toml" \
        in done.text


def test_a_parent_of_another_model_is_refused(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    shutil.copytree(REPO / "tests" / "project" / "models" / "tiny", root / "models" / "tiny")
    shutil.copy(REPO / "tests" / "project" / "scenarios" / "tiny.toml", root / "scenarios")
    book = write_template("baseline", root, tmp_path / "in.xlsx")
    with pytest.raises(InputError) as caught:
        import_workbook(book, root, "mixed", parent="tiny")
    assert "in.xlsx, sheet Provenance: the workbook is of model 'itu-2024-2027', the parent " \
        "'tiny' of model 'tiny'" in str(caught.value)
    assert not (root / "scenarios" / "mixed.toml").exists()


def test_libreoffice_booleans(shipped: Path, template_file: Path, tmp_path: Path) -> None:
    """LibreOffice saves TRUE and FALSE as the formulas =TRUE() and =FALSE(): read as values."""
    wb = openpyxl.load_workbook(template_file)
    assert wb["Funds"]["I5"].value == "Must spend (TRUE/FALSE)"
    wb["Funds"]["I6"] = "=FALSE()"
    wb["Funds"]["I7"] = "=TRUE()"
    wb.save(tmp_path / "lo.xlsx")
    done = import_workbook(tmp_path / "lo.xlsx", shipped, "lo-bools")
    assert [(c.path[-2:], c.value) for c in done.changes] == [
        (("voluntary_unearmarked", "must_spend"), True)]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_saved_by_libreoffice(shipped: Path, template_file: Path, tmp_path: Path) -> None:
    """The template opened and saved again by LibreOffice imports with no override."""
    subprocess.run(["soffice", "--headless", "--convert-to", "xlsx:Calc MS Excel 2007 XML",
                    "--outdir", str(tmp_path / "out"), str(template_file)], check=True,
                   capture_output=True, timeout=300,
                   env={**os.environ, "HOME": str(tmp_path)})  # a profile of its own
    done = import_workbook(tmp_path / "out" / template_file.name, shipped, "via-libreoffice")
    assert done.changes == []
