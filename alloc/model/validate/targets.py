"""rules.toml [targets]: goal-programming targets on a selection of cells, an amount or a share of
all spending per period, at a level (1 first) with weights on shortfall and excess."""

from __future__ import annotations

from typing import cast

from alloc.model.domain import AllocationTarget, PeriodKind
from alloc.model.validate.fields import PERIODS, Codes, Document, natural_key


def read_targets(doc: Document, codes: Codes,
                 fund_codes: tuple[str, ...]) -> tuple[AllocationTarget, ...]:
    """The targets by level, then in code order."""
    out = []
    for code, f in doc.keyed(("rules", "targets"), "target", required=False):
        name = f.text("name", default=code)
        selection = f.selection(codes)
        period = cast(PeriodKind, f.choice("period", PERIODS, "plan"))
        funds = f.funds("funds", fund_codes, "all")
        level = f.number("level", default=1, lo=1, hi=100, what="a level 1, 2, ...")
        if level is not None and level != int(level):
            doc.error(f.at("level"), "expected a whole number")
        short = f.number("shortfall_weight", default=1.0, hi=1e6, what="a weight")
        excess = f.number("excess_weight", default=1.0, hi=1e6, what="a weight")
        amount = f.number("amount")
        share = f.share("share")
        f.close()
        if ("amount" in f.table) == ("share" in f.table):
            doc.error(f.at("share") if "share" in f.table else f.path,
                      "a target needs either amount or share, not both")
        out.append(AllocationTarget(code, name, selection, period, funds, int(level or 1),
                                    short or 0.0, excess or 0.0, amount, share))
    return tuple(sorted(out, key=lambda t: (t.level, natural_key(t.code))))
