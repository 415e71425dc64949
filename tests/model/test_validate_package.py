"""alloc.model.validate as a whole: the entry point, parts that depend only on their arguments, what
alloc.model may import, and problems on many keys without a pass over the document for each."""

from __future__ import annotations

import ast
from pathlib import Path

from alloc.model.load import load_plan
from alloc.model.scenario import OriginsBelow, resolve
from alloc.model.validate import MAX_AMOUNT, validate
from alloc.model.validate.bounds import read_bounds
from alloc.model.validate.committed import read_commitments
from alloc.model.validate.envelopes import read_envelopes
from alloc.model.validate.fields import Document
from alloc.model.validate.framework import codes_of
from alloc.model.validate.funds import fund_codes_of, read_funds
from alloc.model.validate.mandate import read_mandate
from alloc.model.validate.revenue import ceilings
from alloc.model.validate.stability import read_stability
from alloc.model.validate.support import read_support_services
from alloc.model.validate.targets import read_targets

MODEL = Path(__file__).resolve().parents[2] / "alloc" / "model"
LATER_STAGES = ("alloc.lp", "alloc.explain", "alloc.report", "alloc.compare", "alloc.sweep",
                "alloc.api", "alloc.cli")


def test_the_entry_point_stays_where_it_was(project: Path) -> None:
    assert validate(resolve("tiny", project)) == load_plan("tiny", project)
    assert MAX_AMOUNT == 1e9


def test_each_part_needs_only_its_arguments(project: Path) -> None:
    """Called in another order than `validate` calls them, each from the `Plan`'s own pieces, the
    parts give the Plan's pieces: none relies on what another left behind."""
    resolved = resolve("baseline", project)
    plan = validate(resolved)
    doc = Document(resolved)
    codes = codes_of(plan.entities, plan.goals, plan.priorities, plan.outputs)
    funds = fund_codes_of(plan.funds)
    assert read_support_services(doc, plan.priorities) == plan.support_services
    assert read_targets(doc, codes, funds) == plan.targets
    assert read_stability(doc, codes, plan.mandate) == (plan.stability, plan.previous)
    assert read_bounds(doc, codes, funds) == plan.bounds
    assert read_commitments(doc, codes, plan.years, funds) == plan.commitments
    assert read_envelopes(doc, codes.entities, plan.years,
                          ceilings(plan.years, plan.revenue, plan.adjustments), {}) == plan.envelopes
    assert read_mandate(doc, codes, plan.years) == plan.mandate
    assert read_funds(doc, codes, plan.years) == plan.funds
    assert doc.problems == []


def _imports(path: Path) -> set[str]:
    """Absolute module names imported by a file (relative imports made absolute)."""
    package = ".".join(("alloc", *path.relative_to(MODEL.parent).parent.parts))
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            found.add(".".join(p for p in (base, node.module or "") if p))
    return found


def test_the_model_stage_imports_no_later_stage() -> None:
    files = sorted(MODEL.rglob("*.py"))
    assert MODEL / "validate" / "fields.py" in files
    for path in files:
        for name in _imports(path):
            assert not name.startswith(LATER_STAGES), f"{path.relative_to(MODEL)} imports {name}"


def test_problems_on_many_keys_read_the_origins_once(project: Path) -> None:
    """Each problem used to look at every origin: minutes for a mandate of 1e5 rows with a code
    renamed in the framework but not in mandate.csv."""
    resolved = resolve("tiny", project)
    passes = []

    class Counted(dict):
        def items(self):
            passes.append(1)
            return super().items()

    resolved.origins = Counted(resolved.origins)
    doc = Document(resolved)
    for key in resolved.doc["mandate"]:
        for _ in range(100):
            doc.error(("mandate", key, "entity"), "wrong")
    assert len(doc.problems) == 300 and len(passes) == 1


def test_problems_read_alike_with_the_origins_indexed(project: Path) -> None:
    (project / "scenarios" / "case.toml").write_text(
        '[scenario]\nparent = "tiny"\nremove = ["rules.targets.P2", "rules.envelopes.A.max"]\n'
        '[rules.committed.support]\namount = 6\n[financial_plan.funds.F.pledge]\n2024 = 30\n')
    resolved = resolve("case", project)
    below = OriginsBelow(resolved.origins)
    paths = [*resolved.origins, ("rules", "targets", "P2"), ("rules", "envelopes", "A", "max"),
             ("rules", "envelopes", "A"), ("nothing",)]
    for path in paths:
        for message in ("missing table", "has no entry for 2025", "wrong"):
            assert resolved.problem(path, message, below) == resolved.problem(path, message)
