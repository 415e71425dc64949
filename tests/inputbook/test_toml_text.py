"""The scenario text import writes: any key and value a workbook can hold reads back the same."""

from __future__ import annotations

import tomllib

from hypothesis import given
from hypothesis import strategies as st

from alloc.inputbook.read import toml_key, toml_value

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
values = st.one_of(texts, st.booleans(), st.integers(-2**53, 2**53),
                   st.floats(allow_nan=False, allow_infinity=False), st.lists(texts, max_size=4))


@given(st.lists(texts, min_size=1, max_size=4), values)
def test_keys_and_values_read_back(path: list[str], value: object) -> None:
    doc = tomllib.loads(f"{toml_key(tuple(path))} = {toml_value(value)}\n")
    for part in path:
        doc = doc[part]
    assert doc == value


@given(st.dictionaries(st.sampled_from(["2024", "2025", "2026"]), st.integers(0, 10**9)))
def test_tables_by_year_read_back(table: dict[str, int]) -> None:
    assert tomllib.loads(f"amount = {toml_value(table)}\n")["amount"] == table
