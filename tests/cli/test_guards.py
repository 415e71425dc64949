"""Guards before the work: numbers on the command line, the size of a sweep, the size of a model.

Every refusal here exits 2 (argparse's own, or alloc's InputError) with the option or file named
and what to do, before anything is read or written; the model-size guard fires before the mandate
is parsed, and compares with the memory available, not the machine's total.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alloc.model.scenario
import alloc.model.size
from alloc import options
from alloc.cli import main
from alloc.compare import core as compare_core
from alloc.errors import InputError
from alloc.model.size import Estimate, estimate_document
from alloc.options import count_values, parse_values
from alloc.sweep import core as sweep_core


def cli(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `alloc ARGS`, argparse's own exits included."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


# --- numbers on the command line ---------------------------------------------------------------

OPTION_CASES = [
    # (arguments after the command, the option the message names, a word it must say)
    (["run", "--time-limit", "nan"], "--time-limit", "finite"),
    (["run", "--time-limit", "inf"], "--time-limit", "finite"),
    (["run", "--time-limit", "-5"], "--time-limit", "seconds"),
    (["run", "--time-limit", "0"], "--time-limit", "above 0"),
    (["run", "--time-limit", "soon"], "--time-limit", "not a number"),
    (["explain", "--tolerance", "nan"], "--tolerance", "finite"),
    (["explain", "--tolerance", "-0.1"], "--tolerance", "0 to 10"),
    (["explain", "--tolerance", "11"], "--tolerance", "0 to 10"),
    (["sweep", "--draws", "-5"], "--draws", "1 or more"),
    (["sweep", "--draws", "0"], "--draws", "1 or more"),
    (["sweep", "--draws", "1.5"], "--draws", "whole number"),
    (["sweep", "--draws", "3", "--seed", "-1"], "--seed", "4,294,967,295"),
    (["sweep", "--draws", "3", "--seed", str(2**32)], "--seed", "4,294,967,295"),
    (["sweep", "--draws", "3", "--seed", "x"], "--seed", "whole number"),
    (["sweep", "--draws", "3", "--workers", "0"], "--workers", "from 1 to"),
    (["sweep", "--draws", "3", "--workers", "100000"], "--workers", "from 1 to"),
    (["sweep", "--draws", "3", "--spread", "7"], "--spread", "0 to 0.5"),
    (["sweep", "--draws", "3", "--spread", "nan"], "--spread", "finite"),
    (["sweep", "--draws", "3", "--spread", "development_trust=-0.1"], "--spread", "0 to 0.5"),
    (["sweep", "--draws", "3", "--spread", "=0.1"], "--spread", "names no fund"),
    (["sweep", "--draws", "3", "--max-variants", "0"], "--max-variants", "1 or more"),
    (["sweep", "--ceiling", "nan"], "--ceiling", "finite"),
    (["sweep", "--ceiling", "0:inf:1"], "--ceiling", "finite"),
    (["sweep", "--ceiling", "1:0:0.1"], "--ceiling", "below start"),
    (["sweep", "--ceiling", "0:1:0"], "--ceiling", "step"),
    (["sweep", "--ceiling", "0:1"], "--ceiling", "3"),
    (["sweep", "--ceiling", ","], "--ceiling", "no value"),
    (["sweep", "--ceiling", "a,b"], "--ceiling", "not a number"),
    (["sweep", "--ceiling=-1e308:1e308:1e-300"], "--ceiling", "too many"),
    (["sweep", "--receipt-rate", "development_trust"], "--receipt-rate", "NAME=VALUES"),
    (["sweep", "--receipt-rate", "development_trust=nan"], "--receipt-rate", "finite"),
    (["sweep", "--pledge", "=5"], "--pledge", "NAME=VALUES"),
    (["sweep", "--target", "TP1=0.3:0.2:0.01"], "--target", "below start"),
    (["sweep", "--weight", "TP1=1,inf"], "--weight", "finite"),
    (["sweep", "--set", "rules.targets.TP1.share=0:1:-1"], "--set", "step"),
]


@pytest.mark.parametrize(("args", "option", "word"), OPTION_CASES,
                         ids=[" ".join(c[0]) for c in OPTION_CASES])
def test_a_bad_number_exits_2_naming_the_option(project: Path, monkeypatch, args: list[str],
                                                 option: str, word: str) -> None:
    def no_work(*_: object) -> None:
        raise AssertionError("files were read before the command line was checked")

    monkeypatch.setattr(alloc.model.scenario, "resolve", no_work)
    monkeypatch.setattr(sweep_core, "resolve", no_work)
    code, _, err = cli(*args, "--project", str(project))
    assert code == 2, err
    assert option in err and word in err, err
    assert "Traceback" not in err and "internal error" not in err
    assert not (project / "reports").exists()


@pytest.mark.parametrize("args", [
    ["sweep", "--ceiling", "0.9:1.1:1e-9"],
    ["sweep", "--draws", "100001"],
    ["sweep", "--draws", "3", "--max-variants", "2"],
    ["sweep", "--ceiling", "0:1:0.01", "--receipt-rate", "development_trust=0:1:0.001"],
])
def test_a_sweep_of_too_many_variants_is_refused_before_any_work(project: Path, monkeypatch,
                                                                 args: list[str]) -> None:
    monkeypatch.setattr(sweep_core, "resolve", lambda *_: pytest.fail("resolved"))
    monkeypatch.setattr(sweep_core, "grid", lambda *_: pytest.fail("variants made"))
    started = time.perf_counter()
    code, _, err = cli(*args, "--project", str(project))
    assert time.perf_counter() - started < 5
    assert code == 2, err
    assert "variants, more than the limit of" in err and "--max-variants" in err
    assert "would take about" in err
    assert "Traceback" not in err and not (project / "reports").exists()


def test_the_limit_names_the_count_and_max_variants_allows_it(project: Path) -> None:
    code, _, err = cli("sweep", "--ceiling", "0.9:1.1:1e-9", "--project", str(project))
    assert code == 2
    assert "200,000,001 variants" in err and "100,000" in err and "35 days" in err
    code, _, err = cli("sweep", "--draws", "3", "--max-variants", "2", "--project",
                       str(project))
    assert code == 2 and "3 variants" in err and "--max-variants 3" in err
    code, out, err = cli("sweep", "--draws", "3", "--max-variants", "3", "--project",
                         str(project))
    assert code == 0, err
    assert "3 variants (3 optimal)" in out


def test_the_results_of_a_sweep_must_fit_in_memory(project: Path, monkeypatch) -> None:
    monkeypatch.setattr(alloc.model.size, "available_memory", lambda: 10 * sweep_core.BYTES_PER_VARIANT)
    code, _, err = cli("sweep", "--draws", "50", "--project", str(project))
    assert code == 2 and "results would need about" in err and "fewer draws" in err


def test_draws_and_a_grid_together_are_refused_first(project: Path, monkeypatch) -> None:
    monkeypatch.setattr(sweep_core, "resolve", lambda *_: pytest.fail("resolved"))
    code, _, err = cli("sweep", "--draws", "5", "--ceiling", "1,2", "--project", str(project))
    assert code == 2 and "either --draws or grid" in err


def test_a_spread_for_an_unknown_fund_is_refused(project: Path) -> None:
    code, _, err = cli("sweep", "--draws", "3", "--spread", "nofund=0.1", "--project",
                       str(project))
    assert code == 2 and "'nofund' is not a fund" in err and "development_trust" in err


def test_good_numbers_still_pass(project: Path) -> None:
    code, _, err = cli("run", "tiny", "--time-limit", "60", "--quiet", "--project", str(project))
    assert code == 0, err
    code, _, err = cli("sweep", "tiny", "--draws", "2", "--seed", str(2**32 - 1), "--spread",
                       "0", "--spread", "F=0.5", "--workers", "1", "--quiet", "--project",
                       str(project))
    assert code == 0, err


# --- compare ------------------------------------------------------------------------------------

def test_compare_refuses_the_same_scenario_twice(project: Path, monkeypatch) -> None:
    monkeypatch.setattr(compare_core, "resolve", lambda *_: pytest.fail("resolved"))
    code, _, err = cli("compare", "baseline", "baseline", "--project", str(project))
    assert code == 2
    assert "compare: needs different scenarios; 'baseline' is given twice" in err
    code, _, err = cli("compare", "tiny", str(project / "scenarios" / "tiny.toml"), "--project",
                       str(project))
    assert code == 2 and "are the same scenario" in err
    other = project / "elsewhere"
    other.mkdir()
    shutil.copy(project / "scenarios" / "tiny.toml", other / "tiny.toml")
    code, _, err = cli("compare", "tiny", str(other / "tiny.toml"), "--project", str(project))
    assert code == 2 and "both named 'tiny'" in err and "rename" in err
    assert "Traceback" not in err and not (project / "reports").exists()


# --- any text: a clean refusal, or finite values of bounded number -----------------------------

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e308, -1e308, 1.7976931348623157e308, 5e-324, 1e-9, 1e-300]),
    st.integers(-10**6, 10**6).map(float),
)
TEXT = st.one_of(
    st.text(alphabet="0123456789.,:-+eEinfaINFA _x", max_size=30),
    st.tuples(NUMBERS, NUMBERS, NUMBERS).map(lambda t: ":".join(repr(x) for x in t)),
    st.lists(NUMBERS, max_size=6).map(lambda xs: ",".join(repr(x) for x in xs)),
    st.tuples(NUMBERS, NUMBERS, NUMBERS).map(lambda t: f"{t[0]}:{t[1]}:{t[2]}"),
)


@settings(max_examples=400, deadline=None)
@given(TEXT, st.integers(1, 2000))
def test_values_are_refused_cleanly_or_finite_and_bounded(text: str, limit: int) -> None:
    try:
        values = parse_values(text, limit)
    except InputError as exc:
        assert "expected values as a,b,c or start:stop:step" in str(exc)
        return
    assert 1 <= len(values) <= limit
    assert len(values) == count_values(text)
    assert all(isinstance(v, float) and math.isfinite(v) for v in values)


OPTION_TYPES = {
    options.seconds: lambda v: math.isfinite(v) and v > 0,
    options.tolerance: lambda v: 0 <= v <= options.MAX_TOLERANCE,
    options.draws: lambda v: isinstance(v, int) and v >= 1,
    options.seed: lambda v: isinstance(v, int) and 0 <= v < options.SEED_LIMIT,
    options.workers: lambda v: isinstance(v, int) and 1 <= v <= options.max_workers(),
    options.max_variants: lambda v: isinstance(v, int) and v >= 1,
    options.spread: lambda v: isinstance(v, str),
    options.values: lambda v: isinstance(v, str),
    options.keyed_values: lambda v: isinstance(v, str) and "=" in v,
}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(OPTION_TYPES, key=lambda f: f.__name__)),
       st.one_of(TEXT, NUMBERS.map(repr), st.integers().map(str),
                 st.tuples(st.sampled_from(["F", "", "a.b"]), TEXT).map("=".join)))
def test_option_types_refuse_cleanly_or_give_a_value_in_range(kind, text: str) -> None:
    try:
        value = kind(text)
    except argparse.ArgumentTypeError as exc:
        assert str(exc) and "expected" in str(exc)
        return
    assert OPTION_TYPES[kind](value), (kind.__name__, text, value)
    if kind in (options.values, options.keyed_values):
        count_values(value.partition("=")[2] if kind is options.keyed_values else value)


def test_values_keep_their_former_meaning() -> None:
    """The same VALUES give the same numbers as before (reports of valid sweeps unchanged)."""
    assert parse_values("0.6:0.8:0.1") == [0.6, 0.7, 0.8]
    assert parse_values("0.99:1.0:0.01") == [0.99, 1.0]
    assert parse_values("1, 2.5,") == [1.0, 2.5]
    assert count_values("0.9:1.1:1e-9") == 200_000_001
    with pytest.raises(InputError, match="more than the limit of 1,000"):
        parse_values("0:1:0.0001", 1000)


# --- the size of the model ---------------------------------------------------------------------

GB = 2**30


def big_mandate(project: Path, rows: int) -> Path:
    """The tiny model's mandate with `rows` copies of one row: written in a fraction of a
    second; the duplicate check (in resolution) must not be what refuses it."""
    path = project / "models" / "tiny" / "mandate.csv"
    with open(path, "w") as f:
        f.write("entity,priority,output,min,max,note\n")
        f.write("A,P1,O,,,\n" * rows)
    return path


def test_a_mandate_of_5e6_rows_is_refused_in_seconds_before_it_is_parsed(
        project: Path, monkeypatch) -> None:
    big_mandate(project, 5_000_000)
    monkeypatch.setattr(alloc.model.size, "available_memory", lambda: 16 * GB)
    monkeypatch.setattr(alloc.model.scenario, "parse_csv", lambda *_: pytest.fail("mandate parsed"))
    monkeypatch.setattr("alloc.model.load.validate", lambda *_: pytest.fail("validated"))
    started = time.perf_counter()
    code, _, err = cli("run", "tiny", "--project", str(project))
    seconds = time.perf_counter() - started
    assert code == 2, err
    assert seconds < 20
    assert "models/tiny/mandate.csv" in err and "too large for this machine's memory" in err
    assert "2 years" in err and "16.0 GB of memory available" in err
    assert "Reduce the mandate, the years or the funds" in err
    assert "Traceback" not in err and not (project / "reports").exists()


def test_a_mandate_of_5e6_rows_is_refused_with_the_real_memory(project: Path) -> None:
    """Unpatched: this machine's available memory (a model that large needs 60 GB at least)."""
    big_mandate(project, 5_000_000)
    available = alloc.model.size.available_memory()
    need = 5_000_000 * 2 * alloc.model.size.BYTES_PER_COLUMN
    if available is None or need <= 0.8 * available:
        pytest.skip("this machine has room for it")
    started = time.perf_counter()
    code, _, err = cli("check", "tiny", "--project", str(project))
    assert code == 2 and "too large" in err, err
    assert time.perf_counter() - started < 20


def test_the_years_a_scenario_sets_count_before_parsing(project: Path, monkeypatch) -> None:
    """The years are the scenario's (here more than the model's), read before the mandate."""
    big_mandate(project, 1000)
    (project / "scenarios" / "long.toml").write_text(
        '[scenario]\nparent = "tiny"\n[financial_plan.plan]\nyears = [2024, 2025, 2026, 2027]\n')
    monkeypatch.setattr(alloc.model.size, "available_memory", lambda: 1000 * 3 * 6000 / 0.8)
    monkeypatch.setattr(alloc.model.scenario, "parse_csv", lambda *_: pytest.fail("mandate parsed"))
    code, _, err = cli("check", "long", "--project", str(project))
    assert code == 2 and "x 4 years" in err, err
    assert "more than 750 rows" in err


def test_the_document_is_sized_before_it_is_validated(project: Path, monkeypatch) -> None:
    """A wildcard row is a cell per entity, priority and output: counted after resolution."""
    (project / "models" / "tiny" / "mandate.csv").write_text(
        "entity,priority,output,min,max,note\n*,*,*,,,\n")
    # 2 entities x 2 thematic priorities x 1 output, 2 years, the regular budget only (F is
    # earmarked): 8 columns
    monkeypatch.setattr(alloc.model.size, "available_memory", lambda: 7 * 6000 / 0.8)
    monkeypatch.setattr("alloc.model.load.validate", lambda *_: pytest.fail("validated"))
    code, _, err = cli("check", "tiny", "--project", str(project))
    assert code == 2, err
    assert ("models/tiny/mandate.csv: the model is too large for this machine's memory: 4 cells x "
            "2 years, with the regular budget on every cell and the 1 extrabudgetary fund on the "
            "cells their earmarks admit (4 cells and funds), is at least 8 allocation "
            "variables") in err


def tiny_fits_only_early(project: Path, monkeypatch) -> None:
    """The tiny model with a wildcard row, and memory between its early estimate and its exact
    size. Early: the rows naming one cell (A/S1/support, B/P2/O) or the wildcard row's two cells,
    and the fund F (earmarked to B) on B/P2/O: 3 cells and funds x 2 years, 6 columns. Exact:
    4 cells (A/*/O is A/P1/O and A/P2/O) and F on B/P2/O: 10 columns."""
    (project / "models" / "tiny" / "mandate.csv").write_text(
        "entity,priority,output,min,max,note\nA,*,O,,,\nA,S1,support,,,\nB,P2,O,,,\n")
    monkeypatch.setattr(alloc.model.size, "available_memory", lambda: 9 * 6000 / 0.8)


def test_the_exact_count_at_build_uses_available_memory(project: Path, monkeypatch) -> None:
    tiny_fits_only_early(project, monkeypatch)
    code, _, err = cli("run", "tiny", "--project", str(project))
    assert code == 1, err
    assert "the model has 10 allocation variables (4 cells x 2 years" in err
    assert "of memory available" in err and "Traceback" not in err
    run = json.loads((project / "reports" / "tiny" / "run.json").read_text())
    assert run["status"] == "too_large"


def test_compare_and_sweep_refuse_a_model_too_large_at_build(project: Path, monkeypatch) -> None:
    tiny_fits_only_early(project, monkeypatch)
    monkeypatch.setattr(sweep_core, "BYTES_PER_VARIANT", 0)
    shutil.copy(project / "scenarios" / "tiny.toml", project / "scenarios" / "tiny2.toml")
    for args in (["compare", "tiny", "tiny2"], ["sweep", "tiny", "--draws", "2"]):
        code, _, err = cli(*args, "--project", str(project))
        assert code == 2, err
        assert "models/tiny/mandate.csv" in err and "10 allocation variables" in err
        assert "internal error" not in err and not (project / "reports").exists()


def test_a_sweep_refuses_workers_that_would_not_fit(project: Path, monkeypatch) -> None:
    """The model fits once, not once per worker."""
    monkeypatch.setattr(alloc.model.size, "available_memory", lambda: 9 * 6000 / 0.8)
    monkeypatch.setattr(sweep_core, "BYTES_PER_VARIANT", 0)
    code, _, err = cli("sweep", "tiny", "--draws", "120", "--workers", "3", "--project",
                       str(project))
    assert code == 2, err
    assert "--workers" in err and "in each of 3 processes" in err and "fewer --workers" in err


def test_estimates_are_lower_bounds() -> None:
    doc = {"framework": {"entities": {"A": {}, "B": {}}, "priorities": {"P1": {}, "P2": {}},
                         "outputs": {"O": {}, "Q": {}}},
           "financial_plan": {"plan": {"years": [2024, 2025, 2026]},
                              "funds": {"open": {}, "to_b": {"earmark": {"entities": "B"}},
                                        "bad": {"earmark": {"entities": 5}}}},
           "mandate": {"A/P1/O": {}, "B/P1/O": {}, "A/*/O": {}}}
    # 2 cells; the regular budget and the open fund on both, to_b on B/P1/O, bad on none
    assert estimate_document(doc) == Estimate(2, 3, 3, 5)
    assert estimate_document(doc, enough=10).fund_cells == 4      # enough already: not matched
    doc["mandate"]["*/*/*"] = {}                                  # 8 cells, 2 funds on each
    assert estimate_document(doc).cells == 8
    assert estimate_document(doc).columns == 8 * 2 * 3
    doc["mandate"] = {"X/*/*": {}, "A/support/*": {}}             # no such entity or priority
    assert estimate_document(doc).cells == 0
    doc["financial_plan"]["plan"]["years"] = "all of them"        # validation's to refuse
    assert estimate_document({**doc, "mandate": {"A/P1/O": {}}}).columns == 2


def test_rows_are_counted_as_the_csv_reader_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text('entity,priority,output,min,max,note\nA,P1,O,,,"two\nlines"\n\n , ,\n'
                    "*,P1,O,,,\nB,P1,O\n")
    assert alloc.model.size._count_rows(path, 100) == 2
    assert alloc.model.size._count_rows(path, 1) == 1


def test_available_memory_reads_the_cgroup_limits(tmp_path: Path) -> None:
    v2 = tmp_path / "v2"
    (v2 / "app" / "job").mkdir(parents=True)
    (v2 / "app" / "memory.max").write_text("1000000000\n")
    (v2 / "app" / "memory.current").write_text("400000000\n")
    (v2 / "app" / "job" / "memory.max").write_text("max\n")
    proc = tmp_path / "cgroup"
    proc.write_text("0::/app/job\n")
    assert alloc.model.size._cgroup_room(str(v2), str(proc)) == 600_000_000
    v1 = tmp_path / "v1"
    (v1 / "memory" / "box").mkdir(parents=True)
    (v1 / "memory" / "box" / "memory.limit_in_bytes").write_text("2000000000\n")
    (v1 / "memory" / "box" / "memory.usage_in_bytes").write_text("500000000\n")
    (v1 / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    proc.write_text("4:memory:/box\n3:cpu:/\n")
    assert alloc.model.size._cgroup_room(str(v1), str(proc)) == 1_500_000_000
    proc.write_text("0::/\n")
    assert alloc.model.size._cgroup_room(str(v2), str(proc)) is None
    available = alloc.model.size.available_memory()
    assert available is None or available > 0
