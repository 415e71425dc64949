"""What a diagnosis says: the conflicts, each with its rules and their roles, the remedies and
their moves, and the repair of them all; and the record of it that infeasibility.json and
run.json hold. Made by `alloc.explain.diagnose`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Change = Literal["raise", "lower"]


def _num(x: float) -> float:
    return round(float(x), 6) + 0.0


@dataclass(frozen=True)
class Move:
    """One rule relaxed: its bound raised or lowered by an amount."""

    row: int
    rule: str
    name: str
    source: str
    text: str
    sense: str
    bound: float
    change: Change
    amount: float

    @property
    def new_bound(self) -> float:
        return self.bound + (self.amount if self.change == "raise" else -self.amount)

    def record(self) -> dict:
        return {"rule": self.rule, "name": self.name, "source": self.source, "text": self.text,
                "sense": self.sense, "bound": _num(self.bound), "change": self.change,
                "amount": self.amount + 0.0, "new_bound": _num(self.new_bound)}


@dataclass(frozen=True)
class Remedy:
    """Moves that, together with the context of their conflict, make the plan feasible."""

    moves: tuple[Move, ...]
    text: str

    def record(self) -> dict:
        return {"text": self.text, "moves": [m.record() for m in self.moves]}


@dataclass(frozen=True)
class ConflictRule:
    row: int
    rule: str
    name: str
    source: str
    text: str
    sense: str
    bound: float
    role: Literal["limit", "requirement"]
    """A limit would have to be raised to end the conflict, a requirement lowered."""

    def record(self) -> dict:
        return {"rule": self.rule, "name": self.name, "source": self.source, "text": self.text,
                "sense": self.sense, "bound": _num(self.bound), "role": self.role}


@dataclass(frozen=True)
class Conflict:
    """Rules that cannot hold together, and the ways out of the conflict.

    Each remedy, applied with the `context` (the repair's moves on rules outside this conflict,
    which deal with the other conflicts), makes the plan feasible, and is minimal.
    """

    rules: tuple[ConflictRule, ...]
    period: str
    remedies: tuple[Remedy, ...]
    context: tuple[Move, ...]
    message: str

    def record(self) -> dict:
        return {"message": self.message, "period": self.period,
                "rules": [r.record() for r in self.rules],
                "remedies": [r.record() for r in self.remedies],
                "context": [m.record() for m in self.context]}


@dataclass(frozen=True)
class Diagnosis:
    """Why a plan is infeasible, in the user's words, and a repair that is checked to work (not
    checked when `cheap`)."""

    scenario: str
    conflicts: tuple[Conflict, ...]
    repair: Remedy
    """All conflicts at once: the smallest total move (weighted), reduced to a minimal set."""
    cheap: bool = False
    """From one elastic solve: the rules that give way, nothing re-solved to check it."""

    @property
    def message(self) -> str:
        if not self.conflicts:
            return "no conflict found: the rules can all hold"
        lines = [c.message for c in self.conflicts]
        if len(self.conflicts) > 1:
            lines.append("Together: " + self.repair.text + ".")
        return "\n".join(lines)

    def record(self) -> dict:
        record = {"scenario": self.scenario, "status": "infeasible", "message": self.message,
                  "conflicts": [c.record() for c in self.conflicts],
                  "repair": self.repair.record()}
        return {**record, "cheap": True} if self.cheap else record

    def moves(self) -> list[dict]:
        """The repair's moves as flat records (what run.json lists as conflicts)."""
        return [{"rule": m.rule, "name": m.name, "source": m.source, "text": m.text,
                 "change": m.change, "amount": m.amount + 0.0} for m in self.repair.moves]
