"""Bad input gets a clear error naming file and field, never a traceback; good quirks just work."""

from __future__ import annotations

from pathlib import Path

import pytest

from alloc.errors import InputError
from alloc.model.load import load_plan

TINY = Path("models") / "tiny"


def scenario(project: Path, body: str, name: str = "case") -> str:
    (project / "scenarios" / f"{name}.toml").write_text(body)
    return name


def problems(project: Path, ref: str) -> str:
    with pytest.raises(InputError) as info:
        load_plan(ref, project)
    return str(info.value)


def edit(project: Path, file: str, old: str, new: str) -> None:
    path = project / TINY / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))


CASES = [
    # (scenario body, expected substrings)
    ('[scenario]\nparent = "tiny"\n[rules.envelopes.A]\nmax_shar = 0.5\n',
     ["scenarios/case.toml", "rules.envelopes.A.max_shar", "unknown key", "did you mean 'max_share'"]),
    ('[scenario]\nparent = "tiny"\n[rules.committed.support]\namount = "lots"\n',
     ["rules.committed.support.amount", "expected an amount in CHF thousands", "text ('lots')"]),
    ('[scenario]\nparent = "tiny"\n[rules.committed.support]\namount = -5\n',
     ["rules.committed.support.amount", "must be at least 0"]),
    ('[scenario]\nparent = "tiny"\n[rules.committed.support]\namount = nan\n',
     ["rules.committed.support.amount", "not a finite number"]),
    ('[scenario]\nparent = "tiny"\n[rules.committed.support]\namount = inf\n',
     ["not a finite number"]),
    ('[scenario]\nparent = "tiny"\n[rules.committed.support]\namount = 1e15\n',
     ["must be at most", "is it in CHF thousands?"]),
    ('[scenario]\nparent = "tiny"\n[rules.committed.support]\namount = { 2031 = 5 }\n',
     ["rules.committed.support.amount.2031", "not a year of the plan"]),
    ('[scenario]\nparent = "tiny"\n[rules.committed.support]\nentity = "AA"\n',
     ["'AA' is not an entity", "did you mean 'A'"]),
    ('[scenario]\nparent = "tiny"\n[framework.priorities.P1]\ngoal_shares = { G1 = 0.7 }\n',
     ["priorities.P1.goal_shares", "add up to 0.7", "expected 1",
      "set in scenarios/case.toml: framework.priorities.P1.goal_shares.G1"]),
    ('[scenario]\nparent = "tiny"\n[rulez.x]\na = 1\n',
     ["rulez", "unknown section", "did you mean 'rules'"]),
    ('[scenario]\nparent = "tiny"\nremove = ["rules.bounds.nothing"]\n',
     ["scenario.remove[0]", "names no key"]),
    ('[scenario]\nmodel = "tinny"\n', ["models/tinny", "no such model", "did you mean 'tiny'"]),
    ('[scenario]\nparent = "tiny"\n[rules.budget]\nceiling_period = "month"\n',
     ["rules.budget.ceiling_period", "expected one of year, biennium"]),
    ('[scenario]\nparent = "tiny"\n[financial_plan.funds.F]\nreceipt_rate = 1.5\n',
     ["financial_plan.funds.F.receipt_rate", "share between 0 and 1"]),
    ('[scenario]\nparent = "tiny"\n[mandate."A/P9/O"]\n',
     ["mandate", "'P9' is not a priority"]),
    ('[scenario]\nparent = "tiny"\n[rules.targets.P1]\nshare = 0.3\n',
     ["scenarios/case.toml: rules.targets.P1.share", "either amount or share"]),
    ('[scenario]\nparent = "tiny"\n[rules.envelopes.A]\nmin = 90\nmax = 10\n',
     ["scenarios/case.toml: rules.envelopes.A.min", "minimum 90.0 is above the maximum 10.0"]),
    ('[scenario]\nparent = "tiny"\n[rules.envelopes.A]\nmax = true\n',
     ["rules.envelopes.A.max", "true/false"]),
    ('[scenario]\nparent = "tiny"\n[scenario.x]\n', ["scenario.x", "unknown key. Expected"]),
    ('not toml at all = = =\n', ["scenarios/case.toml", "not valid TOML"]),
    ('', ["scenarios/case.toml", "empty"]),
    ('[rules]\n', ["missing [scenario] table"]),
]


@pytest.mark.parametrize(("body", "expected"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_bad_scenario_is_reported_by_file_and_field(project: Path, body: str,
                                                    expected: list[str]) -> None:
    message = problems(project, scenario(project, body))
    for text in expected:
        assert text in message, f"{text!r} missing from:\n{message}"
    assert "Traceback" not in message


def test_all_problems_of_a_file_are_reported_at_once(project: Path) -> None:
    message = problems(project, scenario(project, (
        '[scenario]\nparent = "tiny"\n[rules.envelopes.A]\nmax_shar = 0.5\n'
        '[rules.committed.support]\namount = -1\nkindd = "cap"\n')))
    assert message.startswith("3 problems")
    for text in ("max_shar", "amount", "kindd"):
        assert text in message


def test_parent_chain_that_loops(project: Path) -> None:
    scenario(project, '[scenario]\nparent = "b"\nmodel = "tiny"\n', "a")
    scenario(project, '[scenario]\nparent = "a"\n', "b")
    message = problems(project, "a")
    assert "loops (a -> b -> a)" in message


def test_missing_model_file(project: Path) -> None:
    (project / TINY / "mandate.csv").unlink()
    assert "models/tiny/mandate.csv: missing model file" in problems(project, "tiny")


def test_binary_file(project: Path) -> None:
    (project / TINY / "rules.toml").write_bytes(b"\x00\x01\x02binary")
    assert "models/tiny/rules.toml: is a binary file" in problems(project, "tiny")


def test_not_utf8(project: Path) -> None:
    (project / TINY / "rules.toml").write_bytes("name = 'caf\u00e9'\n".encode("latin-1"))
    assert "is not UTF-8 text" in problems(project, "tiny")


def test_unknown_code_in_mandate_csv_names_the_line(project: Path) -> None:
    edit(project, "mandate.csv", "B,P2,O,,,", "C,P2,O,,,")
    message = problems(project, "tiny")
    assert "models/tiny/mandate.csv: line 4, column entity" in message
    assert "'C' is not an entity" in message


def test_duplicate_mandate_row(project: Path) -> None:
    edit(project, "mandate.csv", "B,P2,O,,,", "B,P2,O,,,\nB,P2,O,,,")
    assert "line 5: 'B/P2/O' is listed twice" in problems(project, "tiny")


def test_text_in_a_numeric_csv_column(project: Path) -> None:
    edit(project, "mandate.csv", "B,P2,O,,,", "B,P2,O,ten,,")
    message = problems(project, "tiny")
    assert "mandate.csv: line 4" in message and "text ('ten')" in message


def test_unknown_csv_column(project: Path) -> None:
    edit(project, "mandate.csv", "entity,priority,output,min,max,note", "entity,priority,outptu")
    message = problems(project, "tiny")
    assert "column 'outptu'" in message and "missing required column" in message


def test_duplicate_priority_and_support_code(project: Path) -> None:
    edit(project, "framework.toml", "[support.S1]", "[support.P1]")
    assert "code 'P1' is already used" in problems(project, "tiny")


def test_priority_nobody_delivers(project: Path) -> None:
    edit(project, "mandate.csv", "B,P2,O,,,\n", "")
    message = problems(project, "tiny")
    assert "no entity delivers 'P2'" in message


def test_bom_and_windows_line_endings_just_work(project: Path) -> None:
    for name in ("rules.toml", "mandate.csv", "framework.toml"):
        path = project / TINY / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_text().replace("\n", "\r\n").encode())
    plan = load_plan("tiny", project)
    assert [e.code for e in plan.entities] == ["A", "B"]
    assert len(plan.mandate) == 3


def test_overrides_are_recorded_with_old_and_new_values(project: Path) -> None:
    scenario(project, '[scenario]\nparent = "tiny"\n[financial_plan.funds.F]\nreceipt_rate = 0.8\n',
             "richer")
    scenario(project, '[scenario]\nparent = "richer"\nremove = ["rules.envelopes.A"]\n', "free")
    plan = load_plan("free", project)
    assert plan.scenario_chain == ("free", "richer", "tiny")
    assert plan.fund("F").receipt_rate == 0.8
    assert plan.envelopes == ()
    changes = {(o.scenario, o.key): (o.old, o.new) for o in plan.overrides}
    assert changes[("richer", "financial_plan.funds.F.receipt_rate")] == (0.6, 0.8)
    assert changes[("free", "rules.envelopes.A")] == ({"max": {"2025": 68}}, None)
    assert set(plan.input_files) == {
        "models/tiny/model.toml", "models/tiny/framework.toml", "models/tiny/financial-plan.toml",
        "models/tiny/rules.toml", "models/tiny/mandate.csv", "scenarios/tiny.toml",
        "scenarios/richer.toml", "scenarios/free.toml"}


def test_order_of_keys_in_files_does_not_change_the_plan(project: Path) -> None:
    before = load_plan("tiny", project)
    path = project / TINY / "framework.toml"
    text = path.read_text()
    a, b = text.index("[entities.A]"), text.index("[entities.B]")
    end = text.index("[goals.G1]")
    path.write_text(text[:a] + text[b:end] + text[a:b] + text[end:])
    after = load_plan("tiny", project)
    assert before.entities == after.entities
    assert before.mandate == after.mandate


def test_a_model_file_linking_outside_the_project_is_refused(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.toml"
    outside.write_text((project / TINY / "rules.toml").read_text())
    (project / TINY / "rules.toml").unlink()
    (project / TINY / "rules.toml").symlink_to(outside)
    message = problems(project, "tiny")
    assert "models/tiny/rules.toml" in message and "outside" in message


def test_a_parent_scenario_linking_outside_is_refused(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.toml"
    outside.write_text('[scenario]\nmodel = "tiny"\n')
    (project / "scenarios" / "secret.toml").symlink_to(outside)
    scenario(project, '[scenario]\nparent = "secret"\n')
    assert "parent scenario 'secret' resolves to" in problems(project, "case")


def test_parent_names_cannot_climb_out(project: Path) -> None:
    message = problems(project, scenario(project, '[scenario]\nparent = "../../etc/passwd"\n'))
    assert "should be a scenario name, without folder" in message


def test_model_names_cannot_climb_out(project: Path) -> None:
    message = problems(project, scenario(project, '[scenario]\nmodel = "../models/tiny"\n'))
    assert "no such model folder" in message


def test_a_model_in_another_currency(project: Path) -> None:
    edit(project, "model.toml", 'unit = "CHF thousands"', 'unit = "USD thousands"')
    edit(project, "financial-plan.toml", "amount = { 2024 = 100, 2025 = 80 }",
         "units = { 2024 = 10, 2025 = 8 }\nunit_value = 10000")
    plan = load_plan("tiny", project)
    assert plan.unit == "USD thousands"
    assert plan.ceiling(2024) == 100 and plan.ceiling(2025) == 80


def test_a_unit_that_is_not_thousands_is_refused(project: Path) -> None:
    edit(project, "model.toml", 'unit = "CHF thousands"', 'unit = "CHF"')
    assert "model.toml: unit: expected a currency code and 'thousands'" in problems(project, "tiny")
