"""Distributing support costs over the thematic priorities: direct, step-down, reciprocal.

Support lines (enablers) are their own rows by default. A finance reader may also want to see what
each thematic priority costs with its share of support, as cost accountants distribute service
departments over production departments. The three classic methods differ only in how they treat
services between support lines (HR serving regional presence, regional presence serving HR):

- direct: ignored; each support line goes straight to the priorities;
- step-down: support lines are closed one by one in a declared order, each spreading its cost
  (with what it received) over the lines not yet closed and the priorities;
- reciprocal: all services at once, as simultaneous equations (`solve_in_order`).

Each method is a matrix M (support line x priority) whose rows add up to 1: the share of a support
line's direct cost that ends in each priority. Applying it column by column (an entity, an
output, a fund) moves support costs within the column, so every column total, and the grand total,
is unchanged by construction.

Support costs respect mandates: each entity's support-line costs are distributed with a matrix of
its own, over the thematic priorities that entity serves (has mandate cells for), in proportion to
its direct costs on them. A share declared for a thematic priority the entity does not serve joins
what the line keeps for the priorities, so it too stays within the entity's mandate. An entity
with no thematic priority in its mandate has nothing of its own to carry its support costs: they
go over all thematic priorities by the plan's direct costs, and the note names the entity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

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
    full = solve_in_order(np.eye(k) - sv.among.T, np.eye(k))  # full[s, o]
    if full is None:
        raise SupportDistributionError(
            "the reciprocal method has no solution: some support lines serve only each other, "
            "so their costs never reach a thematic priority; give each a share for the priorities")
    out = transposed_product(full, sv.to_priorities)
    if k and not np.allclose(out.sum(1), 1.0, atol=1e-9):
        raise SupportDistributionError(
            "the reciprocal method does not close: the services between support lines leave "
            "part of their cost with no thematic priority")
    return out


def served_priorities(plan: Plan) -> dict[str, tuple[str, ...]]:
    """Per entity, the thematic priorities it has mandate cells for, in the plan's order."""
    cells = {(c.cell.entity, c.cell.priority) for c in plan.mandate}
    thematic = [p.code for p in plan.priorities if not p.support]
    return {e.code: tuple(t for t in thematic if (e.code, t) in cells) for e in plan.entities}


def plan_services(plan: Plan, direct_costs: np.ndarray,
                  served: tuple[str, ...] | None = None) -> Services:
    """The plan's declared services, kept within the priorities `served` (all when None).

    `direct_costs` is the direct cost of each thematic priority (in the plan's order), of the
    entity whose support costs are distributed. A share a support line declares for a served
    thematic priority goes to it directly; the rest of what the line keeps for the priorities,
    with any share declared for a priority not served, is spread over the served priorities in
    proportion to their direct costs, or evenly when those are all zero.
    """
    support = tuple(p.code for p in plan.priorities if p.support)
    thematic = tuple(p.code for p in plan.priorities if not p.support)
    mask = np.array([served is None or t in served for t in thematic], dtype=float)
    if thematic and not mask.any():
        raise ValueError("plan_services: an entity that serves no thematic priority has no "
                         "priority to carry its support costs")
    base = np.clip(np.asarray(direct_costs, dtype=float), 0.0, None) * mask
    weights = (base / base.sum() if base.sum() > 0
               else mask / max(mask.sum(), 1.0))
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
    declared *= mask
    rest = np.clip(1.0 - among.sum(1) - declared.sum(1), 0.0, None)
    rest[rest < 1e-12] = 0.0
    to_priorities = declared + np.outer(rest, weights)
    total = among.sum(1) + to_priorities.sum(1)   # 1, or a little over when shares were rounded
    scale = np.where(total > 0, total, 1.0)[:, None]
    return Services(support, thematic, among / scale, to_priorities / scale, weights,
                    tuple(plan.support_services.order) or support)


def unserved_entities(plan: Plan, allocation: pd.DataFrame) -> list[str]:
    """Entities bearing support costs with no thematic priority in their mandate."""
    lines = {p.code for p in plan.priorities if p.support}
    served = served_priorities(plan)
    bearing = set(allocation.loc[allocation["priority"].astype(str).isin(lines)
                                 & (allocation["amount"] != 0), "entity"].astype(str))
    return [e.code for e in plan.entities if e.code in bearing and not served[e.code]]


def entity_matrices(plan: Plan, allocation: pd.DataFrame, method: Method) -> dict[str, np.ndarray]:
    """Per entity, M[s, p]: the share of its support line s's cost that ends in priority p.

    Only priorities the entity serves get a share; an entity that serves none (see
    `unserved_entities`) is spread by the plan's direct costs over all thematic priorities.
    """
    thematic = [p.code for p in plan.priorities if not p.support]
    served = served_priorities(plan)
    frame = allocation.assign(entity=allocation["entity"].astype(str),
                              priority=allocation["priority"].astype(str))
    direct = frame.groupby(["entity", "priority"])["amount"].sum()
    overall = frame.groupby("priority")["amount"].sum()
    out: dict[str, np.ndarray] = {}
    for e in plan.entities:
        if served[e.code]:
            base = np.array([float(direct.get((e.code, t), 0.0)) for t in thematic])
            sv = plan_services(plan, base, served[e.code])
        else:
            sv = plan_services(plan, np.array([float(overall.get(t, 0.0)) for t in thematic]))
        out[e.code] = distribution_matrix(sv, method)
    return out


def distribute_allocation(plan: Plan, allocation: pd.DataFrame, method: Method) -> pd.DataFrame:
    """The allocation with each support-line row replaced by rows on thematic priorities.

    A row keeps its entity, output, year and fund: only its priority changes, so every total
    other than the priorities' is unchanged, and the amounts distributed add up to the support
    costs to rounding error of floating point.
    """
    lines = [p.code for p in plan.priorities if p.support]
    thematic = [p.code for p in plan.priorities if not p.support]
    if not lines or not thematic:
        return allocation
    matrices = entity_matrices(plan, allocation, method)
    is_support = allocation["priority"].astype(str).isin(lines)
    kept, moved = allocation[~is_support], allocation[is_support]
    parts = [kept]
    for j, code in enumerate(thematic):
        shares = np.array([matrices[str(e)][lines.index(str(s)), j]
                           for e, s in zip(moved["entity"], moved["priority"], strict=True)])
        if len(shares) and (shares > 0).any():
            part = moved.assign(priority=code, amount=moved["amount"].to_numpy() * shares)
            parts.append(part[shares > 0])
    return pd.concat(parts, ignore_index=True)


def gross_costs(plan: Plan, allocation: pd.DataFrame) -> pd.DataFrame:
    """Reciprocal method: each support line's gross cost per year (its direct cost plus the
    services it receives from the other lines), C = D + among^T C.

    The services between lines do not depend on the entity, so one system per year serves all.
    """
    lines = [p.code for p in plan.priorities if p.support]
    thematic = [p.code for p in plan.priorities if not p.support]
    years = [str(y) for y in plan.years]
    sv = plan_services(plan, np.ones(len(thematic)))
    frame = allocation.assign(priority=allocation["priority"].astype(str),
                              year=allocation["year"].astype(str))
    direct = (frame[frame["priority"].isin(lines)].groupby(["priority", "year"])["amount"].sum()
              .unstack(fill_value=0).reindex(index=lines, columns=years, fill_value=0.0))
    gross = solve_in_order(np.eye(len(lines)) - sv.among.T, direct.to_numpy(dtype=float))
    if gross is None:
        raise SupportDistributionError(
            "the reciprocal method has no solution: some support lines serve only each other")
    return pd.DataFrame(gross, index=lines, columns=years)


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
    return amounts[thematic_rows] + transposed_product(matrix, amounts[support_rows])


def _pct(share: float) -> str:
    return f"{100 * share:.4g}%"


def declared_shares(plan: Plan) -> tuple[str, str]:
    """The declared services in words: (between support lines, to thematic priorities)."""
    support = [p.code for p in plan.priorities if p.support]
    among, thematic = [], []
    for s in support:
        row = plan.support_services.services.get(s, {})
        lines = [f"{_pct(v)} to {t}" for t, v in row.items() if t in support and v > 0]
        prios = [f"{_pct(v)} to {t}" for t, v in row.items() if t not in support and v > 0]
        if lines:
            among.append(f"{s} {', '.join(lines)}")
        if prios:
            thematic.append(f"{s} {', '.join(prios)}")
    return "; ".join(among), "; ".join(thematic)


def describe(method: str, plan: Plan, unserved: Sequence[str] = ()) -> str:
    """The sentence a table carries to say how support costs are shown, with the shares used.

    `unserved`: entities bearing support costs with no thematic priority in their mandate.
    """
    if method == "rows":
        return ("Support lines (enablers) shown as their own rows; not distributed over the "
                "thematic priorities.")
    if method not in ("direct", "step-down", "reciprocal"):
        raise ValueError(f"unknown support distribution method {method!r}")
    among, to_thematic = declared_shares(plan)
    rule = ("Each entity's support costs go only to the thematic priorities it has mandate cells "
            "for, in proportion to its own direct costs on them (all offerings, years and funds), "
            "within each column of the table")
    if to_thematic:
        rule += (f"; the shares declared for thematic priorities ({to_thematic}; rules.toml "
                 "[support_distribution]) are used for an entity that serves the priority, and "
                 "otherwise join the rest of the line")
    rule += "."
    if method == "direct":
        head = ("Support costs distributed over the thematic priorities by the direct method: "
                "services between support lines are ignored" +
                (" (each line's shares for the priorities scaled up to its whole cost)"
                 if to_thematic and among else "") + ". ")
    elif method == "step-down":
        order = ", ".join(plan.support_services.order
                          or [p.code for p in plan.priorities if p.support])
        head = ("Support costs distributed over the thematic priorities by the step-down method: "
                f"support lines closed in the order {order}, each spreading its cost, with what "
                "it received, over the support lines not yet closed and the thematic priorities"
                + (f" (services between support lines: {among})" if among else
                   "; no services between support lines are declared") + ". ")
    else:
        head = ("Support costs distributed over the thematic priorities by the reciprocal method: "
                "the services between support lines"
                + (f" ({among})" if among else ", none declared here,") +
                " solved exactly as simultaneous equations; each line's gross cost is in the "
                "table of gross costs of the support lines. ")
    same = ("" if method == "direct" or to_thematic else
            " Every support line of an entity serves its priorities in the same proportions "
            "here, so the figures equal those of the direct method.")
    fallback = ("" if not unserved else
                f" {', '.join(unserved)} serve{'s' if len(unserved) == 1 else ''} no thematic "
                "priority: their support costs go over all thematic priorities by the plan's "
                "direct costs.")
    return head + rule + same + fallback


SINGULAR = 1e-12
"""A pivot at most this times the system's largest entry is taken as zero (`solve_in_order`)."""


def solve_in_order(system: np.ndarray, rhs: np.ndarray) -> np.ndarray | None:
    """x with system @ x = rhs (rhs a vector or a matrix), by Gauss-Jordan elimination with
    partial pivoting, or None when the system is singular. Each step is element by element, so
    the answer is the same to the last bit on every processor: LAPACK's `numpy.linalg.solve`
    picks its kernels by processor, and a rounded figure at a tie could move. The systems are
    the support lines': a few dozen at most."""
    a = np.array(system, dtype=float)
    if not len(a):
        return np.zeros(np.shape(rhs))
    b = np.array(rhs, dtype=float).reshape(len(a), -1)
    scale = float(np.abs(a).max()) if a.size else 0.0
    for j in range(len(a)):
        p = j + int(np.argmax(np.abs(a[j:, j])))
        if not abs(a[p, j]) > SINGULAR * scale:
            return None
        a[[j, p]], b[[j, p]] = a[[p, j]], b[[p, j]]
        b[j] = b[j] / a[j, j]
        a[j] = a[j] / a[j, j]
        factor = a[:, j].copy()
        factor[j] = 0.0
        a = a - np.multiply.outer(factor, a[j])
        b = b - np.multiply.outer(factor, b[j])
    return b.reshape(np.shape(rhs))


def transposed_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a.T @ b summed row after row, in the same order on every processor: `@` goes to the
    BLAS, whose kernels add in another order on another processor, and a figure rounded at a
    tie could then differ from one machine to the next. The rows are priorities or support
    lines: a few dozen at most."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out = np.zeros(a.shape[1:] + b.shape[1:])
    for i in range(len(a)):
        out = out + np.multiply.outer(a[i], b[i])
    return out
