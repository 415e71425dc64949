"""`alloc template` and `alloc import` as a user runs them: real processes, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tests.inputbook.conftest import copy_project, scenario_files


def alloc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alloc", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


def _reports(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}


@pytest.mark.parametrize("scenario", ["baseline", "cyber-standalone"])
def test_round_trip_gives_the_same_reports(scenario: str, project: Path) -> None:
    made = alloc("template", scenario, "-o", "in.xlsx", cwd=project)
    assert made.returncode == 0, made.stderr
    assert "wrote in.xlsx" in made.stdout
    done = alloc("import", "in.xlsx", "--as", "again", cwd=project)
    assert done.returncode == 0, done.stderr
    assert f"0 overrides of '{scenario}'" in done.stdout
    for name in (scenario, "again"):
        run = alloc("run", name, "--quiet", "--reports", "out", cwd=project)
        assert run.returncode == 0, run.stderr
    first, second = _reports(project / "out" / scenario), _reports(project / "out" / "again")
    assert first.keys() == second.keys()
    for name in first:
        if name.endswith(".csv"):
            assert first[name] == second[name], name  # byte for byte
    md = second["appendix-a.md"].decode().replace("again \\<- ", "").replace("'again'",
                                                                             f"'{scenario}'")
    md = md.replace("**again**", f"**{scenario}**").replace("/again (DRAFT)", f"/{scenario} (DRAFT)")
    assert md == first["appendix-a.md"].decode()
    a, b = (json.loads(x["run.json"]) for x in (first, second))
    for key in ("ceiling", "allocated", "objective", "status"):
        assert a[key] == b[key]
    assert [o for o in b["overrides"] if o["scenario"] == "again"] == []


def test_one_cell_gives_one_override(project: Path) -> None:
    assert alloc("template", "-o", "in.xlsx", cwd=project).returncode == 0
    wb = openpyxl.load_workbook(project / "in.xlsx")
    assert wb["Revenue"]["A6"].value == "member_states"
    wb["Revenue"]["E6"] = 330000
    wb.save(project / "unit.xlsx")
    done = alloc("import", "unit.xlsx", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "1 override of 'baseline'" in done.stdout
    text = (project / "scenarios" / "unit.toml").read_text()
    assert "[financial_plan.revenue.member_states]\nunit_value_chf = 330000   # sheet Revenue, " \
        "cell E6\n" in text
    run = alloc("run", "unit", "--quiet", "--reports", "out", cwd=project)
    assert run.returncode == 0, run.stderr
    record = json.loads((project / "out" / "unit" / "run.json").read_text())
    mine = [o for o in record["overrides"] if o["scenario"] == "unit"]
    assert mine == [{"scenario": "unit", "key": "financial_plan.revenue.member_states."
                     "unit_value_chf", "old": 318000, "new": 330000}]
    assert record["ceiling"]["2024"]["total"] > 179066 + 344 * 12 - 1


def test_import_refuses_to_overwrite(project: Path) -> None:
    assert alloc("template", "zng", "-o", "z.xlsx", cwd=project).returncode == 0
    before = (project / "scenarios" / "zng.toml").read_bytes()
    refused = alloc("import", "z.xlsx", "--as", "zng", cwd=project)
    assert refused.returncode == 2
    assert "scenarios/zng.toml: already exists" in refused.stderr
    assert (project / "scenarios" / "zng.toml").read_bytes() == before
    looped = alloc("import", "z.xlsx", "--as", "zng", "--force", cwd=project)
    assert looped.returncode == 2
    assert "cannot be its own parent" in looped.stderr
    assert (project / "scenarios" / "zng.toml").read_bytes() == before
    assert alloc("import", "z.xlsx", "--as", "z2", cwd=project).returncode == 0
    assert alloc("import", "z.xlsx", "--as", "z2", cwd=project).returncode == 2
    forced = alloc("import", "z.xlsx", "--as", "z2", "--force", cwd=project)
    assert forced.returncode == 0, forced.stderr


def test_bad_names_and_paths(project: Path) -> None:
    assert alloc("template", "-o", "in.xlsx", cwd=project).returncode == 0
    before = scenario_files(project)
    for args, words in (
        (("import", "in.xlsx", "--as", "con"), "Windows device"),
        (("import", "in.xlsx", "--as", "a/b"), "folder separator"),
        (("import", "missing.xlsx"), "missing.xlsx: file not found"),
        (("template", "-o", "no/such/dir/in.xlsx"), "no folder no/such/dir"),
        (("template", "-o", "in.xlsm"), "must end in .xlsx"),
        (("template", "nope"), "scenarios/nope.toml: no such scenario"),
        (("template", "-o", "in.xlsx"), "in.xlsx: already exists (edits in it would be lost)"),
    ):
        out = alloc(*args, cwd=project)
        assert out.returncode == 2, (args, out.stderr)
        assert words in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr
    assert scenario_files(project) == before
    again = alloc("template", "zng", "-o", "in.xlsx", "--force", cwd=project)
    assert again.returncode == 0, again.stderr


def test_template_is_protected_and_validated(project: Path) -> None:
    assert alloc("template", "-o", "in.xlsx", cwd=project).returncode == 0
    wb = openpyxl.load_workbook(project / "in.xlsx")
    assert wb.sheetnames[:2] == ["Instructions", "Lists"]
    assert {"Revenue", "Funds", "Envelopes", "Committed", "Bounds", "Weights", "Requirements",
            "Previous", "Mandate", "Framework", "Provenance"} <= set(wb.sheetnames)
    ws = wb["Revenue"]
    assert ws.protection.sheet and not ws.protection.password
    assert ws["A6"].protection.locked and not ws["D6"].protection.locked
    assert ws["F5"].value == "2024 (CHF thousands)"
    assert ws["J6"].value.startswith("illustrative")
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert {"list", "decimal"} <= kinds
    prov = {r[0].value: r[1].value for r in wb["Provenance"].iter_rows(min_row=3, max_col=2)}
    assert prov["Template of scenario"] == "baseline"
    assert prov["Model"] == "itu-2024-2027"
    assert len(prov["models/itu-2024-2027/requirements.csv"]) == 64
    assert wb["Lists"].sheet_state == "hidden"


def test_the_template_of_an_illustrative_model_says_so_on_every_sheet(project: Path) -> None:
    done = alloc("template", "baseline", "-o", "inputs.xlsx", cwd=project)
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(project / "inputs.xlsx")
    for ws in book.worksheets:
        if ws.sheet_state == "visible":
            assert str(ws["A1"].value).startswith("ILLUSTRATIVE FIGURES"), ws.title
        assert "ILLUSTRATIVE FIGURES" in (ws.oddHeader.center.text or ""), ws.title
