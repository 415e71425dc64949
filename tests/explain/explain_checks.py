"""What the tests of `alloc.explain` share: the referee's checks of a diagnosis (tests/lp_oracle.py
hands the built LP to HiGHS directly), the goal levels solved by the referee, random models
written to disk, and the command run as a user runs it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, assume, event, note, settings
from hypothesis.errors import InvalidArgument
from lp_oracle import LE, feasible, minimise, relaxed_rhs
from strategies import GeneratedModel

from alloc.errors import InputError
from alloc.explain import diagnose_infeasible
from alloc.explain.words import amount_text, short_source
from alloc.lp.build import LinearProgram
from alloc.lp.program import GOAL
from alloc.model.domain import Plan
from alloc.model.load import load_plan

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("ALLOC_EXPLAIN_EXAMPLES", "25"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# --- checking a diagnosis --------------------------------------------------------------------------

def assert_repairs(lp: LinearProgram, context: Sequence[Mapping], moves: Sequence[Mapping]) -> None:
    """Relaxing `moves` (with `context`) makes the LP feasible; leaving out any one does not."""
    assert moves, "a remedy names at least one rule"
    assert feasible(lp, relaxed_rhs(lp, [*context, *moves])), "the relaxation does not work"
    for k, m in enumerate(moves):
        assert m["amount"] > 0 and m["change"] in ("raise", "lower")
        others = [x for j, x in enumerate(moves) if j != k]
        assert not feasible(lp, relaxed_rhs(lp, [*context, *others])), (
            f"{m['name']} need not move: the set is not minimal")


def assert_diagnosis(lp: LinearProgram) -> dict:
    diagnosis = diagnose_infeasible(lp)
    record = diagnosis.record()
    with contextlib.suppress(InvalidArgument):  # outside a property test there is nothing to note
        note(record["message"])
        event(f"{len(record['conflicts'])} conflict(s)")
    assert record["conflicts"], "an infeasible model has at least one conflict"
    assert_repairs(lp, [], record["repair"]["moves"])
    for conflict in record["conflicts"]:
        assert conflict["remedies"]
        for remedy in conflict["remedies"]:
            assert_repairs(lp, conflict["context"], remedy["moves"])
            for m in remedy["moves"]:
                assert m["source"], f"{m['name']} is not traced to a file and key"
                assert short_source(m["source"]) in conflict["message"]
                assert f"by {amount_text(m['amount'])}" in remedy["text"]
    return record


@contextlib.contextmanager
def written(model: GeneratedModel) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="alloc-explain-") as tmp:
        model.write(Path(tmp))
        yield Path(tmp)


def plan_of(model: GeneratedModel) -> Plan:
    """The plan of a generated model; the example is dropped when its files do not load (the
    generator can draw rules that validation refuses)."""
    with written(model) as root:
        try:
            return load_plan(model.scenario, root)
        except InputError:
            assume(False)
            raise


def level_objective(lp: LinearProgram, k: int, scale: float = 1.0) -> dict[int, float]:
    level = lp.levels[k]
    return {int(c): float(a) / scale for c, a in zip(level.cols, level.coefs, strict=True)}


def level_scale(lp: LinearProgram, k: int) -> float:
    """The largest cost of a level: rows bounding it are divided by it, so that the referee's
    feasibility tolerance (1e-7) stays a tolerance on amounts, not on costs near 1e-5."""
    return float(np.abs(lp.levels[k].coefs).max()) or 1.0


def held(lp: LinearProgram, upto: int, optimum: Sequence[float]) -> list:
    """Rows keeping each level before `upto` at its optimum (its constant included), as the
    solver holds them."""
    tol = lp.plan.level_tolerance
    return [(LE, z + tol * abs(z) + tol - lp.levels[k].constant, level_objective(lp, k))
            for k, z in enumerate(optimum[:upto])]


def lexicographic(lp: LinearProgram, rhs: np.ndarray | None = None, upto: int | None = None,
                  exact: bool = False) -> list[float]:
    """Optima of the goal levels (their constants included), each solved with the earlier ones
    held as the solver holds them (`exact`: at their optimum, to solver noise, as holding the
    optimal face does)."""
    goals = [k for k, level in enumerate(lp.levels) if level.role == GOAL]
    optimum: list[float] = []
    for k in goals[:upto]:
        hold = ([(LE, (z - lp.levels[j].constant + 1e-9 * max(1.0, abs(z))) / level_scale(lp, j),
                  level_objective(lp, j, level_scale(lp, j))) for j, z in enumerate(optimum)]
                if exact else held(lp, k, optimum))
        z = minimise(lp, rhs, level_objective(lp, k), hold)
        assert z is not None
        optimum.append(z + lp.levels[k].constant)
    return optimum


def alloc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alloc", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def sheet_rows(path: Path, title: str) -> list[tuple]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    return list(book[title].iter_rows(values_only=True))
