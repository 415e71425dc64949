"""alloc.model.validate.meta: model.toml's title, unit and date of the inputs."""

from __future__ import annotations

import datetime

from alloc.model.validate.meta import Meta, read_meta

MODEL = {"title": "T", "unit": "USD thousands", "inputs_date": "2024-01-31"}


def test_a_model_in_another_currency(document, messages) -> None:
    doc = document({"model": MODEL})
    assert read_meta(doc) == Meta("T", "USD thousands", "USD thousands", "2024-01-31")
    assert messages(doc) == []


def test_a_unit_not_in_thousands_is_refused_and_messages_keep_the_default(document, messages) -> None:
    doc = document({"model": {**MODEL, "unit": "CHF"}})
    meta = read_meta(doc)
    assert (meta.unit, meta.message_unit) == ("CHF", "CHF thousands")
    assert messages(doc) == [
        "models/m/model.toml: unit: expected a currency code and 'thousands', such as \"CHF "
        "thousands\" or \"USD thousands\"; got 'CHF'. alloc works in thousands: convert the amounts "
        "if they are in units"]


def test_dates(document, messages) -> None:
    def date_of(value: object) -> tuple[str, list[str]]:
        doc = document({"model": {**MODEL, "inputs_date": value}})
        return read_meta(doc).inputs_date, messages(doc)

    assert date_of(datetime.date(2024, 2, 29)) == ("2024-02-29", [])
    assert date_of("2023-02-29")[1] == [
        "models/m/model.toml: inputs_date: '2023-02-29' is not a real date (day is out of range "
        "for month); expected YYYY-MM-DD, e.g. \"2024-01-31\""]
    assert date_of("1800-01-01")[1] == [
        "models/m/model.toml: inputs_date: '1800-01-01' is not a plausible date (year 1800); "
        "expected a year between 1900 and 2200"]
    assert date_of(20240131)[1] == [
        "models/m/model.toml: inputs_date: expected a date YYYY-MM-DD in quotes, e.g. "
        "\"2024-01-31\", got a number (2.02401e+07)"]


def test_missing_title_and_unknown_keys(document, messages) -> None:
    doc = document({"model": {"inputs_date": "2024-01-31", "titel": "T"}})
    assert read_meta(doc).unit == "CHF thousands"
    assert messages(doc) == [
        "models/m/model.toml: title: missing; expected text in quotes",
        "models/m/model.toml: titel: unknown key; did you mean 'title'? Expected one of: title, "
        "unit, inputs_date, description, illustrative."]
