"""Reading model and scenario files into plain data, with errors that say which file and why.

Tolerates what e-mail and spreadsheets do to text files (a UTF-8 byte-order mark, Windows line
endings); refuses binary files and anything that is not TOML or CSV. Never evaluates input.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from alloc.errors import InputError, Problem

MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class TextFile:
    label: str
    """How the file is named to the user (relative to the project where possible)."""
    text: str
    sha256: str


def display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def read_text(path: Path, root: Path | None = None) -> TextFile:
    label = display(path, root)
    if not label.isprintable() and any(0xD800 <= ord(c) <= 0xDFFF for c in label):
        # bytes that are not UTF-8 in the name: the name could not be written in any report
        raise InputError([Problem(label, "", "the path is not UTF-8 text; rename the file or its "
                                  "folder")])
    if not path.exists():
        raise InputError([Problem(label, "", "file not found; check the name and the folder")])
    if not path.is_file():
        raise InputError([Problem(label, "", "is a folder, expected a file")])
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(
            [Problem(label, "", f"file is {size:,} bytes, more than the limit of "
                     f"{MAX_FILE_BYTES:,}; is it the right file?")]
        )
    data = path.read_bytes()
    if b"\x00" in data:
        raise InputError([Problem(label, "", "is a binary file, expected a text file (TOML or CSV)")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem(label, "", f"is not UTF-8 text (byte {exc.start}); save it as UTF-8")]
        ) from None
    return TextFile(label, text.replace("\r\n", "\n").replace("\r", "\n"), hashlib.sha256(data).hexdigest())


def parse_toml(file: TextFile) -> dict:
    if not file.text.strip():
        raise InputError([Problem(file.label, "", "the file is empty; expected TOML tables")])
    try:
        doc = tomllib.loads(file.text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            [Problem(file.label, "", f"is not valid TOML: {exc}; fix the syntax at that place")]
        ) from None
    bad = list(_non_finite(doc, ()))
    if bad:
        raise InputError(
            [Problem(file.label, ".".join(p), "is not a finite number (nan or inf); give an amount")
             for p in bad]
        )
    return doc


def _non_finite(value: object, path: tuple[str, ...]):
    if isinstance(value, float) and not math.isfinite(value):
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _non_finite(v, (*path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _non_finite(v, (*path, str(i)))


def parse_csv(
    file: TextFile, columns: tuple[str, ...], required: tuple[str, ...], numeric: tuple[str, ...]
) -> list[tuple[int, dict]]:
    """Rows as (line number, {column: value}): numeric columns parsed, empty cells left out.

    A numeric cell that does not parse to a finite number stays text, for validation to name.
    """
    if not file.text.strip():
        raise InputError([Problem(file.label, "", "the file is empty; expected a header row "
                                  f"{','.join(columns)}")])
    reader = csv.reader(io.StringIO(file.text))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError([Problem(file.label, "", f"is not valid CSV: {exc}")]) from None
    header = [h.strip() for h in rows[0]]
    problems = []
    for h in header:
        if h not in columns:
            problems.append(Problem(file.label, f"column '{h}'",
                                    f"unknown column; expected columns {', '.join(columns)}"))
    for h in required:
        if h not in header:
            problems.append(Problem(file.label, f"column '{h}'", "missing required column"))
    if len(set(header)) != len(header):
        problems.append(Problem(file.label, "header", "a column is named twice"))
    if problems:
        raise InputError(problems)
    out = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(header):
            problems.append(Problem(file.label, f"line {line}",
                                    f"has {len(row)} cells but the header has {len(header)}"))
            continue
        record: dict[str, object] = {}
        for name, cell in zip(header, row, strict=False):
            cell = cell.strip()
            if cell:
                record[name] = _number_or_text(cell) if name in numeric else cell
        out.append((line, record))
    if problems:
        raise InputError(problems)
    return out


def _number_or_text(cell: str) -> object:
    try:
        value = float(cell)
    except ValueError:
        return cell
    return value if math.isfinite(value) else cell
