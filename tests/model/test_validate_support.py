"""alloc.model.validate.support: the step-down order of support lines and the services they use."""

from __future__ import annotations

import pytest

from alloc.model.domain import Priority, SupportServices
from alloc.model.validate.support import read_support_services

PRIORITIES = (Priority("P1", ""), Priority("S1", "", True), Priority("S2", "", True))


def services(document, table: dict):
    doc = document({"rules": {"support_distribution": table}})
    return read_support_services(doc, PRIORITIES), doc


def test_default_order_and_no_services(document, messages) -> None:
    assert services(document, {})[0] == SupportServices(("S1", "S2"), {})


def test_order_and_services(document, messages) -> None:
    got, doc = services(document, {"order": ["S2", "S1"], "services": {"S1": {"S2": 0.2, "P1": 0.3}}})
    assert got == SupportServices(("S2", "S1"), {"S1": {"S2": 0.2, "P1": 0.3}})
    assert messages(doc) == []


@pytest.mark.parametrize("order", [["S1"], "S1", [1, "S1"], ["S1", "S1", "S2"]])
def test_every_support_line_once_in_the_order(document, messages, order: object) -> None:
    got, doc = services(document, {"order": order})
    assert got.order == ("S1", "S2")
    assert messages(doc) == [
        "models/m/rules.toml: support_distribution.order: expected every support line once, in the "
        "order they are closed: S1, S2"]


def test_shares_must_not_exceed_one(document, messages) -> None:
    _, doc = services(document, {"services": {"S1": {"S2": 0.7, "P1": 0.4, "S1": 0.1}}})
    assert messages(doc) == [
        "models/m/rules.toml: support_distribution.services.S1.S1: unknown key. Expected one of: "
        "S2, P1.",
        "models/m/rules.toml: support_distribution.services.S1: the shares add up to 1.1; they "
        "must not exceed 1"]
