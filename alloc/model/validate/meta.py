"""model.toml: the model's title, its unit and the date of its inputs.

Read first: the unit is what every later message names amounts in.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from alloc.model.validate.fields import DEFAULT_UNIT, MISSING, Document, Fields, kind

UNIT = re.compile(r"^[A-Z]{3} thousands$")


@dataclass(frozen=True)
class Meta:
    title: str
    unit: str
    """As written; `DEFAULT_UNIT` when not given."""
    message_unit: str
    """The unit messages name: `unit` if it is valid, else `DEFAULT_UNIT` (its problem reported)."""
    inputs_date: str
    illustrative: bool = False
    """Whether the model's figures are illustrative (model.toml `illustrative`): every document
    alloc writes from it then says so."""


def read_meta(doc: Document) -> Meta:
    meta = doc.fields(("model",), "model")
    title = meta.text("title", required=True)
    unit = meta.text("unit", default=DEFAULT_UNIT)
    message_unit = DEFAULT_UNIT
    if not UNIT.match(unit):
        doc.error(("model", "unit"), f"expected a currency code and 'thousands', such as "
                  f"\"CHF thousands\" or \"USD thousands\"; got '{unit}'. alloc works in "
                  "thousands: convert the amounts if they are in units")
    else:
        message_unit = unit
    inputs_date = read_date(meta, "inputs_date")
    meta.text("description")
    illustrative = meta.boolean("illustrative", False)
    meta.close()
    return Meta(title, unit, message_unit, inputs_date, illustrative)


def read_date(f: Fields, key: str) -> str:
    """A real calendar date, as YYYY-MM-DD text (a TOML date such as 2024-01-31 works too)."""
    value = f.raw(key, required=True, what="a date YYYY-MM-DD in quotes, e.g. \"2024-01-31\"")
    if value is MISSING:
        return ""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        f.doc.error(f.at(key), f"expected a date YYYY-MM-DD in quotes, e.g. \"2024-01-31\", "
                    f"got {kind(value)}")
        return ""
    try:
        date = datetime.date.fromisoformat(value)
    except ValueError as exc:
        f.doc.error(f.at(key), f"'{value}' is not a real date ({exc}); expected YYYY-MM-DD, "
                    "e.g. \"2024-01-31\"")
        return ""
    if not 1900 <= date.year <= 2200:
        f.doc.error(f.at(key), f"'{value}' is not a plausible date (year {date.year}); "
                    "expected a year between 1900 and 2200")
        return ""
    return value
