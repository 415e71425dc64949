"""End to end in a real browser: Debian's Chromium driven by Playwright against `alloc serve` on
localhost. Skipped when /usr/bin/chromium or Playwright is absent. A screenshot of each page is
kept in the test's tmp folder (printed with -s)."""

from __future__ import annotations

import csv
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
uvicorn = pytest.importorskip("uvicorn")

from test_web import HOSTILE, make_project  # noqa: E402

from alloc.web.app import create_app  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    project = make_project(tmp_path / "project")
    port = free_port()
    config = uvicorn.Config(create_app(project, allow_save=True), host="127.0.0.1", port=port,
                            log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", project
    srv.should_exit = True
    thread.join(10)


def test_a_working_group_session(server: tuple[str, Path], tmp_path: Path) -> None:
    base, project = server
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))

        # the scenario list; run a scenario
        page.goto(base + "/")
        expect(page.get_by_text("Tiny, cut by 5%")).to_be_visible()
        page.screenshot(path=shots / "1-scenarios.png", full_page=True)
        page.locator("tr", has_text="Tiny model").get_by_role("button", name="Run").click()
        page.wait_for_url(base + "/scenario/tiny")
        page.screenshot(path=shots / "2-scenario.png", full_page=True)

        # a table cell equals tables/*.csv
        with (project / "reports/tiny/tables/a1-priority-entity.csv").open() as f:
            rows = {r["priority"] if "priority" in r else next(iter(r.values())): r
                    for r in csv.DictReader(f)}
        first = next(iter(rows))
        cell = page.locator("#a1-priority-entity tbody tr", has=page.locator(
            f'th[data-code="{first}"]')).locator("td").nth(0)
        value = next(iter(rows[first].values()))
        header = list(rows[first])[1]
        assert int(cell.inner_text().replace(",", "")) == round(float(rows[first][header])), value

        # sorting runs (the script is allowed by the CSP)
        page.locator("#a1-priority-entity thead th").nth(1).click()
        assert page.locator("#a1-priority-entity thead th").nth(1).get_attribute(
            "aria-sort") in ("ascending", "descending")

        # regular budget, then the biennium
        page.get_by_role("link", name="Regular budget").click()
        page.get_by_role("link", name="Biennium 2024-2025").click()
        assert "funds=regular" in page.url and "period=2024-2025" in page.url
        expect(page.get_by_text("Regular budget, Biennium 2024-2025")).to_be_visible()
        page.screenshot(path=shots / "3-regular-biennium.png", full_page=True)

        # compare two scenarios
        page.goto(base + "/compare")
        selects = page.locator("select")
        selects.nth(0).select_option("tiny")
        selects.nth(1).select_option("tiny-cut")
        page.get_by_role("button", name="Compare").click()
        total = page.locator("#cmp-a1-priority-entity tbody tr").last.locator("td")
        assert int(total.nth(2).inner_text().replace(",", "").replace("+", "")) < 0
        page.screenshot(path=shots / "4-compare.png", full_page=True)

        # what-if: move a control, see the changed figure, save it
        page.goto(base + "/whatif/tiny")
        page.locator('input[name="ceiling"]').fill("0.9")
        page.get_by_role("button", name="Re-solve").click()
        result = page.locator("#whatif-result tbody tr").last.locator("td")
        assert int(result.nth(2).inner_text().replace(",", "").replace("+", "")) < 0
        page.screenshot(path=shots / "5-whatif.png", full_page=True)
        page.locator('input[name="name"]').fill("tiny-lower")
        page.locator('input[name="title"]').fill(HOSTILE)
        page.get_by_role("button", name="Save as scenarios/NAME.toml").click()
        expect(page.get_by_text("Saved scenarios/tiny-lower.toml")).to_be_visible()
        assert (project / "scenarios/tiny-lower.toml").exists()

        assert problems == [], problems   # no CSP violation, no script error, no missing file
        # a hostile title shows as text; a hostile name is refused
        page.goto(base + "/")
        expect(page.get_by_text(HOSTILE)).to_be_visible()
        page.goto(base + "/whatif/tiny")
        page.locator('input[name="name"]').evaluate("e => e.removeAttribute('pattern')")
        page.locator('input[name="name"]').fill("../../evil")
        page.get_by_role("button", name="Save as scenarios/NAME.toml").click()
        expect(page.get_by_text("a scenario's name becomes scenarios/NAME.toml")).to_be_visible()
        page.screenshot(path=shots / "6-hostile.png", full_page=True)
        assert not list(project.rglob("evil*"))
        browser.close()
    print(f"screenshots in {shots}")
