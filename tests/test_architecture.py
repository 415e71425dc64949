"""The flow of DESIGN.md section 4, enforced: who may import what."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "alloc"


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def modules() -> dict[str, set[str]]:
    return {p.relative_to(PACKAGE).as_posix(): imports(p) for p in PACKAGE.rglob("*.py")}


def test_only_the_build_module_imports_pulp() -> None:
    assert {m for m, names in modules().items() if "pulp" in names} == {"lp/build.py"}


def test_only_the_solve_module_knows_solvers() -> None:
    assert {m for m, names in modules().items() if "highspy" in names} <= {"lp/solve.py"}
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).as_posix() != "lp/solve.py":
            text = path.read_text()
            for solver_name in ("HiGHS", "PULP_CBC_CMD", "COIN_CMD"):
                assert f'"{solver_name}"' not in text, f"{path.name} names solver {solver_name}"


def test_the_checker_shares_no_code_with_the_builder() -> None:
    names = imports(PACKAGE / "lp" / "verify.py")
    assert "pulp" not in names
    source = (PACKAGE / "lp" / "verify.py").read_text()
    assert "alloc.lp.build" not in source and "alloc.lp.solve" not in source


def test_loading_and_validation_know_nothing_of_the_lp() -> None:
    for path in (PACKAGE / "model").glob("*.py"):
        source, name = path.read_text(), path.name
        assert "alloc.lp.build" not in source and "alloc.lp.solve" not in source, name


def test_the_default_path_does_not_load_pulp(project: Path) -> None:
    """Loading, building, solving with HiGHS and checking never import PuLP: it cost start-up time
    on every run (issue 6); PuLP is for the CBC and highs-pulp paths only."""
    import subprocess
    import sys

    code = ("import sys; from alloc.lp.build import build; from alloc.model.load import load_plan; "
            "from alloc.lp.solve import solve; "
            f"s = solve(build(load_plan('baseline', {str(project)!r}))); "
            "assert s.status == 'optimal', s.status; print('pulp' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
