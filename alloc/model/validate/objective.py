"""rules.toml [budget] and [objective]: whether the regular budget must balance, per year or per
biennium, and the tolerance that holds each goal-programming level for the next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from alloc.model.validate.fields import Document

CeilingPeriod = Literal["year", "biennium"]


@dataclass(frozen=True)
class Budget:
    balance: bool = True
    ceiling_period: CeilingPeriod = "year"


def read_budget(doc: Document) -> Budget:
    f = doc.fields(("rules", "budget"), "budget", required=False)
    balance = f.boolean("balance", True)
    ceiling_period = cast(CeilingPeriod, f.choice("ceiling_period", ("year", "biennium"), "year"))
    f.close()
    return Budget(balance, ceiling_period)


def read_level_tolerance(doc: Document) -> float:
    """How much worse than its optimum an earlier level may become (default 1e-6, at most 0.1)."""
    f = doc.fields(("rules", "objective"), "objective", required=False)
    tolerance = f.number("level_tolerance", default=1e-6, hi=0.1, what="a tolerance")
    f.close()
    return 1e-6 if tolerance is None else tolerance
