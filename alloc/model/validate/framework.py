"""framework.toml: entities, strategic goals, thematic priorities (with goal shares), outputs and
support lines (enablers); and the codes that everything read later refers to (`codes_of`)."""

from __future__ import annotations

from collections.abc import Sequence

from alloc.model.domain import SUPPORT_OUTPUT, Entity, Goal, Outcome, Output, Priority, StrategicTarget
from alloc.model.validate.fields import MISSING, SHARE_TOLERANCE, Codes, Document, Fields, natural_key

FRAMEWORK_KEYS = ("entities", "goals", "priorities", "outputs", "support")
"""The tables of framework.toml."""


def read_entities(doc: Document) -> tuple[Entity, ...]:
    out = []
    for code, f, _ in doc.ordered(("framework", "entities"), "entity"):
        out.append(Entity(code, f.text("name", required=True)))
        f.close()
    return tuple(out)


def read_goals(doc: Document) -> tuple[Goal, ...]:
    out = []
    for code, f, _ in doc.ordered(("framework", "goals"), "strategic goal"):
        name = f.text("name", required=True)
        f.text("statement")
        targets = []
        raw = f.raw("targets")
        if raw is not MISSING:
            if not isinstance(raw, dict):
                doc.error(f.at("targets"), "expected a table of target code = \"name\"")
            else:
                for tcode, tname in sorted(raw.items(), key=lambda kv: natural_key(kv[0])):
                    if not isinstance(tname, str):
                        doc.error((*f.at("targets"), tcode), "expected the target's name")
                    else:
                        targets.append(StrategicTarget(tcode, tname))
        f.close()
        out.append(Goal(code, name, tuple(targets)))
    return tuple(out)


def read_priorities(doc: Document, goal_codes: tuple[str, ...]) -> tuple[Priority, ...]:
    """The thematic priorities, then the support lines; their codes must differ."""
    thematic = []
    for code, f, _ in doc.ordered(("framework", "priorities"), "thematic priority"):
        name = f.text("name", required=True)
        outcomes = []
        raw = f.raw("outcomes")
        if raw is not MISSING:
            if not isinstance(raw, dict):
                doc.error(f.at("outcomes"), "expected a table of outcome number = \"text\"")
            else:
                for ocode, text in sorted(raw.items(), key=lambda kv: natural_key(kv[0])):
                    if not isinstance(text, str):
                        doc.error((*f.at("outcomes"), ocode), "expected the outcome's text")
                    else:
                        outcomes.append(Outcome(ocode, text))
        shares = read_goal_shares(f, goal_codes)
        f.close()
        thematic.append(Priority(code, name, False, tuple(outcomes), shares))
    support = []
    for code, f, _ in doc.ordered(("framework", "support"), "support line", required=False):
        support.append(Priority(code, f.text("name", required=True), True))
        f.close()
    seen: set[str] = set()
    for p in (*thematic, *support):
        if p.code in seen or p.code == SUPPORT_OUTPUT:
            where = ("framework", "support" if p.support else "priorities", p.code)
            doc.error(where, f"code '{p.code}' is already used"
                      + (" by a thematic priority" if p.code in seen else " (reserved)")
                      + "; codes of priorities and support lines must differ")
        seen.add(p.code)
    return (*thematic, *support)


def read_goal_shares(f: Fields, goal_codes: tuple[str, ...]) -> dict[str, float]:
    """A thematic priority's shares of the strategic goals: known goals, adding up to 1."""
    doc = f.doc
    raw = f.raw("goal_shares", required=bool(goal_codes), what="a table goal = share, adding up to 1")
    if raw is MISSING:
        return {}
    if not isinstance(raw, dict):
        doc.error(f.at("goal_shares"), "expected a table goal = share, adding up to 1")
        return {}
    shares = {}
    for goal, value in raw.items():
        if goal not in goal_codes:
            doc.unknown_code((*f.at("goal_shares"), goal), goal, goal_codes, "a goal")
            continue
        number = doc.check_number((*f.at("goal_shares"), goal), value, 0.0, 1.0,
                                  "a share between 0 and 1")
        if number is not None:
            shares[goal] = number
    if len(shares) == len(raw) and abs(sum(shares.values()) - 1.0) > SHARE_TOLERANCE:
        doc.error(f.at("goal_shares"), f"the shares add up to {sum(shares.values()):.6g}, "
                  "expected 1; correct them so that the priority is fully assigned")
    return dict(sorted(shares.items(), key=lambda kv: goal_codes.index(kv[0])))


def read_outputs(doc: Document) -> tuple[Output, ...]:
    """The outputs (product and service offerings); 'support' is the support lines' own."""
    out = []
    for code, f, _ in doc.ordered(("framework", "outputs"), "output"):
        if code == SUPPORT_OUTPUT:
            doc.error(f.path, "'support' is reserved for support lines; choose another code")
        out.append(Output(code, f.text("name", required=True)))
        f.close()
    return tuple(out)


def codes_of(entities: Sequence[Entity], goals: Sequence[Goal], priorities: Sequence[Priority],
             outputs: Sequence[Output]) -> Codes:
    """The framework's codes; the outputs end with 'support', the output of support lines."""
    return Codes(
        entities=tuple(e.code for e in entities),
        goals=tuple(g.code for g in goals),
        thematic=tuple(p.code for p in priorities if not p.support),
        priorities=tuple(p.code for p in priorities),
        outputs=(*(o.code for o in outputs), SUPPORT_OUTPUT),
    )
