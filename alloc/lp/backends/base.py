"""What a backend does: hold the program in a solver and solve one goal-programming level at a time."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from alloc.lp.program import LinearProgram
from alloc.lp.solution import Priced, Status


class SolvesAlone(Protocol):
    """What solves one level alone for its shadow prices (`alloc.lp.solve._price_alone`): a
    backend after its levels, or an instance of its own (`alloc.lp.backends.highs.LevelAlone`)."""

    lp: LinearProgram

    def solve_alone(self, k: int, bounds: Sequence[tuple[int, float]], time_limit: float | None
                    ) -> tuple[Status, np.ndarray, np.ndarray] | None: ...


class Backend(ABC):
    """The program held by one solver, solved level by level (`alloc.lp.solve.solve_levels`)."""

    lp: LinearProgram
    quadratic_failed: str = ""
    """The quadratic level the solver failed on in the last `solve_levels`, if any."""
    faces_released: str = ""
    """The level that found the held faces infeasible in the last `solve_levels` (they were
    then released, `release_faces`), if any."""

    can_update = False
    """Whether `update` can hand the instance another program of the same shape (warm)."""
    priced: Priced | None = None
    """The duals and values right after the priced level was solved (`alloc.lp.solve.
    solve_levels`), when it was the first level solved (else None)."""

    def basis(self) -> object | None:
        """Where the solver stands (its basis), to start another solve from (`start_from`);
        None for a solver that starts from scratch."""
        return None

    def start_from(self, basis: object) -> None:
        """Start the next solve from a `basis` taken from an instance of the same program."""
        return None

    def prices_beside(self) -> bool:
        """Whether the priced level is solved from scratch on an instance of its own rather than
        warm on this one (`solve_alone`): then it can be solved while this one goes on with the
        levels after it, or after them once this one is given back (`alloc.lp.solve`)."""
        return False

    def keep_basis(self) -> None:
        """Remember where the solver stands (the priced level just solved): `solve_alone`
        starts from there. Nothing to remember for a solver that starts from scratch."""
        return None

    def solve_alone(self, k: int, bounds: Sequence[tuple[int, float]], time_limit: float | None
                    ) -> tuple[Status, np.ndarray, np.ndarray] | None:
        """After the levels: level k alone, the holding of the levels undone and each level j of
        `bounds` kept by a row (its objective at most the bound, unscaled, constant excluded)
        instead, solved from where the solver stands; status, row duals (scaled costs) and
        column values. None where the solver cannot re-solve in place (then the caller builds
        that program and solves it from scratch)."""
        return None

    def release_faces(self) -> bool:
        """Undo the faces held so far (`hold_level`: columns fixed at zero, rows made equalities),
        each held level still kept by its bound row, within the tolerance of its optimum: the
        way on when a level finds the held faces infeasible, which only the solver's rounding
        can make them (the optimal face of a feasible level is never empty). False when nothing
        was held, or the backend cannot undo it."""
        return False

    def update(self, lp: LinearProgram) -> None:
        """Hold `lp` instead, a program with the same rows and columns in the same places."""
        raise NotImplementedError(f"{type(self).__name__} cannot take another program in place")

    @abstractmethod
    def solve_level(self, k: int, time_limit: float | None) -> Status:
        """Minimise level k's scaled costs (`Level.solver_coefs`) alone, within the time limit
        (seconds, None for none); our status of the answer."""

    @abstractmethod
    def quadratic_ok(self) -> bool:
        """Whether this solver solves the program's quadratic (tie-break) levels; when it does
        not, their linear stand-in is solved instead (`alloc.lp.program.solved_levels`)."""

    @abstractmethod
    def hold_level(self, k: int, optimum: float) -> None:
        """Keep later levels on level k's optimal face, `optimum` being its unscaled objective.

        By complementary slackness the optimal solutions are the feasible ones with every column
        of positive reduced cost at zero and every row of non-zero dual active: fixing those
        (beyond `face_threshold`) keeps the optimum exactly, where a bound on the objective alone
        would let later levels drift by the tolerance. The bound (`level_bound`) is added as well,
        as a safety net.
        """

    @abstractmethod
    def values(self) -> np.ndarray:
        """Column values of the last optimal level."""

    @abstractmethod
    def duals(self) -> np.ndarray:
        """Duals of the program's own rows at the last optimal level, in its scaled costs."""
