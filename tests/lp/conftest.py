"""Options of the LP tests: `--regen-golden` rewrites the golden LP files instead of comparing."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-golden", action="store_true", default=False,
                     help="rewrite tests/lp/golden/*.lp from the current builder (on purpose only: "
                          "review the diff before committing it)")


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    # the option exists only when this folder is named on the command line (pytest reads a
    # folder's conftest options only then); a run of the whole suite compares
    return bool(request.config.getoption("--regen-golden", default=False))
