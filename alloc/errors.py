"""Errors a user can act on: each names the file, the field, what was expected and what to do."""

from __future__ import annotations

from dataclasses import dataclass

from alloc.text import printable


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        """One line, whatever the file name, key or value quoted in it holds (alloc.text)."""
        where = f"{self.file}: {self.field}" if self.field else self.file
        return printable(f"{where}: {self.message}")


class InputError(Exception):
    """Bad input: one or more problems, all reported at once. The CLI exits 2."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.field, p.message))
        super().__init__(str(self))

    def __str__(self) -> str:
        """A heading and one line per problem: the only newlines are these."""
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


class SolveError(Exception):
    """The solver failed or returned an answer that does not hold; never reported as a result."""


class ModelTooLarge(Exception):
    """The model would not fit in memory: refused before building, with the sizes involved."""


class SheetTooLarge(Exception):
    """A workbook sheet cannot hold what it was asked to (Excel: 1,048,576 rows x 16,384
    columns): refused with the sheet, the size and where the whole table is, never cut."""
