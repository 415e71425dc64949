"""Where every input of a resolved scenario goes in the input workbook: sheets of tables whose
rows and columns are fixed by the scenario the template was made from.

One layout serves both directions: the template writes it, the reader finds each cell by it, so a
cell's place never depends on what a user typed. Every input cell stands for one key of the
resolved document (`path`), the key a scenario would override.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Path_ = tuple[str, ...]

MISSING: Any = object()
NUMBER, SHARE, TEXT, BOOL, CHOICE, CODES, MARK, LABEL = (
    "number", "share", "text", "bool", "choice", "codes", "mark", "label")
"""Kinds of cell: a number, a share 0-1, free text, TRUE/FALSE, one code of a list, codes of a
list separated by commas, an 'x' (a cell of the mandate), a fixed label (a key column)."""
TOP = 3
"""Row (0-based) of the first table's title: rows 1-2 hold the sheet's title and a note."""
BY_YEAR_NOTE = "(by year in the model files)"


@dataclass(frozen=True)
class Column:
    header: str
    kind: str
    key: Path_ = ()
    """The key under the row's path (empty: the row's own value)."""
    options: str | None = None
    """The list (in the Lists sheet) its codes come from."""
    by_year: bool = False
    """The key's last part is a year of a table that may also be one number for every year."""
    lo: float | None = 0.0
    hi: float | None = None
    what: str = ""
    """What the number is, for messages: 'a number of CHF thousands'."""
    width: float = 12


@dataclass(frozen=True)
class Row:
    labels: tuple[str, ...]
    """The values of the key columns."""
    path: Path_
    """The row's key in the resolved document."""
    kinds: tuple[str, ...] = ()
    """Per-row kind of the value column of a key-value table (settings)."""
    options: str | None = None
    """Per-row list of codes of a key-value table's value."""


@dataclass(frozen=True)
class Block:
    title: str
    keys: tuple[str, ...]
    """Headers of the key columns (locked)."""
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    note: str = ""

    @property
    def headers(self) -> tuple[str, ...]:
        return (*self.keys, *(c.header for c in self.columns))


@dataclass(frozen=True)
class Sheet:
    name: str
    title: str
    note: str
    blocks: tuple[Block, ...]

    def places(self) -> list[tuple[Block, int]]:
        """Each table with the row (0-based) of its title: one blank row between tables."""
        out, row = [], TOP
        for block in self.blocks:
            out.append((block, row))
            row += 2 + len(block.rows) + 1
        return out


@dataclass
class Layout:
    unit: str
    years: tuple[str, ...]
    lists: dict[str, list[str]]
    sheets: list[Sheet] = field(default_factory=list)


def get(doc: Any, path: Path_, by_year: bool = False) -> Any:
    """The value at `path`, or MISSING; for a year of a table given as one number, that number."""
    node = doc
    for i, part in enumerate(path):
        if by_year and i == len(path) - 1 and not isinstance(node, dict):
            return node
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def _table(doc: dict[str, Any], *path: str) -> dict[str, Any]:
    value = get(doc, path)
    return value if isinstance(value, dict) else {}


def _codes(doc: dict[str, Any], *path: str) -> list[str]:
    return [str(k) for k in _table(doc, *path)]


def build(doc: dict[str, Any], unit: str) -> Layout:
    """The layout of a resolved scenario's document."""
    years = [str(y) for y in get(doc, ("financial_plan", "plan", "years"))
             if isinstance(y, int)] if isinstance(get(doc, ("financial_plan", "plan", "years")),
                                                 list) else []
    entities = _codes(doc, "framework", "entities")
    goals = _codes(doc, "framework", "goals")
    thematic = _codes(doc, "framework", "priorities")
    support = _codes(doc, "framework", "support")
    outputs = _codes(doc, "framework", "outputs")
    funds = _codes(doc, "financial_plan", "funds")
    tranches = _codes(doc, "rules", "objective", "tranches")
    lists = {
        "entities": entities, "priorities": thematic + support, "outputs": [*outputs, "support"],
        "tranches": tranches, "years": [*years, "*"], "goals": goals,
        "groups": ["assessed", "cost_recovery", "interest", "reserve", "other"],
        "kinds": ["minimum", "exact", "cap"], "periods": ["year", "biennium", "plan"],
        "funds": ["regular", "extrabudgetary", "all", *funds],
        "rules": ["none", "zero_nominal", "zero_real"], "mark": ["x"],
    }
    lay = Layout(unit, tuple(years), lists)
    money = f"a number of {unit}"

    def amount(header: str, key: Path_, **kw: Any) -> Column:
        return Column(f"{header} ({unit})", NUMBER, key, what=money, **kw)

    def share(header: str, key: Path_) -> Column:
        return Column(f"{header} (share 0-1)", SHARE, key, hi=1.0, what="a share between 0 and 1")

    def text(header: str, key: Path_, width: float = 40) -> Column:
        return Column(header, TEXT, key, width=width)

    def per_year(key: str, width: float = 12) -> tuple[Column, ...]:
        return tuple(amount(y, (key, y), by_year=True, width=width) for y in years)

    def rows(base: Path_, codes: list[str]) -> tuple[Row, ...]:
        return tuple(Row((c,), (*base, c)) for c in codes)

    fp = ("financial_plan",)
    revenue = _codes(doc, *fp, "revenue")
    lay.sheets.append(Sheet("Revenue", "Financial plan: revenue lines of the regular budget",
        "A line is either units x the value of one unit (assessed contributions) or an amount "
        "per year; fill in the columns the line uses. Sums of the lines are the ceiling.", (
        Block("Revenue lines", ("Code",), (
            text("Name", ("name",)), Column("Group", CHOICE, ("group",), "groups"),
            Column("Units (contributory units)", NUMBER, ("units",), what="a number of units"),
            Column("Unit value (CHF, not thousands)", NUMBER, ("unit_value_chf",),
                   what="a number of CHF", width=16),
            *per_year("amount"), text("Source", ("source",), 60)),
            rows((*fp, "revenue"), revenue)),
        Block("Growth rule and cut of the ceiling", ("Setting",),
              (Column("Value", LABEL, ()),),
              tuple(Row((k,), (*fp, "growth", k), (kind,), options) for k, kind, options in (
                  ("rule", CHOICE, "rules"), ("reference", NUMBER, None), ("cut", SHARE, None),
                  ("cut_envelopes", CODES, "entities"))),
              "rule: none, zero_nominal or zero_real; reference: the previous yearly level "
              f"({unit}); cut: a share of the ceiling; cut_envelopes: entities whose envelopes "
              "take the cut"),
        Block("Inflation (zero real growth)", ("Year",), (share("Inflation", ()),),
              tuple(Row((y,), (*fp, "growth", "inflation", y)) for y in years)),
    )))
    lay.sheets.append(Sheet("Funds", "Extrabudgetary funds", "Pledges per year; the share "
        "expected to be received; the programme support cost rate; the earmark as codes "
        "separated by commas (empty: any).", (
        Block("Funds", ("Code",), (
            text("Name", ("name",)), *(amount(f"Pledge {y}", ("pledge", y), by_year=True)
                                       for y in years),
            share("Receipt rate", ("receipt_rate",)),
            share("Support cost rate", ("support_cost_rate",)),
            Column("Must spend (TRUE/FALSE)", BOOL, ("must_spend",)),
            Column("Earmark: entities", CODES, ("earmark", "entities"), "entities", width=18),
            Column("Earmark: priorities", CODES, ("earmark", "priorities"), "priorities",
                   width=18),
            Column("Earmark: outputs", CODES, ("earmark", "outputs"), "outputs", width=18),
            text("Source", ("source",), 60)),
            rows((*fp, "funds"), funds)),)))
    rules = ("rules",)
    lay.sheets.append(Sheet("Envelopes", "Envelopes: each entity's regular budget",
        "Shares of the ceiling, or amounts per year; empty: no such bound.", (
        Block("Envelopes", ("Entity",), (
            share("Min share", ("min_share",)), share("Max share", ("max_share",)),
            *(amount(f"Min {y}", ("min", y), by_year=True) for y in years),
            *(amount(f"Max {y}", ("max", y), by_year=True) for y in years)),
            rows((*rules, "envelopes"), _codes(doc, *rules, "envelopes"))),)))
    lay.sheets.append(Sheet("Committed", "Committed costs", "Conferences, assemblies and "
        "statutory bodies: an amount in the years it falls (empty: none that year).", (
        Block("Committed costs", ("Code",), (
            text("Name", ("name",)), Column("Entity", CODES, ("entity",), "entities"),
            Column("Priority", CODES, ("priority",), "priorities"),
            Column("Output", CODES, ("output",), "outputs"),
            Column("Kind", CHOICE, ("kind",), "kinds"),
            Column("Funds", CODES, ("funds",), "funds"), *per_year("amount")),
            rows((*rules, "committed"), _codes(doc, *rules, "committed"))),)))
    selection = (Column("Entity", CODES, ("entity",), "entities", width=16),
                 Column("Priority", CODES, ("priority",), "priorities", width=24),
                 Column("Output", CODES, ("output",), "outputs", width=16))
    lay.sheets.append(Sheet("Bounds", "Bounds and targets", "Bounds are hard rules; targets "
        "are soft (goal programming). Codes separated by commas; empty: all.", (
        Block("Bounds", ("Code",), (
            text("Name", ("name",)), *selection,
            share("Min share", ("min_share",)), share("Max share", ("max_share",)),
            amount("Min", ("min",)), amount("Max", ("max",)),
            Column("Period", CHOICE, ("period",), "periods"),
            Column("Funds", CODES, ("funds",), "funds")),
            rows((*rules, "bounds"), _codes(doc, *rules, "bounds"))),
        Block("Targets", ("Code",), (
            text("Name", ("name",)), *selection, share("Share", ("share",)),
            amount("Amount", ("amount",)),
            Column("Level", NUMBER, ("level",), lo=1, hi=100, what="a level 1, 2, ..."),
            Column("Shortfall weight", NUMBER, ("shortfall_weight",), what="a weight"),
            Column("Excess weight", NUMBER, ("excess_weight",), what="a weight"),
            Column("Period", CHOICE, ("period",), "periods"),
            Column("Funds", CODES, ("funds",), "funds")),
            rows((*rules, "targets"), _codes(doc, *rules, "targets"))),
    )))
    obj = (*rules, "objective")
    weight = Column("Weight", NUMBER, (), what="a weight")
    lay.sheets.append(Sheet("Weights", "Weights of the objective", "A thematic priority's "
        "weight is the sum of its goal shares x the goal weights; support lines have their own. "
        "Each requirement's tranche multiplies it.", (
        Block("Goal weights", ("Goal",), (weight,), rows((*obj, "goal_weights"),
                                                          _codes(doc, *obj, "goal_weights"))),
        Block("Weights of priorities and support lines", ("Code",), (weight,),
              rows((*obj, "weights"), _codes(doc, *obj, "weights"))),
        Block("Tranches", ("Tranche",), (text("Name", ("name",)),
              Column("Factor", NUMBER, ("factor",), what="a factor")),
              rows((*obj, "tranches"), tranches)),
        Block("Settings", ("Key",), (Column("Value", LABEL, ()),),
              (Row(("stability.max_change",), (*rules, "stability", "max_change"), (NUMBER,)),
               Row(("objective.level_tolerance",), (*obj, "level_tolerance"), (NUMBER,))),
              "stability.max_change: how far an (entity, priority) may move from the previous "
              "allocation, a fraction; objective.level_tolerance: goal programming's slack"),
    )))
    reqs = _codes(doc, "requirements")
    if reqs:
        lay.sheets.append(Sheet("Requirements", "Costed requirements", "Per cell, tranche and "
            "year ('*': every year not listed on its own row).", (
            Block("Requirements", ("Entity", "Priority", "Output", "Tranche", "Year"), (
                amount("Amount", ("amount",)), Column("Value", NUMBER, ("value",),
                                                      what="a value per unit"),
                text("Note", ("note",), 70)),
                tuple(Row(tuple(k.split("/")), ("requirements", k)) for k in reqs)),)))
    previous = _codes(doc, "previous_allocation")
    if previous:
        lay.sheets.append(Sheet("Previous", "Previous allocation (stability anchor)",
            f"Yearly regular budget of the previous period per entity and priority ({unit}).", (
            Block("Previous allocation", ("Entity", "Priority"), (amount("Amount", ("amount",)),),
                  tuple(Row(tuple(k.split("/")), ("previous_allocation", k)) for k in previous)),
        )))
    mandate = _table(doc, "mandate")
    pairs: list[str] = []
    for key in mandate:
        pair = "/".join(str(key).split("/")[:2])
        if pair not in pairs:
            pairs.append(pair)
    cells = [*outputs, "support"]
    lay.sheets.append(Sheet("Mandate", "The mandate: which entity delivers which output on which "
        "priority", "x: a cell of the mandate (clear it to take the cell out; floors and caps "
        "of the cells on the sheet Cells).", (
        Block("Mandate", ("Entity", "Priority"), tuple(
            Column(o, MARK, (o,), "mark", width=8) for o in cells),
            tuple(Row(tuple(p.split("/")), ("mandate", p)) for p in pairs)),)))
    lay.sheets.append(Sheet("Cells", "Floors and caps of the cells of the mandate",
        f"Min and max of a cell's resources per year ({unit}); empty: none.", (
        Block("Floors and caps of cells", ("Entity", "Priority", "Output"), (
            amount("Min", ("min",)), amount("Max", ("max",)), text("Note", ("note",), 70)),
            tuple(Row(tuple(str(k).split("/")), ("mandate", str(k))) for k in mandate)),)))
    fw = ("framework",)
    lay.sheets.append(Sheet("Framework", "The strategic framework: names", "Codes are fixed; "
        "names may be edited. Goal shares of each thematic priority add up to 1.", (
        Block("Entities", ("Code",), (text("Name", ("name",), 60),),
              rows((*fw, "entities"), entities)),
        Block("Strategic goals", ("Code",), (text("Name", ("name",), 60),),
              rows((*fw, "goals"), goals)),
        Block("Thematic priorities", ("Code",), (
            text("Name", ("name",), 60),
            *(share(f"Goal share {g}", ("goal_shares", g)) for g in goals)),
              rows((*fw, "priorities"), thematic)),
        Block("Support lines (enablers)", ("Code",), (text("Name", ("name",), 60),),
              rows((*fw, "support"), support)),
        Block("Outputs (product and service offerings)", ("Code",),
              (text("Name", ("name",), 60),), rows((*fw, "outputs"), outputs)),
    )))
    return lay


def cells(block: Block, row: Row) -> list[tuple[int, Column, str, Path_]]:
    """(column index, column, kind, key) of each input cell of a row; a key-value table's
    value column takes its kind and list from the row."""
    out = []
    for i, col in enumerate(block.columns):
        kind = row.kinds[i] if row.kinds else col.kind
        if row.kinds:
            col = Column(col.header, kind, col.key, row.options, col.by_year,
                         hi=1.0 if kind == SHARE else None,
                         what="a share between 0 and 1" if kind == SHARE else "a number")
        if kind == MARK:
            out.append((len(block.keys) + i, col, kind, (*row.path[:-1],
                                                          f"{row.path[-1]}/{col.key[0]}")))
        else:
            out.append((len(block.keys) + i, col, kind, (*row.path, *col.key)))
    return out


def column_letter(col: int) -> str:
    name = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        name = chr(65 + rem) + name
    return name


def ref(row: int, col: int) -> str:
    """A1 reference of a 0-based cell."""
    return f"{column_letter(col)}{row + 1}"
