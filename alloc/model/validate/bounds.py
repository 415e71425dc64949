"""rules.toml [bounds]: floors and caps on a selection of cells, as amounts or as shares of all
spending, per year, biennium or plan."""

from __future__ import annotations

from typing import cast

from alloc.model.domain import Bound, PeriodKind
from alloc.model.validate.fields import PERIODS, Codes, Document, natural_key


def read_bounds(doc: Document, codes: Codes, fund_codes: tuple[str, ...]) -> tuple[Bound, ...]:
    """The bounds in code order; each needs a limit, and its minimum must not exceed its maximum."""
    out = []
    for code, f in doc.keyed(("rules", "bounds"), "bound", required=False):
        name = f.text("name", default=code)
        selection = f.selection(codes)
        period = cast(PeriodKind, f.choice("period", PERIODS, "year"))
        funds = f.funds("funds", fund_codes, "all")
        lo, hi = f.number("min"), f.number("max")
        lo_share, hi_share = f.share("min_share"), f.share("max_share")
        f.close()
        if not any(k in f.table for k in ("min", "max", "min_share", "max_share")):
            doc.error(f.path, "a bound needs min, max, min_share or max_share")
        if lo is not None and hi is not None and lo > hi:
            doc.error(f.path, f"min {lo:g} is above max {hi:g}")
        if lo_share is not None and hi_share is not None and lo_share > hi_share:
            doc.error(f.path, f"min_share {lo_share:g} is above max_share {hi_share:g}")
        out.append(Bound(code, name, selection, period, funds, lo, hi, lo_share, hi_share))
    return tuple(sorted(out, key=lambda b: natural_key(b.code)))
