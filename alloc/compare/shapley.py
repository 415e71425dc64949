"""Why two scenarios differ, input by input: groups of changed keys and their Shapley values.

A finance officer asks "how much of the difference is the new priority, how much the growth
rule?". The changed keys are gathered into one group per policy (a growth rule with its
reference, a new priority with its mandate cells, requirements, targets and earmarks, a fund, the
value of the contributory unit) and each group's effect is its Shapley value: its change to the
totals averaged over every order in which the groups could be applied to the first scenario.
The effects add up to the total difference with nothing left over and do not depend on the order
the groups are listed. Each subset of groups is one solve of the first scenario with those groups
applied, cached; up to `EXACT_UP_TO` groups every subset is solved (exact), beyond that a seeded
sample of orders is used and its error bound is stated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from alloc.model.scenario import Path_, Resolved, dotted

EXACT_UP_TO = 10
"""Groups up to which the decomposition is exact (2^n solves); beyond, orders are sampled."""
SAMPLED_ORDERS = 64
SEED = 13
Totals = dict[tuple[str, str], float]


@dataclass(frozen=True)
class Group:
    """Changed keys that make one policy: applied together, named as a finance officer would."""

    key: str
    label: str
    paths: tuple[Path_, ...]


@dataclass
class Decomposition:
    groups: list[Group]
    """The players, in a canonical order (merged groups joined as 'together: ...')."""
    effects: list[Totals]
    """Each group's Shapley value per (axis, code)."""
    bounds: list[Totals]
    """Each effect's error bound (95% half-width of the sampled mean; 0 when exact)."""
    method: str
    solves: int


# --- Groups ---------------------------------------------------------------------------------


def _get(doc: dict, *path: str) -> Any:
    node: object = doc
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _tokens(value: object) -> set[str]:
    """Codes a key or a value names: 'BDT/TP6/PS5' names BDT, TP6 and PS5; a list names each."""
    if isinstance(value, str):
        return set(value.split("/"))
    if isinstance(value, (list, tuple)):
        return {t for v in value for t in _tokens(v)}
    if isinstance(value, dict):
        return {t for v in value.values() for t in _tokens(v)} | {str(k) for k in value}
    return set()


def policy_groups(base: Resolved, other: Resolved,
                  diffs: dict[Path_, tuple[object, object]]) -> list[Group]:
    """The changed keys, one group per policy, in a canonical order (that of their first key)."""
    a, b = base.doc, other.doc

    def name(*path: str) -> str | None:
        found = _get(b, *path, "name") or _get(a, *path, "name")
        return str(found) if found else None

    priorities_a = set(_get(a, "framework", "priorities") or {})
    priorities_b = set(_get(b, "framework", "priorities") or {})
    goals_a = set(_get(a, "framework", "goals") or {})
    goals_b = set(_get(b, "framework", "goals") or {})
    added, removed = priorities_b - priorities_a, priorities_a - priorities_b
    goals_changed = (goals_b - goals_a) | (goals_a - goals_b)

    def priority(code: str) -> str:
        found = name("framework", "priorities", code)
        return f"{found} ({code})" if found else code

    def structural(path: Path_, old: object, new: object) -> tuple[str, str] | None:
        named = _tokens(list(path)) | _tokens(old) | _tokens(new)
        for code in sorted(added):
            if named & {code}:
                return f"priority+{code}", f"new priority {priority(code)}"
        for code in sorted(removed):
            if named & {code}:
                return f"priority-{code}", f"priority {priority(code)} removed"
        if goals_changed and (
                (path[:2] == ("framework", "goals") and path[2] in goals_changed)
                or (path[:2] == ("framework", "priorities") and len(path) > 3
                and path[3] == "goal_shares")
                or (path[:3] == ("rules", "objective", "goal_weights") and len(path) > 3
                and path[3] in goals_changed)):
            new_goals = [name("framework", "goals", g) or g for g in sorted(goals_b - goals_a)]
            gone = [name("framework", "goals", g) or g for g in sorted(goals_a - goals_b)]
            words = ([f"new strategic goal{'s' if len(new_goals) > 1 else ''} "
                      + ", ".join(new_goals)] if new_goals else []) + (
                [f"strategic goal{'s' if len(gone) > 1 else ''} {', '.join(gone)} removed"]
                if gone else [])
            return "goals", "; ".join(words)
        return None

    def policy(path: Path_, old: object, new: object) -> tuple[str, str]:
        found = structural(path, old, new)
        if found is not None:
            return found
        head, rest = path[0], path[1:]
        if head == "financial_plan" and rest[:1] == ("growth",):
            if rest[1:2] == ("cut",):
                cut = _get(b, "financial_plan", "growth", "cut")
                return "growth.cut", (f"cut of {cut:.0%} in the ceiling"
                                      if isinstance(cut, (int, float)) else "cut in the ceiling")
            rule = _get(b, "financial_plan", "growth", "rule")
            return "growth", (f"{str(rule).replace('_', ' ')} growth" if rule
                              else "growth rule removed")
        if head == "financial_plan" and rest[:1] == ("revenue",) and len(rest) > 2:
            if rest[2] == "unit_value_chf":
                return "revenue.unit_value", "value of the contributory unit"
            return f"revenue.{rest[1]}", name(*path[:3]) or f"revenue line {rest[1]}"
        if head == "financial_plan" and rest[:1] == ("funds",) and len(rest) > 1:
            label = name(*path[:3]) or f"fund {rest[1]}"
            return f"fund.{rest[1]}", (label if rest[1] in (_get(a, *path[:2]) or {})
                                       else f"new fund: {label}")
        if head == "financial_plan":
            return "financial_plan", "financial plan settings"
        if head == "framework" and len(rest) > 1:
            kind, code = rest[0], rest[1]
            if kind == "priorities":
                part = rest[2] if len(rest) > 2 else ""
                what = {"goal_shares": "goal shares", "outcomes": "outcomes"}.get(part, "framework")
                return f"priority.{code}.{part}", f"{what} of {priority(code)}"
            return f"{kind}.{code}", name(*path[:3]) or f"{kind} {code}"
        if head in ("mandate", "requirements") and rest:
            cell = rest[0].split("/")
            code = cell[1] if len(cell) > 1 else rest[0]
            return f"{head}.{code}", f"{head} of {priority(code)}"
        if head == "rules" and rest:
            kind = rest[0]
            if kind == "objective" and rest[1:2] == ("goal_weights",):
                return "rules.goal_weights", "weights of the strategic goals"
            if kind == "envelopes" and len(rest) > 1:
                entity = name("framework", "entities", rest[1]) or rest[1]
                return f"rules.envelopes.{rest[1]}", f"envelope of {entity}"
            if kind in ("bounds", "committed") and len(rest) > 1:
                return f"rules.{kind}.{rest[1]}", name(*path[:3]) or f"rule {rest[1]}"
            words = {"budget": "budget rules", "stability": "stability rule",
                     "objective": "objective settings",
                     "support_distribution": "distribution of support costs"}
            return f"rules.{kind}", words.get(kind, f"rules: {kind}")
        if head == "targets" and rest:
            return f"targets.{rest[0]}", f"target: {name(*path[:2]) or rest[0]}"
        if head == "previous_allocation":
            return "previous_allocation", "previous allocation"
        if head == "model":
            return "model", "model settings"
        return dotted(path[:3]), dotted(path[:3])

    members: dict[str, list[Path_]] = {}
    labels: dict[str, str] = {}
    for path in sorted(diffs):
        key, label = policy(path, *diffs[path])
        members.setdefault(key, []).append(path)
        labels[key] = label
    groups = [Group(key, labels[key], tuple(paths)) for key, paths in members.items()]
    return sorted(groups, key=lambda g: g.paths[0])


# --- Shapley values ---------------------------------------------------------------------------


def decompose(groups: list[Group], start: Totals, end: Totals,
              value: Callable[[list[Path_]], Totals | None],
              exact_up_to: int = EXACT_UP_TO, orders: int = SAMPLED_ORDERS,
              seed: int = SEED) -> Decomposition:
    """Each group's Shapley value on the totals; `value` solves the first scenario with the keys
    given applied (None when they cannot stand alone). A subset that cannot stand alone is joined
    with the fewest further groups that make it solvable, and those are applied together."""
    atoms = list(groups)   # as listed: the exact values do not depend on it (a property test)
    canonical = sorted(range(len(atoms)), key=lambda i: atoms[i].paths[0])
    rank = {i: canonical.index(i) for i in range(len(atoms))}
    everything = frozenset(range(len(atoms)))
    cache: dict[frozenset[int], Totals | None] = {frozenset(): start, everything: end}

    def v(members: frozenset[int]) -> Totals | None:
        if members not in cache:
            cache[members] = value([p for i in sorted(members) for p in atoms[i].paths])
        return cache[members]

    blocks = [frozenset([i]) for i in range(len(atoms))]
    while True:
        ranks = [min(rank[i] for i in b) for b in blocks]
        if len(blocks) <= exact_up_to:
            failed = _exact_failure(blocks, ranks, v)
        else:
            failed = _sampled_failure(blocks, ranks, v, orders, seed)
        if failed is None:
            break
        merged = frozenset().union(*(blocks[i] for i in failed))
        blocks = [b for k, b in enumerate(blocks) if k not in failed] + [merged]
        blocks.sort(key=min)
    players = [_player(atoms, b, rank) for b in blocks]
    ranks = [min(rank[i] for i in b) for b in blocks]
    keys = sorted({k for t in cache.values() if t is not None for k in t})
    solves = sum(1 for m in cache if 0 < len(m) < len(atoms))

    def vector(members: Iterable[int]) -> np.ndarray:
        union = frozenset().union(*(blocks[i] for i in members)) if members else frozenset()
        totals = v(union)
        assert totals is not None
        return np.array([totals.get(k, 0.0) for k in keys])

    n = len(blocks)
    if n <= exact_up_to:
        phi = np.zeros((n, len(keys)))
        for mask in range(1 << n):
            inside = [i for i in range(n) if mask >> i & 1]
            here = vector(inside)
            for i in range(n):
                if mask >> i & 1:
                    continue
                weight = math.factorial(len(inside)) * math.factorial(n - len(inside) - 1) \
                    / math.factorial(n)
                phi[i] += weight * (vector([*inside, i]) - here)
        bound = np.zeros_like(phi)
        method = (f"exact: all {math.factorial(n):,} orders of {n} groups ({solves} solves)"
                  if n > 1 else "exact: one group, nothing to share")
    else:
        draws = np.zeros((orders, n, len(keys)))
        for k, order in enumerate(_orders(ranks, orders, seed)):
            before = vector([])
            for j, i in enumerate(order):
                after = vector(order[:j + 1])
                draws[k, i] = after - before
                before = after
        phi = draws.mean(axis=0)
        bound = 1.96 * draws.std(axis=0, ddof=1) / math.sqrt(orders)
        method = (f"sampled: {orders} orders of {n} groups (seed {seed}; bound: 95% half-width "
                  f"of the sampled mean; {solves} solves)")
    # exact in the sum: the telescoping remainder of rounding goes to no group; it is below 1e-9
    effects = [{k: float(phi[i, j]) for j, k in enumerate(keys)} for i in range(n)]
    bounds = [{k: float(bound[i, j]) for j, k in enumerate(keys)} for i in range(n)]
    return Decomposition(players, effects, bounds, method, solves)


def _player(atoms: list[Group], block: frozenset[int], rank: dict[int, int]) -> Group:
    members = [atoms[i] for i in sorted(block, key=rank.__getitem__)]
    if len(members) == 1:
        return members[0]
    labels = list(dict.fromkeys(g.label for g in members))
    return Group("+".join(g.key for g in members), "together: " + "; ".join(labels),
                 tuple(p for g in members for p in g.paths))


def _exact_failure(blocks: list[frozenset[int]], ranks: list[int],
                   v: Callable[[frozenset[int]], Totals | None]) -> list[int] | None:
    """The blocks to join: the smallest subset that cannot stand alone, with the fewest further
    blocks that make it solvable (ties: the canonical order). None when every subset solves."""
    n = len(blocks)
    subsets = sorted(range(1 << n), key=lambda m: (bin(m).count("1"),
                                                   sorted(ranks[i] for i in _bits(m, n))))
    known = {m: v(frozenset().union(*(blocks[i] for i in _bits(m, n)))) for m in subsets}
    failing = [m for m in subsets if known[m] is None]
    if not failing:
        return None
    first = failing[0]
    fix = next(m for m in subsets if m & first == first and known[m] is not None)
    return _bits(fix, n)


def _sampled_failure(blocks: list[frozenset[int]], ranks: list[int],
                     v: Callable[[frozenset[int]], Totals | None],
                     orders: int, seed: int) -> list[int] | None:
    """As `_exact_failure` on the sampled orders: a prefix that cannot stand alone is joined with
    the next blocks of its order until it solves."""
    n = len(blocks)
    for order in _orders(ranks, orders, seed):
        for j in range(1, n):
            if v(frozenset().union(*(blocks[i] for i in order[:j]))) is None:
                k = j + 1
                while v(frozenset().union(*(blocks[i] for i in order[:k]))) is None:
                    k += 1
                return sorted(order[:k])
    return None


def _orders(ranks: list[int], count: int, seed: int) -> list[list[int]]:
    """Seeded orders of the blocks, drawn over their canonical order so that the listing does
    not matter."""
    rng = np.random.default_rng(seed)
    canonical = sorted(range(len(ranks)), key=ranks.__getitem__)
    return [[canonical[int(j)] for j in rng.permutation(len(ranks))] for _ in range(count)]


def _bits(mask: int, n: int) -> list[int]:
    return [i for i in range(n) if mask >> i & 1]
