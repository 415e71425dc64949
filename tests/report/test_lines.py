"""Row heights: `lines_of`, the lines a wrapped text takes in a column, laid out a line at a time,
against the layout word by word (the rule as LibreOffice and Excel break lines) and hand counts."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alloc.report.book import lines_of


def word_by_word(text: str, width: float, bold: bool = False) -> int:
    """The layout taken word by word: a line breaks before a space or after a hyphen, the spaces
    at the start of a new line are dropped, a word longer than a line is cut."""
    room = max((width - 1.5) / (0.86 * (1.2 if bold else 1.0)), 1.0)
    total = 0
    for part in text.split("\n"):
        lines, used = 1, 0.0
        for word in re.split(r"(?<=-)|(?= )", part):
            size = float(len(word))
            if used and used + size > room:
                lines, used = lines + 1, 0.0
                size = float(len(word.lstrip()))
            while size > room:
                lines, size = lines + 1, size - room
            used += size
        total += lines
    return total


@pytest.mark.parametrize(("text", "width", "lines"), [
    ("", 10, 1),
    ("short", 10, 1),
    ("aaaa bbbb cccc", 6.66, 3),          # room 6: one word a line
    ("aaaa bbbb cccc", 11.82, 2),         # room 12: two words, then one
    ("well-known rule", 6.66, 3),         # breaks after the hyphen: "well-", "known", "rule"
    ("a\nb\nc", 40, 3),                   # each paragraph on its lines
    ("x" * 25, 11.82, 3),                 # a word longer than a line is cut: 12 + 12 + 1
    ("ab " + "x" * 20, 11.82, 3),         # "ab", then the long word cut over two lines
])
def test_lines_by_hand(text: str, width: float, lines: int) -> None:
    assert lines_of(text, width) == lines


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab -\n\t\u00a0xyz")), max_size=300),
       st.sampled_from([1, 2.5, 3, 8, 9.7, 34, 44, 60, 62.5, 90]), st.booleans())
def test_a_line_at_a_time_lays_out_as_word_by_word(text: str, width: float, bold: bool) -> None:
    assert lines_of(text, width, bold) == word_by_word(text, width, bold)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.sampled_from(["", "-", "-x", " ", "\t"])),
                min_size=1, max_size=40),
       st.sampled_from([8, 34, 44, 60]))
def test_long_words_and_sentences_lay_out_as_word_by_word(
        words: list[tuple[int, str]], width: float) -> None:
    text = " ".join("w" * n + tail for n, tail in words)
    assert lines_of(text, width) == word_by_word(text, width)


def test_a_seeded_corpus_lays_out_as_word_by_word() -> None:
    """Thousands of texts dense in spaces, hyphens, other white space and long words, at every
    width a sheet uses and narrower: the same count as word by word, text by text."""
    rng = random.Random(5)
    alphabet = "ab -\n  xyz-\t\u00a0"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200))) for _ in range(3000)]
    texts += [" ".join("w" * rng.randint(1, 40) + rng.choice(["", "-", "-x", " ", "\t"])
                       for _ in range(rng.randint(1, 30))) for _ in range(1000)]
    for width in (1, 3, 9.7, 34, 44, 60):
        for bold in (False, True):
            differ = [t for t in texts if lines_of(t, width, bold) != word_by_word(t, width, bold)]
            assert not differ, (width, bold, differ[:3])
