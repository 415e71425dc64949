"""rules.toml [support_distribution]: the order in which support lines are closed (step-down), and
the shares of each support line's cost that other support lines or thematic priorities use."""

from __future__ import annotations

from alloc.model.domain import Priority, SupportServices
from alloc.model.validate.fields import MISSING, SHARE_TOLERANCE, Document, Fields


def read_support_services(doc: Document, priorities: tuple[Priority, ...]) -> SupportServices:
    """Every support line once in `order` (the model's order if not given); shares at most 1."""
    support = tuple(p.code for p in priorities if p.support)
    thematic = tuple(p.code for p in priorities if not p.support)
    f = doc.fields(("rules", "support_distribution"), "support distribution", required=False)
    order = f.raw("order")
    if order is MISSING:
        order = list(support)
    elif (not isinstance(order, list) or not all(isinstance(line, str) for line in order)
          or sorted(order) != sorted(support)):
        doc.error(f.at("order"), "expected every support line once, in the order they are "
                  f"closed: {', '.join(support)}")
        order = list(support)
    services: dict[str, dict[str, float]] = {}
    raw = f.raw("services")
    if raw is not MISSING:
        table = Fields(doc, f.at("services"), raw, "services")
        for s in support:
            row = table.raw(s)
            if row is MISSING:
                continue
            rf = Fields(doc, table.at(s), row,
                        f"shares of {s} used by other support lines or thematic priorities")
            served = [t for t in (*support, *thematic) if t != s]
            shares = {t: v for t in served if (v := rf.share(t)) is not None}
            rf.close()
            if sum(shares.values()) > 1 + SHARE_TOLERANCE:
                doc.error(table.at(s), f"the shares add up to {sum(shares.values()):.6g}; "
                          "they must not exceed 1")
            services[s] = shares
        table.close()
    f.close()
    return SupportServices(tuple(order), services)
