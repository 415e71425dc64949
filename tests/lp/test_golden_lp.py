"""The built linear program, pinned by golden files (tests/lp/golden/<case>.lp).

Each file is a canonical text dump of what `build` makes of one scenario: every column in model
order; every row, sorted by name, with its sense, right-hand side, position in the model, rule
group, source and sentence, and its terms (`coefficient column`, sorted by column name); every
goal-programming level with its role, constant and costs (unscaled, sorted by column name), and
the diagonal of its quadratic part where it has one. Numbers are written
exactly (Python's shortest round-trip repr), so a change in any coefficient, or in the order of
the floating-point operations that made it, shows up as a diff.

A change to the LP that is meant (a new rule, a fixed coefficient) is recorded by regenerating
the files and reviewing the diff before committing it:

    .venv/bin/python -m pytest tests/lp --regen-golden
    git diff --stat tests/lp/golden

(The option exists when tests/lp, or a file in it, is named on the command line.)
"""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np
import pytest

from alloc.lp.build import build
from alloc.model.load import load_plan

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
CASES: dict[str, tuple[Path, str]] = {
    "tiny": (REPO / "tests" / "project", "tiny"),
    "fractions": (REPO / "tests" / "appendix_models", "fractions"),
    "baseline": (REPO, "baseline"),
    "eb-high": (REPO, "eb-high"),
    "cyber-standalone": (REPO, "cyber-standalone"),
}
"""Golden file name: (project folder, scenario). The tiny test model, the Appendix A test model
and three shipped scenarios (stability and cell bounds, a second fund mix, share targets)."""
SENSES = ("<=", ">=", "==")
REGENERATE = "python -m pytest tests/lp --regen-golden"


def _number(x: float) -> str:
    return repr(float(x))


def _terms(cols: np.ndarray, coefs: np.ndarray, names: list[str]) -> list[str]:
    pairs = sorted((names[c], float(a)) for c, a in zip(cols.tolist(), coefs.tolist(), strict=True))
    return [f"  {_number(a)} {name}" for name, a in pairs]


def dump(project: Path, scenario: str) -> str:
    """The canonical text of the LP built for a scenario."""
    lp = build(load_plan(scenario, project))
    names = list(lp.col_names)
    start, index, value = lp.matrix()
    row_names = list(lp.row_names)
    out = [f"# The LP built for scenario '{scenario}' of {project.relative_to(REPO).as_posix() or '.'}"
           f" (tests/lp/test_golden_lp.py).",
           f"# Regenerate on purpose only: {REGENERATE}",
           f"columns {len(names)}", *(f"  {n}" for n in names),
           f"rows {lp.n_rows}"]
    for i in sorted(range(lp.n_rows), key=lambda r: row_names[r]):
        a, b = int(start[i]), int(start[i + 1])
        out.append(f"row {row_names[i]} {SENSES[int(lp.senses[i])]} {_number(lp.rhs[i])}")
        out.append(f"  at {i}; rule {lp.rows[i].rule}; source {lp.row_sources[i]}")
        out.append(f"  text {lp.row_texts[i]}")
        out.extend(_terms(index[a:b], value[a:b], names))
    out.append(f"levels {len(lp.levels)}")
    for level in lp.levels:
        out.append(f"level {level.name}")
        out.append(f"  role {level.role}; constant {_number(level.constant)}")
        out.append(f"  text {level.text}")
        out.extend(_terms(level.cols, level.coefs, names))
        if level.quadratic is not None:
            out.append("  quadratic (x^2 / 2)")
            out.extend(_terms(level.cols, level.quadratic, names))
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_built_lp_is_the_golden_one(case: str, regen_golden: bool) -> None:
    path = GOLDEN / f"{case}.lp"
    got = dump(*CASES[case])
    if regen_golden:
        path.write_text(got)
        return
    assert path.exists(), f"no golden file {path.name}; write it with: {REGENERATE}"
    want = path.read_text()
    if got != want:
        diff = difflib.unified_diff(want.splitlines(), got.splitlines(), f"golden/{case}.lp",
                                    "built now", lineterm="", n=2)
        shown = "\n".join(list(diff)[:60])
        pytest.fail(f"the LP of {case} differs from its golden file (if the change is meant: "
                    f"{REGENERATE}, and review the diff):\n{shown}")


def test_every_golden_file_has_a_case() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.lp")) == sorted(CASES)
