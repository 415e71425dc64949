"""Distributing support costs over the thematic priorities: direct, step-down, reciprocal.

Support lines (enablers) are their own rows by default. A finance reader may also want to see what
each thematic priority costs with its share of support, as cost accountants distribute service
departments over production departments. The three classic methods differ only in how they treat
services between support lines (HR serving regional presence, regional presence serving HR):

- direct: ignored; each support line goes straight to the priorities;
- step-down: support lines are closed one by one in a declared order, each spreading its cost
  (with what it received) over the lines not yet closed and the priorities;
- reciprocal: all services at once, as simultaneous equations (numpy.linalg.solve).

Each method is a matrix M (support line x priority) whose rows add up to 1: the share of a support
line's direct cost that ends in each priority. Applying it column by column (an entity, an
output, a fund) moves support costs within the column, so every column total, and the grand total,
is unchanged by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from alloc.model.domain import Plan

Method = Literal["direct", "step-down", "reciprocal"]
SUPPORT_METHODS: tuple[str, ...] = ("rows", "direct", "step-down", "reciprocal")
"""Choices of `alloc run --support-costs`: `rows` keeps support lines as their own rows."""


class SupportDistributionError(ValueError):
    """The declared services cannot be distributed (support lines that only serve each other)."""


@dataclass(frozen=True)
class Services:
    """Who uses each support line: other support lines (`among`) and the priorities.

    `among[s, t]`: share of support line s's cost used by support line t (diagonal zero);
    `to_priorities[s, p]`: share used by priority p; each row of the two together adds up to 1.
    `fallback`: how a support line whose whole cost goes to lines already closed (step-down) or
    to no priority at all (direct) is spread; adds up to 1.
    """

    support: tuple[str, ...]
    priorities: tuple[str, ...]
    among: np.ndarray
    to_priorities: np.ndarray
    fallback: np.ndarray
    order: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        k, m = len(self.support), len(self.priorities)
        if self.among.shape != (k, k) or self.to_priorities.shape != (k, m):
            raise ValueError("services: shapes do not match the support lines and priorities")
        if (self.among < 0).any() or (self.to_priorities < 0).any():
            raise ValueError("services: shares must not be negative")
        if k and not np.allclose(self.among.sum(1) + self.to_priorities.sum(1), 1.0, atol=1e-9):
            raise ValueError("services: each support line's shares must add up to 1")


def distribution_matrix(services: Services, method: Method) -> np.ndarray:
    """M[s, p]: the share of support line s's direct cost that ends in priority p."""
    if method == "direct":
        return _direct(services)
    if method == "step-down":
        return _step_down(services)
    if method == "reciprocal":
        return _reciprocal(services)
    raise ValueError(f"unknown support distribution method {method!r}")


def _spread(row: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    total = row.sum()
    return row / total if total > 0 else fallback.copy()


def _direct(sv: Services) -> np.ndarray:
    return np.array([_spread(sv.to_priorities[s], sv.fallback) for s in range(len(sv.support))]
                    ).reshape(len(sv.support), len(sv.priorities))


def _step_down(sv: Services) -> np.ndarray:
    k, m = len(sv.support), len(sv.priorities)
    order = [sv.support.index(s) for s in (sv.order or sv.support)]
    if sorted(order) != list(range(k)):
        raise ValueError("the step-down order must name every support line once")
    held = np.eye(k)                 # held[o, s]: cost that started at o and now sits at s
    out = np.zeros((k, m))           # out[o, p]: cost that started at o and ended in p
    closed: set[int] = set()
    for s in order:
        closed.add(s)
        open_lines = [t for t in range(k) if t not in closed]
        to_lines = sv.among[s, open_lines]
        to_prio = sv.to_priorities[s]
        weight = to_lines.sum() + to_prio.sum()
        amount = held[:, s].copy()
        held[:, s] = 0.0
        if weight <= 0:
            out += np.outer(amount, sv.fallback)
            continue
        out += np.outer(amount, to_prio / weight)
        for t, share in zip(open_lines, to_lines / weight, strict=True):
            held[:, t] += amount * share
    return out


def _reciprocal(sv: Services) -> np.ndarray:
    """Total cost C of each line: C = D + among^T C, for a unit of direct cost at each line."""
    k = len(sv.support)
    system = np.eye(k) - sv.among.T
    if k and np.linalg.matrix_rank(system) < k:
        raise SupportDistributionError(
            "the reciprocal method has no solution: some support lines serve only each other, "
            "so their costs never reach a thematic priority; give each a share for the priorities")
    full = np.linalg.solve(system, np.eye(k)) if k else np.zeros((0, 0))  # full[s, o]
    out = full.T @ sv.to_priorities
    if k and not np.allclose(out.sum(1), 1.0, atol=1e-9):
        raise SupportDistributionError(
            "the reciprocal method does not close: the services between support lines leave "
            "part of their cost with no thematic priority")
    return out


def plan_services(plan: Plan, direct_costs: np.ndarray) -> Services:
    """The plan's declared services; what a support line keeps for priorities follows direct costs.

    `direct_costs` is the direct cost of each thematic priority (in the plan's order). A share a
    support line declares for a thematic priority goes to it directly; the rest of what the line
    keeps for the priorities is spread in proportion to their direct costs, or evenly when those
    are all zero.
    """
    support = tuple(p.code for p in plan.priorities if p.support)
    thematic = tuple(p.code for p in plan.priorities if not p.support)
    base = np.clip(np.asarray(direct_costs, dtype=float), 0.0, None)
    weights = (base / base.sum() if base.sum() > 0
               else np.full(len(thematic), 1 / max(len(thematic), 1)))
    k, m = len(support), len(thematic)
    among, declared = np.zeros((k, k)), np.zeros((k, m))
    for s, row in plan.support_services.services.items():
        if s not in support:
            continue
        for t, share in row.items():
            if t in support and t != s:
                among[support.index(s), support.index(t)] = share
            elif t in thematic:
                declared[support.index(s), thematic.index(t)] = share
    rest = np.clip(1.0 - among.sum(1) - declared.sum(1), 0.0, None)
    rest[rest < 1e-12] = 0.0
    to_priorities = declared + np.outer(rest, weights)
    total = among.sum(1) + to_priorities.sum(1)   # 1, or a little over when shares were rounded
    scale = np.where(total > 0, total, 1.0)[:, None]
    return Services(support, thematic, among / scale, to_priorities / scale, weights,
                    tuple(plan.support_services.order) or support)


def methods_agree(plan: Plan) -> bool:
    """True when every support line serves the priorities in the same proportions.

    Then the three methods give the same figures: whatever path a cost takes between support
    lines, it ends in the priorities in those proportions. They differ only when lines serve the
    priorities differently (shares declared for thematic priorities).
    """
    thematic = {p.code for p in plan.priorities if not p.support}
    return not any(t in thematic for row in plan.support_services.services.values() for t in row)


def distribute(amounts: np.ndarray, thematic_rows: list[int], support_rows: list[int],
               matrix: np.ndarray) -> np.ndarray:
    """Rows of the thematic priorities with the support rows spread over them, per column."""
    amounts = np.asarray(amounts, dtype=float)
    return amounts[thematic_rows] + matrix.T @ amounts[support_rows]


def describe(method: str, plan: Plan) -> str:
    """The sentence a table carries to say how support costs are shown."""
    if method == "rows":
        return ("Support lines (enablers) shown as their own rows; not distributed over the "
                "thematic priorities.")
    support = [p.code for p in plan.priorities if p.support]
    declared = any(plan.support_services.services.get(s) for s in support)
    basis = ("in proportion to the thematic priorities' direct costs over the plan (all entities, "
             "offerings, years and funds), within each column of the table")
    same = ("" if method == "direct" or not methods_agree(plan) else
            " Every support line serves the priorities in the same proportions here, so the "
            "figures equal those of the direct method; the services between support lines only "
            "change how much passes through each line.")
    if method == "direct":
        return ("Support costs distributed over the thematic priorities by the direct method: each "
                f"support line's whole cost {basis}; services between support lines are ignored.")
    if method == "step-down":
        order = ", ".join(plan.support_services.order or support)
        return ("Support costs distributed over the thematic priorities by the step-down method: "
                f"support lines closed in the order {order}, each spreading its cost, with what it "
                "received, over the support lines not yet closed (by the declared service shares, "
                "rules.toml [support_distribution]) and over the thematic priorities "
                f"{basis}." + ("" if declared else " No services between support lines are "
                               "declared.") + same)
    if method == "reciprocal":
        return ("Support costs distributed over the thematic priorities by the reciprocal method: "
                "the services between support lines (rules.toml [support_distribution]) solved "
                "exactly as simultaneous equations, and what each line keeps for the priorities "
                f"spread {basis}." + ("" if declared else " No services between support lines are "
                                      "declared.") + same)
    raise ValueError(f"unknown support distribution method {method!r}")
