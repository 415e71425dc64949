"""requirements.csv: costed requirements per cell, tranche and year, and their value per unit.

A row names a mandate cell, a tranche of [objective.tranches] and a year ('*': every year of
the plan; a row naming the year overrides it), with the amount needed and, optionally, the value
of a unit funded (else the priority's weight times the tranche's factor). Within a cell and year
the value must not rise from one tranche to the next: the LP funds tranches in order of value.
"""

from __future__ import annotations

import itertools

from alloc.model.domain import Cell, MandateCell, Requirement, Valuation
from alloc.model.validate.fields import Codes, Document, Fields
from alloc.model.validate.objective import MAX_WEIGHT

WHERE = "requirements"


def read_requirements(doc: Document, codes: Codes, years: tuple[int, ...],
                      mandate: tuple[MandateCell, ...],
                      valuation: Valuation) -> tuple[Requirement, ...]:
    """The requirements in mandate order, then year, then tranche (falling value)."""
    table = doc.table((WHERE,), required=False)
    if not table:
        return ()
    cells = {m.cell: i for i, m in enumerate(mandate)}
    tranche_pos = {t.code: k for k, t in enumerate(valuation.tranches)}
    found: dict[tuple[Cell, int, str], Requirement] = {}
    rows: dict[tuple[Cell, int, str], str] = {}   # the key of the row each requirement comes from
    for key, body in sorted(table.items(), key=lambda kv: not kv[0].endswith("/*")):
        path = (WHERE, key)
        parts = key.split("/")
        f = Fields(doc, path, body if body is not None else {}, "requirement")
        amount = f.number("amount", required=True)
        value = f.number("value", lo=0.0, hi=MAX_WEIGHT, what="a value per unit funded")
        note = f.text("note")
        f.close()
        if len(parts) != 5:
            doc.error(path, f"'{key}' should be ENTITY/PRIORITY/OUTPUT/TRANCHE/YEAR")
            continue
        cell, tranche, year_text = Cell(*parts[:3]), parts[3], parts[4]
        ok = True
        if cell not in cells:
            _unknown_cell(doc, path, cell, codes, cells)
            ok = False
        if tranche not in tranche_pos:
            if valuation.tranches:
                doc.unknown_code((*path, "tranche"), tranche,
                                 [t.code for t in valuation.tranches], "a tranche")
            else:
                doc.error((*path, "tranche"), "requirements need tranches: add "
                          "[objective.tranches.CODE] with name and factor to rules.toml")
            ok = False
        year_list = _years(doc, path, year_text, years)
        if not ok or year_list is None or amount is None:
            continue
        weight = valuation.weights.get(cell.priority)
        if value is None and weight is None:
            doc.error((*path, "value"), f"{cell.priority} has no weight: add {cell.priority} = "
                      "... to [objective.weights] in rules.toml, or give this row a value")
            continue
        factor = valuation.tranches[tranche_pos[tranche]].factor
        unit_value = value if value is not None else float(weight or 0.0) * factor
        for y in year_list:
            found[(cell, y, tranche)] = Requirement(cell, y, tranche, amount, unit_value, note)
            rows[(cell, y, tranche)] = key
    out = sorted((r for r in found.values() if r.amount > 0),
                 key=lambda r: (cells[r.cell], r.year, tranche_pos[r.tranche]))
    _check_falling(doc, out, rows)
    return tuple(out)


def _years(doc: Document, path: tuple[str, ...], text: str,
           years: tuple[int, ...]) -> tuple[int, ...] | None:
    if text == "*":
        return years
    try:
        number = float(text)
        year = int(number) if number.is_integer() else None   # 2024.0 as a spreadsheet writes it
    except (ValueError, OverflowError):
        year = None
    if year is None or str(year) != text.split(".")[0] or year not in years:
        doc.error((*path, "year"), f"expected a year of the plan ({years[0]}-{years[-1]}) or "
                  f"'*' for every year, got '{text}'")
        return None
    return (year,)


def _unknown_cell(doc: Document, path: tuple[str, ...], cell: Cell, codes: Codes,
                  cells: dict[Cell, int]) -> None:
    for axis, code, known, what in (("entity", cell.entity, codes.entities, "an entity"),
                                    ("priority", cell.priority, codes.priorities,
                                     "a priority or support line"),
                                    ("output", cell.output, codes.outputs, "an output")):
        if code not in known:
            doc.unknown_code((*path, axis), code, known, what)
            return
    doc.error(path, f"{'/'.join(cell)} is not a cell of the mandate; add it to mandate.csv or "
              "correct the row")


def _check_falling(doc: Document, requirements: list[Requirement],
                   rows: dict[tuple[Cell, int, str], str]) -> None:
    """Within a cell and year, a later tranche must not be worth more than an earlier one.

    Said once per pair of rows (a '*' row covers every year), at the later tranche's row.
    """
    years: dict[tuple[str, str], list[int]] = {}
    said: dict[tuple[str, str], tuple[Requirement, Requirement]] = {}
    for before, after in itertools.pairwise(requirements):
        if (before.cell, before.year) == (after.cell, after.year) and after.value > before.value:
            pair = (rows[(after.cell, after.year, after.tranche)],
                    rows[(before.cell, before.year, before.tranche)])
            years.setdefault(pair, []).append(after.year)
            said.setdefault(pair, (before, after))
    for pair, (before, after) in said.items():
        key = "/".join(after.cell)
        listed = [str(y) for y in years[pair]]
        in_years = " and ".join([", ".join(listed[:-1]), listed[-1]] if len(listed) > 1 else listed)
        doc.error((WHERE, pair[0]),
                  f"tranche {after.tranche} of {key} is worth {after.value:g} a unit in {in_years}, "
                  f"more than the earlier tranche {before.tranche} ({before.value:g}); tranches "
                  "must fall in value, or the later one would be funded first: lower its value "
                  "or raise the earlier one's")
