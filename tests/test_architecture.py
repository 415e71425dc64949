"""Who may import what: the stages' boundaries, enforced."""

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


SOLVER_PACKAGES = {"highspy", "pulp"}
SOLVER_NAMES = ("HiGHS", "HiGHS_CMD", "PULP_CBC_CMD", "COIN_CMD")
BACKENDS = "lp/backends/"


def test_only_the_backends_import_a_solver() -> None:
    """Every line that knows a solver lives in alloc/lp/backends/, one module per backend."""
    importers = {m: names & SOLVER_PACKAGES for m, names in modules().items()
                 if names & SOLVER_PACKAGES}
    assert importers == {"lp/backends/highs.py": {"highspy"}, "lp/backends/pulp.py": {"pulp"}}


def test_only_the_backends_name_solvers() -> None:
    for path in PACKAGE.rglob("*.py"):
        if not path.relative_to(PACKAGE).as_posix().startswith(BACKENDS):
            text = path.read_text()
            for solver_name in SOLVER_NAMES:
                assert f'"{solver_name}"' not in text, f"{path.name} names solver {solver_name}"


def alloc_imports(path: Path) -> set[str]:
    """The alloc modules a module imports (`import alloc.x`, `from alloc.x import ...`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name == "alloc" or name.startswith("alloc.")}


def test_the_backends_know_the_program_not_the_builder() -> None:
    """A backend takes a built program (alloc.lp.program); how rules become rows is not its
    business, and neither is the orchestration of alloc.lp.solve."""
    allowed = {"alloc.errors", "alloc.lp.program", "alloc.lp.solution", "alloc.lp.backends.base",
               "alloc.lp.backends.highs"}
    for path in (PACKAGE / "lp" / "backends").glob("*.py"):
        assert alloc_imports(path) <= allowed, path.name


def test_the_checker_shares_no_code_with_the_builder() -> None:
    path = PACKAGE / "lp" / "verify.py"
    assert not imports(path) & SOLVER_PACKAGES
    assert alloc_imports(path) <= {"alloc.model.domain"}, alloc_imports(path)


def test_the_checker_has_a_function_per_rule_group_of_the_builder() -> None:
    """alloc.lp.verify recomputes each rule group the builder makes rows of, under the same name."""
    from alloc.lp import build, verify

    rule_groups = ("ceiling", "envelopes", "committed", "bounds", "stability", "funds",
                   "mandate_cells")
    for name in rule_groups:
        assert callable(getattr(build, name)) and getattr(verify, name) in verify.RULES, name
    assert callable(build.requirements) and callable(verify.requirements)


SHARED = {"alloc.errors", "alloc.text", "alloc.suggest", "alloc._version"}
"""Small modules every stage may use: error types, text escaping, did-you-mean, the version."""


def package_imports(package: str) -> dict[str, set[str]]:
    """Per module of a stage package, the alloc modules it imports from outside the package."""
    out = {}
    for path in (PACKAGE / package).rglob("*.py"):
        outside = {m for m in alloc_imports(path) if not m.startswith(f"alloc.{package}")}
        out[path.relative_to(PACKAGE).as_posix()] = outside
    return out


def test_the_model_stage_knows_no_later_stage() -> None:
    """files -> Plan: nothing of programs, solvers, explanations or reports."""
    for module, names in package_imports("model").items():
        assert names <= SHARED, (module, names - SHARED)


def test_the_lp_stage_knows_only_the_model() -> None:
    for module, names in package_imports("lp").items():
        others = {n for n in names - SHARED if not n.startswith("alloc.model.")}
        assert not others, (module, others)


def test_the_report_stage_uses_only_the_solution_of_the_lp() -> None:
    """Tables are pure functions of the Solution: no builder, solver, explanation or sweep."""
    for module, names in package_imports("report").items():
        others = {n for n in names - SHARED - {"alloc.lp.solution"}
                  if not n.startswith("alloc.model.")}
        assert not others, (module, others)


def test_explanations_come_before_reports() -> None:
    """explain re-solves copies of the program and hands sheets and files to the report stage;
    it knows nothing of comparisons, sweeps, the API or the command line."""
    for module, names in package_imports("explain").items():
        others = {n for n in names - SHARED
                  if not n.startswith(("alloc.model.", "alloc.lp.", "alloc.report."))}
        assert not others, (module, others)


def test_only_the_entry_points_use_the_api_and_the_command_line() -> None:
    for path in PACKAGE.rglob("*.py"):
        module = path.relative_to(PACKAGE).as_posix()
        names = alloc_imports(path)
        if module not in ("cli.py", "_entry.py", "__init__.py", "__main__.py"):
            assert "alloc.cli" not in names, module
        if module not in ("cli.py", "__init__.py") and not module.startswith("web/"):
            assert "alloc.api" not in names, module


def test_the_web_view_holds_no_allocation_logic() -> None:
    """alloc serve/publish lay out what the API computes: they never build or solve a program."""
    for module, names in package_imports("web").items():
        assert not {n for n in names if n.startswith("alloc.lp")}, (module, names)


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
