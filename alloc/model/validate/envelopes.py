"""rules.toml [envelopes]: each entity's regular-budget spending per year, as amounts or as shares of
the ceiling (turned into amounts here), less any cut that [growth] puts on the envelope."""

from __future__ import annotations

from collections.abc import Mapping

from alloc.model.domain import Envelope
from alloc.model.validate.fields import Document


def read_envelopes(doc: Document, entity_codes: tuple[str, ...], years: tuple[int, ...],
                   ceilings: Mapping[int, float], cuts: Mapping[str, float]) -> tuple[Envelope, ...]:
    """The envelopes in the entities' order; `cuts` (entity -> share) must name envelopes."""
    out = []
    codes = list(doc.table(("rules", "envelopes"), required=False))
    for entity in cuts:
        if entity not in codes:
            doc.error(("financial_plan", "growth", "cut_envelopes"),
                      f"{entity} has no envelope in rules.envelopes to cut")
    for code, f in doc.keyed(("rules", "envelopes"), "envelope", required=False):
        if code not in entity_codes:
            doc.unknown_code(f.path, code, entity_codes, "an entity")
        fixed = f.per_year("fixed", years, every_year=True)
        lo = f.per_year("min", years) or {}
        hi = f.per_year("max", years) or {}
        lo_share = f.share("min_share")
        hi_share = f.share("max_share")
        f.close()
        if fixed is not None:
            if lo or hi or lo_share is not None or hi_share is not None:
                doc.error(f.at("fixed"), "fixed replaces min and max; give one or the other")
            lo, hi = dict(fixed), dict(fixed)
        for y in years:
            if lo_share is not None:
                lo[y] = max(lo.get(y, 0.0), lo_share * ceilings[y])
            if hi_share is not None:
                hi[y] = min(hi.get(y, float("inf")), hi_share * ceilings[y])
            if y in lo and y in hi and lo[y] > hi[y] + 1e-9:
                key = "min" if "min" in f.table else "min_share"
                doc.error(f.at(key), f"the minimum {lo[y]:,.1f} is above the maximum "
                          f"{hi[y]:,.1f} in {y}")
        cut = 1.0 - cuts.get(code, 0.0)
        out.append(Envelope(code, {y: v * cut for y, v in sorted(lo.items())},
                            {y: v * cut for y, v in sorted(hi.items())}))
    rank = {code: i for i, code in enumerate(entity_codes)}
    return tuple(sorted(out, key=lambda e: (rank.get(e.entity, len(rank)), e.entity)))
