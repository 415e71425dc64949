"""rules.toml [committed]: committed costs, amounts per year that must (minimum, exact) or may at most
(cap) be spent on a selection of cells."""

from __future__ import annotations

from typing import cast

from alloc.model.domain import Commitment, CommitmentKind
from alloc.model.validate.fields import Codes, Document, natural_key

KINDS = ("minimum", "exact", "cap")


def read_commitments(doc: Document, codes: Codes, years: tuple[int, ...],
                     fund_codes: tuple[str, ...]) -> tuple[Commitment, ...]:
    """The committed costs in code order (c2 before c10)."""
    out = []
    for code, f in doc.keyed(("rules", "committed"), "committed cost", required=False):
        name = f.text("name", default=code)
        selection = f.selection(codes)
        amounts = f.per_year("amount", years, required=True) or {}
        kind = cast(CommitmentKind, f.choice("kind", KINDS, "minimum"))
        funds = f.funds("funds", fund_codes, "all")
        f.close()
        out.append(Commitment(code, name, selection, amounts, kind, funds))
    return tuple(sorted(out, key=lambda c: natural_key(c.code)))
