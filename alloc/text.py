r"""Text from input files, file names and the command line, shown as text and nothing more.

Names, titles, keys, fund codes and file names reach people: in the terminal, in messages and in
Markdown reports. A name must not be able to clear the screen, set the terminal's title, ring its
bell, hide or reorder what is read, or turn into markup. Two pure functions, one per kind of
reader, each applied once where text leaves the program:

- `printable`, for a terminal or any plain-text reader. Every character that is not shown as
  itself is written as a visible escape instead: control characters (Unicode category Cc: C0
  such as ESC, BEL, CR, backspace and tab; DEL; C1 such as U+009B), format characters (Cf: the
  bidi embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069, the marks U+200E,
  U+200F and U+061C, the zero-width characters U+200B-U+200D and U+2060, the byte order mark
  U+FEFF, soft hyphen, tags...), the line and paragraph separators U+2028 and U+2029 (Zl, Zp),
  and lone surrogates (Cs: the undecodable bytes of a file name). The notation is Python's:
  `\xHH` below U+0100 (ESC is `\x1b`, a newline `\x0a`), `\uHHHH` up to U+FFFF (`\u202e`),
  `\UHHHHHHHH` above. Everything else, accents, other scripts, punctuation, amounts, is
  unchanged, so ordinary text is byte-identical.
- `markdown_text`, for a Markdown table cell or a line of prose: runs of spaces, tabs and
  newlines folded into one space (a cell is one line), `printable`, then each character that
  Markdown or HTML could read as markup escaped with a backslash.

`printable` is idempotent (it leaves backslashes alone), so text escaped by one layer (an error's
message) and again at the output reads the same. The price: a name holding the four characters
`\x1b` typed out reads like one holding ESC. Any two distinct names without such typed-out
escapes stay distinct.
"""

from __future__ import annotations

import re
import unicodedata

# Unicode categories never shown as themselves: control, format, surrogate, line and paragraph
# separator. Python's str.isprintable() is False for all of them, which gives a fast path.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

_FOLD = re.compile(r"[ \t\n]+")
_MARKUP = re.compile(r"([\\`*_\[\]|#<>~&$])")
_BULLET = re.compile(r"^[-+](?= |$)|^-(?=[- ]*$)")  # a list item or a thematic break
_ORDERED_LIST = re.compile(r"^(\d{1,9})([.)])(?= |$)")


def hidden(char: str) -> bool:
    """Whether a character would act on the reader's screen instead of showing as itself."""
    return unicodedata.category(char) in HIDDEN_CATEGORIES


def escape_char(char: str) -> str:
    r"""The visible form of one character: `\xHH`, `\uHHHH` or `\UHHHHHHHH`, lower-case hex."""
    n = ord(char)
    if n < 0x100:
        return f"\\x{n:02x}"
    if n < 0x10000:
        return f"\\u{n:04x}"
    return f"\\U{n:08x}"


def printable(text: str, keep_newlines: bool = False) -> str:
    """Text for a terminal: every hidden character (see the module) shown as a visible escape.

    A newline is escaped too, unless `keep_newlines` says the caller composed the text of lines
    and escaped the user's text inside them already (then a newline is the caller's layout).
    """
    if text.isprintable():
        return text
    return "".join(escape_char(c) if hidden(c) and not (keep_newlines and c == "\n") else c
                   for c in text)


def markdown_text(text: object) -> str:
    """Text shown literally in Markdown: one line, hidden characters and markup escaped.

    Escaped with a backslash: backslash, backtick, `*`, `_`, `[`, `]`, `|`, `#`, `<`, `>`, `~`,
    `&` and `$` anywhere, and at the start what would open a list or draw a rule (`- `, `+ `,
    `---`, `1. `, `1) `). Not idempotent: apply it once, where a writer puts text in Markdown.
    """
    line = _MARKUP.sub(r"\\\1", printable(_FOLD.sub(" ", str(text)).strip(" ")))
    line = _BULLET.sub(r"\\\g<0>", line)
    return _ORDERED_LIST.sub(r"\1\\\2", line)
