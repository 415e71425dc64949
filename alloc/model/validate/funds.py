"""financial-plan.toml [funds]: the extrabudgetary funds, their pledges, receipt rates and earmarks."""

from __future__ import annotations

from alloc.model.domain import REGULAR, Fund, Selection
from alloc.model.validate.fields import MISSING, Codes, Document, Fields, natural_key


def read_funds(doc: Document, codes: Codes, years: tuple[int, ...]) -> tuple[Fund, ...]:
    """The funds in code order (the regular budget is not one of them: it has no pledge)."""
    out = []
    for code, f in doc.keyed(("financial_plan", "funds"), "fund", required=False):
        if code == REGULAR:
            doc.error(f.path, "'regular' is the regular budget; give the fund another code")
        name = f.text("name", required=True)
        pledges = f.per_year("pledge", years, required=True, every_year=True) or {}
        rate = f.share("receipt_rate", required=True)
        raw = f.raw("earmark")
        earmark = Selection()
        if raw is not MISSING:
            ef = Fields(doc, f.at("earmark"), raw, "earmark")
            earmark = Selection(
                ef.codes("entities", codes.entities, "an entity"),
                ef.codes("priorities", codes.priorities, "a priority or support line"),
                ef.codes("outputs", codes.outputs, "an output"),
            )
            ef.close()
        must_spend = f.boolean("must_spend", False)
        psc = f.share("support_cost_rate") or 0.0
        source = f.text("source")
        spread = f.number("receipt_rate_spread", hi=0.5,
                          what="a standard deviation of the receipt rate, e.g. 0.1")
        f.close()
        out.append(Fund(code, name, pledges, 1.0 if rate is None else rate, earmark,
                        must_spend, psc, source, spread))
    return tuple(sorted(out, key=lambda fund: natural_key(fund.code)))


def fund_codes_of(funds: tuple[Fund, ...]) -> tuple[str, ...]:
    """Every fund's code, the regular budget first: what a rule's `funds` may name."""
    return (REGULAR, *(f.code for f in funds))
