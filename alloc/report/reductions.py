"""Options for reducing expenses, and what more money buys: tables/reduction-options.csv and the
workbook's "Reduction options" sheet. Formats only: the options are computed by
`alloc.explain.reductions`, as a frame of its `COLUMNS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from alloc.report.book import write_csv
from alloc.report.rounding import largest_remainder, round_half_up
from alloc.report.workbook import Sheet

CSV = "tables/reduction-options.csv"
"""Where the options go in a report folder (with Appendix A's tables)."""
TITLE = "Reduction options"


def per_unit(unit: str) -> str:
    """"CHF thousands" -> "CHF thousand": what one unit of the plan is called."""
    return unit[:-1] if unit.endswith("s") else unit


def csv_frame(frame: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The options as the CSV file has them: amounts with their unit in the header."""
    return frame.rename(columns={
        "amount": f"amount ({unit})",
        "value_per_unit": f"value per {per_unit(unit)}",
        "cumulative": f"cumulative ceiling change ({unit})",
        "ceiling_change": "ceiling change (%)",
    })


def rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole units: each option's cells rounded (largest remainder) to add up to the option's
    rounded total, the cumulative change rounded half up."""
    out = frame.copy()
    out["amount"] = out["amount"].astype(float)
    for _, rows in frame.groupby(["direction", "option"], sort=False).groups.items():
        values = frame.loc[rows, "amount"].astype(float).tolist()
        out.loc[rows, "amount"] = largest_remainder(values, round_half_up(sum(values)))
    out["cumulative"] = [round_half_up(float(v)) for v in frame["cumulative"]]
    return out


def sheet(frame: pd.DataFrame, unit: str, notes: Sequence[str]) -> Sheet:
    """The workbook sheet: the options in order, both directions, with what limited them."""
    one = per_unit(unit)
    shown = rounded(frame).assign(
        direction=frame["direction"].map({"reduce": "Reduce", "fund": "Fund"}))
    explain = (
        "Every year's revenue lines, growth rules and cuts (the ceiling less the programme "
        "support costs earned) are moved by the same share of themselves: down by up to 10% (Reduce: "
        "what the model gives up, lowest value first) and up until every requirement the rules "
        "let the regular budget pay for is funded (Fund: what more money buys, highest value "
        "first). Each option is what re-running the scenario with the ceiling at the option's end "
        "takes from (or gives to) each cell, every other rule as the scenario states it (envelopes "
        "at their amounts, not re-scaled as shares of the new ceiling); amounts "
        f"are all funds together. Value per {one}: the value of the costed requirements lost or "
        f"funded per {one} of ceiling (priority weight x tranche factor). Cumulative: the ceiling "
        f"change at the option's end, all years, in {unit}; the ceiling is the revenue lines, "
        "growth rules and cuts and the programme support costs earned on the extrabudgetary "
        "funds' spending (as on the Summary sheet), and its change (%) is of that ceiling.")
    rounding = (f"Amounts rounded to whole {unit} so that each option's cells add up to its "
                f"rounded total; {CSV} has them to 6 decimals.")
    return Sheet(
        TITLE, f"Options for reducing expenses, and what more money buys ({unit})",
        (explain, rounding, *notes),
        (("direction", "Direction", "text", 9), ("option", "Option", "number", 7),
         ("entity", "Entity", "text", 8), ("priority", "Priority", "text", 9),
         ("priority_name", "Thematic priority", "text", 62), ("output", "Output", "text", 8),
         ("year", "Year", "number", 6), ("amount", f"Amount ({unit})", "amount", 13),
         ("value_per_unit", f"Value per {one}", "number", 14),
         ("cumulative", f"Cumulative ceiling change ({unit})", "amount", 22),
         ("ceiling_change", "Ceiling change (%)", "number", 10)),
        shown, csv=CSV)


def files(frame: pd.DataFrame, unit: str) -> Callable[[Path], list[str]]:
    """What `write_report` calls to write tables/reduction-options.csv."""

    def write(folder: Path) -> list[str]:
        (folder / CSV).parent.mkdir(parents=True, exist_ok=True)
        write_csv(csv_frame(frame, unit), folder / CSV)
        return [CSV]

    return write
