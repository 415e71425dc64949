"""The input rules of issue 10: no silent misreading of years, biennia, dates, amounts, encodings,
removals and scenario names. Each rule: a refusal naming file and field, and what stays valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from alloc.errors import InputError
from alloc.model.files import MAX_INTEGER, parse_toml, read_text, wide_encoding
from alloc.model.load import load_plan
from alloc.model.scenario import RESERVED_REPORT_NAMES, check_report_name, resolve, shown

REPO = Path(__file__).resolve().parents[2]
TINY = Path("models") / "tiny"
S = '[scenario]\nparent = "tiny"\n'
FOUR_YEARS = ('[financial_plan.plan]\nyears = [2024, 2025, 2026, 2027]\n'
              '[financial_plan.plan.biennia]\n"2026-2027" = [2026, 2027]\n')


def scenario(project: Path, body: str, name: str = "case") -> str:
    (project / "scenarios" / f"{name}.toml").write_text(body)
    return name


def problems(project: Path, ref: str) -> str:
    with pytest.raises(InputError) as info:
        load_plan(ref, project)
    return str(info.value)


def expect(project: Path, body: str, *texts: str) -> str:
    message = problems(project, scenario(project, body))
    for text in texts:
        assert text in message, f"{text!r} missing from:\n{message}"
    assert "Traceback" not in message
    return message


# -- 1. per-year amounts ------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    ('[financial_plan.revenue.x]\nname = "X"\namount = { 2024 = 5 }\n',
     "financial_plan.revenue.x.amount"),
    ('[financial_plan.revenue.x]\nname = "X"\nunits = { 2024 = 5 }\nunit_value_chf = 1000\n',
     "financial_plan.revenue.x.units"),
    ('[financial_plan.funds.G]\nname = "G"\npledge = { 2024 = 5 }\nreceipt_rate = 1.0\n',
     "financial_plan.funds.G.pledge"),
    ('[financial_plan.growth]\nrule = "zero_real"\nreference = 90\ninflation = { 2024 = 0.02 }\n',
     "financial_plan.growth.inflation"),
    ('[rules.envelopes.B]\nfixed = { 2024 = 20 }\n', "rules.envelopes.B.fixed"),
])
def test_money_by_year_must_give_every_year(project: Path, body: str, field: str) -> None:
    expect(project, S + body, f"scenarios/case.toml: {field}: has no entry for 2025, a year of "
           "the plan (2024-2025, set in models/tiny/financial-plan.toml: plan.years)",
           "give one number for every year")


def test_a_scenario_adding_years_names_every_table_left_short(project: Path) -> None:
    message = expect(project, S + FOUR_YEARS,
                     "models/tiny/financial-plan.toml: revenue.assessed.amount: has no entry for "
                     "2026 and 2027, years of the plan (2024-2027, set in scenarios/case.toml: "
                     "financial_plan.plan.years)")
    assert "funds.F.pledge" not in message  # one number: the same every year


def test_the_reference_model_plus_a_year_is_refused_not_misread(project: Path) -> None:
    message = expect(project, '[scenario]\nparent = "baseline"\n[financial_plan.plan]\n'
                     'years = [2024, 2025, 2026, 2027, 2028, 2029]\n'
                     'biennia = { "2028-2029" = [2028, 2029] }\n',
                     "revenue.satellite_filings.amount: has no entry for 2028 and 2029",
                     "funds.development_trust.pledge: has no entry for 2028 and 2029")
    assert "member_states" not in message  # units and value are one number each


def test_a_scalar_covers_every_year_and_so_does_a_full_table(project: Path) -> None:
    scenario(project, S + FOUR_YEARS + '[financial_plan.revenue.assessed]\n'
             'amount = { 2026 = 90, 2027 = 95 }\n[financial_plan.revenue.x]\nname = "X"\n'
             'units = 2\nunit_value_chf = 5000\n')
    plan = load_plan("case", project)
    assert plan.years == (2024, 2025, 2026, 2027)
    assert plan.fund("F").pledges == dict.fromkeys(plan.years, 25.0)
    x = next(line for line in plan.revenue if line.code == "x")
    assert x.amounts == dict.fromkeys(plan.years, 10.0)
    assert [plan.revenue_total(y) for y in plan.years] == [110.0, 90.0, 100.0, 105.0]


def test_rules_by_year_may_leave_years_out(project: Path) -> None:
    """A committed cost, an envelope's min/max and a mandate cell's bounds hold only in the years
    given (docs/model-format.md): the tiny model caps A in 2025 only, commits B in 2024 only."""
    scenario(project, S + '[mandate."A/P1/O"]\nmin = { 2025 = 1 }\n')
    plan = load_plan("case", project)
    (envelope,) = plan.envelopes
    assert envelope.max == {2025: 68.0} and envelope.min == {}
    assert next(c for c in plan.commitments if c.code == "b_floor").amounts == {2024: 35.0}
    cell = next(m for m in plan.mandate if m.cell == ("A", "P1", "O"))
    assert cell.min == {2025: 1.0}


# -- 2. biennia ---------------------------------------------------------------------------------

RM = '[scenario]\nparent = "tiny"\nremove = ["financial_plan.plan.biennia"]\n'
FOUR = ('[financial_plan.plan]\nyears = [2024, 2025, 2026, 2027]\n'
        '[financial_plan.revenue.assessed]\namount = { 2026 = 90, 2027 = 90 }\n')


@pytest.mark.parametrize(("body", "texts"), [
    (RM + '[financial_plan.plan]\nbiennia = { "2024" = [2024], "2025" = [2025] }\n',
     ["financial_plan.plan.biennia.2024: [2024] is not a biennium", "e.g. [2024, 2025]"]),
    (RM + FOUR + '[financial_plan.plan.biennia]\na = [2024, 2026]\nb = [2025, 2027]\n',
     ["financial_plan.plan.biennia.a: [2024, 2026] is not a biennium"]),
    (RM + FOUR + '[financial_plan.plan.biennia]\na = [2024, 2025, 2026]\nb = [2027]\n',
     ["biennia.a: [2024, 2025, 2026] is not a biennium",
      "biennia.b: [2027] is not a biennium: a biennium is two adjacent years in order, e.g. "
      "[2026, 2027]"]),
    (RM + '[financial_plan.plan]\nbiennia = { x = [2025, 2024] }\n',
     ["biennia.x: [2025, 2024] is not a biennium"]),
    (S + FOUR + '[financial_plan.plan.biennia]\n"2025-2026" = [2025, 2026]\n',
     ["biennia.2025-2026: 2025 is already in the biennium '2024-2025'"]),
    (S + FOUR, ["models/tiny/financial-plan.toml: plan.biennia: 2026 and 2027 are in no biennium",
                'add e.g. "2026-2027" = [2026, 2027]']),
    (RM + '[financial_plan.plan]\nbiennia = {}\n',
     ["scenarios/case.toml: financial_plan.plan.biennia: 2024 and 2025 are in no biennium"]),
    (S + '[financial_plan.plan.biennia]\nlater = [2030, 2031]\n',
     ["biennia.later: 2030 and 2031 are not years of the plan (2024-2025)"]),
    (RM + '[financial_plan.plan]\nbiennia = { "2026-2027" = [2024, 2025] }\n',
     ["the label '2026-2027' names 2026 and 2027, but the biennium holds 2024 and 2025"]),
    (S + '[financial_plan.plan]\nbiennia = [[2024, 2025]]\n',
     ["financial_plan.plan.biennia: expected a table label = [two adjacent years]"]),
    (S + '[financial_plan.plan.biennia]\n"2024-2025" = ["2024", "2025"]\n',
     ["got a list holding text ('2024')"]),
    (S + '[financial_plan.plan]\nyears = [2024, 2025, 2026]\n'
     '[financial_plan.revenue.assessed]\namount = { 2026 = 1 }\n',
     ["plan.biennia: 2026 is in no biennium: a plan of 3 years"]),
    (S.replace('parent = "tiny"', 'parent = "tiny"\nremove = ["financial_plan.plan.biennia"]')
     + '[financial_plan.plan]\nyears = [2024, 2025, 2026]\n'
     '[financial_plan.revenue.assessed]\namount = { 2026 = 1 }\n[rules.targets.P1]\nperiod = "biennium"\n',
     ["rules.targets.P1.period: is per biennium, but the plan (2024-2026, 3 years) has no biennia",
      "add 2027 or drop 2026"]),
    (S + '[financial_plan.plan]\nyears = [2024]\n', ["2025 is not a year of the plan (2024)"]),
])
def test_biennia_are_adjacent_pairs_that_partition_the_plan(project: Path, body: str,
                                                            texts: list[str]) -> None:
    expect(project, body, *texts)


def test_biennia_default_to_consecutive_pairs_and_may_carry_any_label(project: Path) -> None:
    scenario(project, S + FOUR + '[financial_plan.plan.biennia]\n"2026-2027" = [2026, 2027]\n',
             "four")
    assert load_plan("four", project).biennia == {"2024-2025": (2024, 2025),
                                                   "2026-2027": (2026, 2027)}
    scenario(project, RM + FOUR + '[financial_plan.plan.biennia]\n"FY24-25" = [2024, 2025]\n'
             'second = [2026, 2027]\n', "labels")
    assert load_plan("labels", project).biennia == {"FY24-25": (2024, 2025),
                                                     "second": (2026, 2027)}
    scenario(project, RM + FOUR, "default")
    assert list(load_plan("default", project).biennia) == ["2024-2025", "2026-2027"]


# -- 3. dates -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "text"), [
    ('"2024-13-45"', "'2024-13-45' is not a real date (month must be in 1..12)"),
    ('"2023-02-29"', "'2023-02-29' is not a real date (day is out of range for month)"),
    ('"2024-1-5"', "expected a date YYYY-MM-DD in quotes"),
    ('"14/10/2022"', "expected a date YYYY-MM-DD in quotes"),
    ('"20240131"', "expected a date YYYY-MM-DD in quotes"),  # fromisoformat would take it
    ('"2024-W05-3"', "expected a date YYYY-MM-DD in quotes"),
    ("20240131", "got a number"),
    ("2024-01-31T10:00:00", "got a date or time (2024-01-31T10:00:00), not in quotes"),
    ('"0999-01-01"', "not a plausible date (year 999)"),
])
def test_dates_are_real_dates(project: Path, value: str, text: str) -> None:
    expect(project, S + f"[model]\ninputs_date = {value}\n", "scenarios/case.toml: model.inputs_date: ",
           text)


def test_a_date_written_as_a_toml_date_is_read_as_its_text(project: Path) -> None:
    scenario(project, S + "[model]\ninputs_date = 2024-02-29\n")
    assert load_plan("case", project).inputs_date == "2024-02-29"


# -- 4. amounts beyond the bound, computed ones too ---------------------------------------------

def test_units_times_value_beyond_the_bound_names_both_keys(project: Path) -> None:
    expect(project, S + '[financial_plan.revenue.x]\nname = "X"\nunits = 1e6\nunit_value_chf = 1e9\n',
           "scenarios/case.toml: financial_plan.revenue.x: units x unit_value_chf / 1000 comes to "
           "1,000,000,000,000 CHF thousands in 2024, more than the limit of 1,000,000,000",
           "check units (1e+06) and unit_value_chf (1e+09")


def test_the_bound_on_a_product_is_the_bound_on_an_amount(project: Path) -> None:
    """At the bound exactly a product passes, as a typed amount does; just above it is refused."""
    scenario(project, S + '[financial_plan.revenue.assessed]\namount = 1e9\n', "typed")
    assert load_plan("typed", project).revenue_total(2024) == 1e9
    scenario(project, '[scenario]\nparent = "tiny"\nremove = ["financial_plan.revenue.assessed.amount"]\n'
             '[financial_plan.revenue.assessed]\nunits = 1000\nunit_value_chf = 1e9\n', "exact")
    assert load_plan("exact", project).revenue_total(2024) == 1e9
    scenario(project, '[scenario]\nparent = "tiny"\nremove = ["financial_plan.revenue.assessed.amount"]\n'
             '[financial_plan.revenue.assessed]\nunits = 1001\nunit_value_chf = 1e9\n', "above")
    assert "more than the limit" in problems(project, "above")


def test_messages_speak_the_models_unit(project: Path) -> None:
    path = project / TINY / "model.toml"
    path.write_text(path.read_text().replace("CHF thousands", "USD thousands"))
    expect(project, S + '[financial_plan.revenue.assessed]\namount = 1e13\n',
           "expected an amount in USD thousands, got 1e+13", "is it in USD thousands?")
    message = expect(project, S + '[financial_plan.revenue.x]\nname = "X"\nunits = 1e6\n'
                     'unit_value = 1e9\n', "1,000,000,000,000 USD thousands",
                     "the value of one unit in USD")
    assert "CHF" not in message
    expect(project, S + '[financial_plan.revenue.x]\nname = "X"\nunits = 1\nunit_value_chf = 1\n',
           "financial_plan.revenue.x.unit_value_chf: the model is in USD thousands: give unit_value")


def test_the_sum_of_the_revenue_lines_and_an_escalated_reference_are_bounded(project: Path) -> None:
    expect(project, S + '[financial_plan.revenue.x]\nname = "X"\namount = 6e8\n'
           '[financial_plan.revenue.y]\nname = "Y"\namount = 6e8\n',
           "models/tiny/financial-plan.toml: revenue: the sum of the revenue lines comes to "
           "1,200,000,100 CHF thousands in 2024")
    expect(project, S + '[financial_plan.growth]\nrule = "zero_real"\nreference = 9e8\n'
           'inflation = 0.5\n', "scenarios/case.toml: financial_plan.growth.reference: the "
           "reference escalated by inflation comes to 1,350,000,000 CHF thousands in 2024")


def test_a_refused_value_adds_no_second_misleading_problem(project: Path) -> None:
    message = expect(project, S + '[rules.targets.P1]\namount = 1e10\n', "must be at most 1e+09")
    assert message.startswith("1 problem") and "not both" not in message
    message = expect(project, S + '[rules.bounds.x]\npriority = "P1"\nmin = "a lot"\n', "text")
    assert message.startswith("1 problem")
    message = expect(project, S + '[framework.entities.A]\norder = "first"\n',
                     "framework.entities.A.order: expected an order number")
    assert message.startswith("1 problem")
    expect(project, S + '[financial_plan.growth]\nrule = "zero_nominal"\nreference = 5e9\n',
           "financial_plan.growth.reference: expected an amount in CHF thousands, got 5e+09")


# -- 5. whole numbers too long to hold ----------------------------------------------------------

def test_a_400_digit_integer_is_refused_at_parse(project: Path) -> None:
    expect(project, S + "[financial_plan.revenue.assessed]\namount = " + "9" * 400 + "\n",
           "scenarios/case.toml: financial_plan.revenue.assessed.amount: is a whole number of 400 "
           "digits, too large")


def test_long_integers_are_found_in_tables_and_lists(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('a = { "1.1" = -99999999999999999999 }\nb = [2024, ' + "1" * 30 + "]\n"
                    f"c = {MAX_INTEGER}\nd = {2**63}\n")
    with pytest.raises(InputError) as info:
        parse_toml(read_text(path))
    fields = {p.field for p in info.value.problems}
    assert fields == {'a."1.1"', "b[1]", "d"}


# -- 6. a removal is blamed on the scenario that removed ----------------------------------------

@pytest.mark.parametrize(("key", "text"), [
    ("rules", "removes 'rules', which the model requires (rules: missing table)"),
    ("model.inputs_date", "removes 'model.inputs_date', which the model requires"),
    ("financial_plan.funds.F.pledge", "removes 'financial_plan.funds.F.pledge', which the model "
     "requires (financial_plan.funds.F.pledge: missing"),
    ("framework.priorities.P1.goal_shares", "removes 'framework.priorities.P1.goal_shares'"),
])
def test_a_removed_required_key_blames_the_remove_entry(project: Path, key: str, text: str) -> None:
    message = expect(project, S + f"remove = ['rules.envelopes.A', '{key}']\n",
                     f"scenarios/case.toml: scenario.remove[1]: {text}",
                     "drop this entry, or set the key again in the scenario")
    assert "models/tiny/" not in message


def test_a_parents_removal_is_blamed_on_the_parent(project: Path) -> None:
    scenario(project, S + "remove = ['financial_plan.funds.F.receipt_rate']\n", "other")
    expect(project, '[scenario]\nparent = "other"\n',
           "scenarios/other.toml: scenario.remove[0]: removes 'financial_plan.funds.F.receipt_rate'")


def test_a_key_set_again_is_answered_for_by_the_scenario_that_set_it(project: Path) -> None:
    scenario(project, S + "remove = ['financial_plan.funds.F']\n", "other")
    message = expect(project, '[scenario]\nparent = "other"\n[financial_plan.funds.F]\n'
                     'name = "F again"\n', "scenarios/case.toml: financial_plan.funds.F.pledge: "
                     "missing")
    assert "scenario.remove" not in message


def test_a_year_removed_from_a_table_that_needs_every_year_blames_the_removal(
        project: Path) -> None:
    message = expect(project, S + "remove = ['financial_plan.revenue.assessed.amount.2025']\n",
                     "scenarios/case.toml: scenario.remove[0]: removes "
                     "'financial_plan.revenue.assessed.amount.2025', so "
                     "financial_plan.revenue.assessed.amount: has no entry for 2025")
    assert "models/tiny/" not in message


def test_a_problem_on_a_table_mentions_a_removal_inside_it(project: Path) -> None:
    scenario(project, S + '[financial_plan.revenue.x]\nname = "X"\nunits = 10\n'
             'unit_value_chf = 1000\n', "other")
    expect(project, '[scenario]\nparent = "other"\n'
           'remove = ["financial_plan.revenue.x.unit_value_chf"]\n',
           "scenarios/other.toml: financial_plan.revenue.x: a line in units needs both units and "
           "unit_value_chf (after scenarios/case.toml: scenario.remove[0] removed "
           "'financial_plan.revenue.x.unit_value_chf')")


def test_removed_keys_are_not_said_to_set_values(project: Path) -> None:
    message = expect(project, S + "remove = ['financial_plan.plan.biennia']\n"
                     "[financial_plan.plan]\nbiennia = {}\n", "2024 and 2025 are in no biennium")
    assert "values set in" not in message


def test_removals_still_load_and_report_their_overrides(project: Path) -> None:
    scenario(project, S + "remove = ['rules.envelopes.A', 'rules.committed.b_floor']\n")
    plan = load_plan("case", project)
    assert plan.envelopes == ()
    assert {o.key for o in plan.overrides if o.new is None} == {"rules.envelopes.A",
                                                                "rules.committed.b_floor"}


# -- 7. encodings -------------------------------------------------------------------------------

TEXT = '[scenario]\nparent = "tiny"\ntitle = "Caf\u00e9"\n'


@pytest.mark.parametrize(("data", "name"), [
    (TEXT.encode("utf-16"), "UTF-16 text (little-endian, with a byte-order mark)"),
    (b"\xfe\xff" + TEXT.encode("utf-16-be"), "UTF-16 text (big-endian, with a byte-order mark)"),
    (TEXT.encode("utf-16-le"), "UTF-16 text (little-endian, without a byte-order mark)"),
    (TEXT.encode("utf-16-be"), "UTF-16 text (big-endian, without a byte-order mark)"),
    (TEXT.encode("utf-32"), "UTF-32 text (little-endian, with a byte-order mark)"),
    (b"\x00\x00\xfe\xff" + TEXT.encode("utf-32-be"), "UTF-32 text (big-endian, with a byte-order mark)"),
    (TEXT.encode("utf-32-le"), "UTF-32 text (little-endian, without a byte-order mark)"),
    (TEXT.encode("utf-32-be"), "UTF-32 text (big-endian, without a byte-order mark)"),
])
def test_utf16_and_utf32_are_named_with_how_to_save_as_utf8(project: Path, data: bytes,
                                                            name: str) -> None:
    assert wide_encoding(data) == name
    (project / "scenarios" / "case.toml").write_bytes(data)
    message = problems(project, "case")
    assert f"scenarios/case.toml: is {name}, expected UTF-8; save it as UTF-8 (in Notepad" in message
    assert "binary" not in message


def test_plain_text_and_binary_are_not_taken_for_utf16() -> None:
    assert wide_encoding(TEXT.encode()) is None
    assert wide_encoding(b"\x00\x01\x02binary") is None
    assert wide_encoding(bytes(range(256)) * 4) is None


def test_a_csv_in_utf16_or_latin1_gets_the_excel_advice(project: Path) -> None:
    path = project / TINY / "mandate.csv"
    text = path.read_text()
    path.write_bytes(text.encode("utf-16"))
    assert "models/tiny/mandate.csv: is UTF-16 text" in problems(project, "tiny")
    assert "in Excel: File, Save As, 'CSV UTF-8 (Comma delimited)'" in problems(project, "tiny")
    path.write_bytes(text.replace("B,P2,O,,,", "B,P2,O,,,Activit\u00e9").encode("latin-1"))
    message = problems(project, "tiny")
    assert ("models/tiny/mandate.csv: is not UTF-8 text: byte 0xE9 at line 4, column 17 (byte 78), "
            "which Windows-1252 (Latin-1) reads as '\u00e9'") in message
    assert "CSV UTF-8" in message
    path.write_bytes(b"PK\x03\x04" + bytes(60))
    assert "is a zip file or an Excel workbook" in problems(project, "tiny")


# -- 8. scenario names that cannot be a report folder ---------------------------------------------

@pytest.mark.parametrize("name", [
    "", ".", "..", ".hidden", "a/b", "a\\b", "bad\x1b[31m", "invoice\u202egpj", "x\u2066y",
    "zero\u200bwidth", "tab\there", "new\nline", "compare", "Compare", "README", "readme.md",
    "README.MD", "con", "CON", "nul", "Aux", "prn.txt", "com1", "COM9.backup", "lpt1", "LPT9",
    "case ", "case.", "a:b", "a*b", "x" * 101,
])
def test_names_that_cannot_be_report_folders(name: str) -> None:
    assert check_report_name(name) is not None


@pytest.mark.parametrize("name", [
    "baseline", "cut-5pct", "eb_high", "zng 2026", "Budget.v2", "compare-2024", "readme-notes",
    "console", "com10", "lpt", "Ünïcode-naïve", "x" * 100,
])
def test_ordinary_names_are_fine(name: str) -> None:
    assert check_report_name(name) is None


def test_every_shipped_scenario_has_a_fine_name() -> None:
    for path in (REPO / "scenarios").rglob("*.toml"):
        assert check_report_name(path.stem) is None, path


def test_the_reserved_names() -> None:
    assert {"compare", "readme", "readme.md", "con", "prn", "aux", "nul", "com1", "lpt9"} <= set(
        RESERVED_REPORT_NAMES)
    assert all(n == n.lower() for n in RESERVED_REPORT_NAMES)


@pytest.mark.parametrize(("file", "ref", "text"), [
    ("..toml", "scenarios/..toml", "the scenario's name '.' is '.'"),
    ("compare.toml", "compare", "'compare' is reserved: alloc writes comparisons under reports/compare/"),
    ("README.md.toml", "README.md", "'README.md' is reserved"),
    ("con.toml", "con", "the Windows device name CON"),
    ("bad\x1bname.toml", "bad\x1bname", "'bad\\x1bname' contains the control character U+001B"),
    ("a\u202eb.toml", "a\u202eb", "U+202E"),
])
def test_resolving_refuses_a_bad_name_and_says_rename(project: Path, file: str, ref: str, text: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "scenarios" / file).write_text(S)
    monkeypatch.chdir(project)
    with pytest.raises(InputError) as info:
        resolve(ref, project)
    message = str(info.value)
    assert f"scenarios/{shown(file)}: file name: " in message and text in message
    assert "Rename the file" in message
    assert "\x1b" not in message and "\u202e" not in message


@pytest.mark.parametrize("parent", ["compare", "CON", ".", "x\\u001by", "readme"])
def test_a_parent_with_a_bad_name_is_refused(project: Path, parent: str) -> None:
    expect(project, f'[scenario]\nparent = "{parent}"\n', "scenarios/case.toml: scenario.parent: "
           "the parent's name", "Rename the parent's file and this entry")


def test_shown_makes_invisible_characters_visible() -> None:
    assert shown("a\x1b[31mb\u202ec\u200b") == "a\\x1b[31mb\\u202ec\\u200b"
    assert shown("Café 2024-2025") == "Café 2024-2025"
