"""Reading model and scenario files into plain data, with errors that say which file and why.

Tolerates what e-mail and spreadsheets do to text files (a UTF-8 byte-order mark, Windows line
endings); refuses binary files, text in another encoding (named, with how to save it as UTF-8),
numbers too large to be amounts, and anything that is not TOML or CSV. Never evaluates input.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alloc.errors import InputError, Problem

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_INTEGER = 2**53
"""Largest whole number read: beyond it a float loses digits (and a 400-digit one overflows)."""
UTF8_ADVICE = {
    ".csv": "in Excel: File, Save As, 'CSV UTF-8 (Comma delimited)'",
    "": "in Notepad: File, Save As, Encoding UTF-8; in other editors: save with encoding UTF-8",
}


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
    advice = UTF8_ADVICE.get(path.suffix.lower(), UTF8_ADVICE[""])
    encoding = wide_encoding(data)
    if encoding is not None:
        raise InputError([Problem(label, "", f"is {encoding}, expected UTF-8; save it as UTF-8 "
                                  f"({advice})")])
    if data.startswith(b"PK\x03\x04"):
        raise InputError([Problem(label, "", "is a zip file or an Excel workbook, expected a text "
                                  "file (TOML or CSV); save the sheet as CSV UTF-8")])
    if b"\x00" in data:
        raise InputError([Problem(label, "", "is a binary file, expected a text file (TOML or CSV)")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(label, "", _not_utf8(data, exc.start, advice))]) from None
    return TextFile(label, text.replace("\r\n", "\n").replace("\r", "\n"), hashlib.sha256(data).hexdigest())


BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 text (little-endian, with a byte-order mark)"),
    (b"\x00\x00\xfe\xff", "UTF-32 text (big-endian, with a byte-order mark)"),
    (b"\xff\xfe", "UTF-16 text (little-endian, with a byte-order mark)"),
    (b"\xfe\xff", "UTF-16 text (big-endian, with a byte-order mark)"),
)


def wide_encoding(data: bytes) -> str | None:
    """The name of a UTF-16 or UTF-32 encoding the bytes are in, if they look like one.

    Spreadsheets and Windows tools save "Unicode text" as UTF-16, which is full of NUL bytes and
    would otherwise be called binary: recognised by its byte-order mark, or without one by NULs
    at every other (UTF-16) or three of four (UTF-32) byte positions of mostly-ASCII text.
    """
    for bom, name in BOMS:
        if data.startswith(bom):
            return name
    sample = data[:4096]
    if b"\x00" not in sample or len(sample) < 4:
        return None

    def nul_share(offset: int, step: int) -> float:
        part = sample[offset::step]
        return part.count(0) / len(part) if part else 0.0

    for endian, positions, other in (("little-endian", (1, 2, 3), 0), ("big-endian", (0, 1, 2), 3)):
        if len(sample) % 4 == 0 and all(nul_share(i, 4) > 0.95 for i in positions) \
                and nul_share(other, 4) < 0.05:
            return f"UTF-32 text ({endian}, without a byte-order mark)"
    for endian, nul, text in (("little-endian", 1, 0), ("big-endian", 0, 1)):
        if nul_share(nul, 2) > 0.9 and nul_share(text, 2) < 0.1:
            return f"UTF-16 text ({endian}, without a byte-order mark)"
    return None


def _not_utf8(data: bytes, start: int, advice: str) -> str:
    """Where the first byte that is not UTF-8 stands, what it likely is, and how to fix it."""
    line = data.count(b"\n", 0, start) + 1
    column = start - (data.rfind(b"\n", 0, start) + 1) + 1
    byte = data[start]
    try:
        guess = f", which Windows-1252 (Latin-1) reads as '{bytes([byte]).decode('cp1252')}'"
    except UnicodeDecodeError:
        guess = ""
    return (f"is not UTF-8 text: byte 0x{byte:02X} at line {line}, column {column} (byte {start})"
            f"{guess}; the file is probably in a Windows or Latin-1 encoding. Save it as UTF-8 "
            f"({advice})")


def parse_toml(file: TextFile) -> dict[str, Any]:
    if not file.text.strip():
        raise InputError([Problem(file.label, "", "the file is empty; expected TOML tables")])
    try:
        doc = tomllib.loads(file.text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            [Problem(file.label, "", f"is not valid TOML: {exc}; fix the syntax at that place")]
        ) from None
    problems = [Problem(file.label, field, message) for field, message in _unreadable(doc, "")]
    if problems:
        raise InputError(problems)
    return doc


def _unreadable(value: object, field: str) -> Iterator[tuple[str, str]]:
    """(field, why) for every number alloc cannot hold: nan, inf, or a whole number too long."""
    if isinstance(value, float) and not math.isfinite(value):
        yield field, "is not a finite number (nan or inf); give an amount"
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        digits = len(str(abs(value)))
        yield field, (f"is a whole number of {digits} digits, too large for any amount, year or "
                      f"count (at most {MAX_INTEGER:,}); check the number")
    elif isinstance(value, dict):
        for k, v in value.items():
            key = dotted((str(k),))
            yield from _unreadable(v, f"{field}.{key}" if field else key)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _unreadable(v, f"{field}[{i}]")


def dotted(path: tuple[str, ...]) -> str:
    """A key path as TOML writes it: parts that are not bare keys in quotes."""
    return ".".join(p if p.replace("_", "").replace("-", "").isalnum() else f'"{p}"' for p in path)


def parse_csv(
    file: TextFile, columns: tuple[str, ...], required: tuple[str, ...], numeric: tuple[str, ...]
) -> list[tuple[int, dict[str, Any]]]:
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
