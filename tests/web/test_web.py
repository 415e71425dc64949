"""The web view: every page through Starlette's TestClient, its safety (CSP, CSRF, traversal,
escaping, read-only), figures equal to the report's CSV files, and `alloc publish`."""

from __future__ import annotations

import csv
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("jinja2")

from starlette.testclient import TestClient

from alloc.cli import main
from alloc.web.app import CSP, create_app

TESTS = Path(__file__).resolve().parent.parent
HOSTILE = "<script>alert(1)</script>"


def make_project(root: Path) -> Path:
    """The tiny model with two scenarios: itself and a 5% cut."""
    shutil.copytree(TESTS / "project", root)
    (root / "scenarios" / "tiny-cut.toml").write_text(
        '[scenario]\nparent = "tiny"\ntitle = "Tiny, cut by 5%"\n'
        'description = "What goes if the ceiling falls by 5%?"\n\n'
        "[financial_plan.growth]\ncut = 0.05\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("web") / "project")


@pytest.fixture(scope="module")
def client(project: Path) -> TestClient:
    return TestClient(create_app(project))


def token(client: TestClient, url: str = "/") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(url).text)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Tables(HTMLParser):
    """Every <table id=...> of a page as rows of (data-code or text) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: str | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.current = a.get("id") or f"table{len(self.tables)}"
            self.tables[self.current] = []
        elif tag == "tr" and self.current:
            self.tables[self.current].append([])
        elif tag in ("td", "th") and self.current:
            self.cell = [a["data-code"]] if a.get("data-code") else []
            self.code = bool(a.get("data-code"))

    def handle_data(self, data: str) -> None:
        if self.cell is not None and not self.code:
            self.cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.current:
            self.tables[self.current][-1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "table":
            self.current = None


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def number(text: str) -> int:
    return int(text.replace(",", ""))


# --- pages ---------------------------------------------------------------------------------------

def test_the_scenario_list_shows_every_scenario_with_its_question(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "Tiny model" in page.text and "Tiny, cut by 5%" in page.text
    assert "What goes if the ceiling falls by 5%?" in page.text
    assert page.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert "<script>" not in page.text  # no inline script: the one script has a src


def test_run_writes_the_report_and_the_page_shows_the_csv_figures(client: TestClient,
                                                                  project: Path) -> None:
    done = client.post("/run/tiny", data={"csrf": token(client)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/scenario/tiny"
    page = client.get("/scenario/tiny")
    assert page.status_code == 200
    with (project / "reports" / "tiny" / "tables" / "a1-priority-entity.csv").open() as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    shown = tables(page.text)["a1-priority-entity"]
    shown_rows = {r[0]: r for r in shown[1:]}
    for line in body:
        code = line[0]
        for column, value in zip(header[1:], line[1:], strict=True):
            if column == "Share":
                continue
            cell = shown_rows[code][header.index(column)]
            assert number(cell) == round(float(value)), (code, column)
    assert "Entity A" in page.text and "Priority one" in page.text   # names, not codes
    assert "/reports/tiny/appendix-a.xlsx" in page.text
    listing = client.get("/")
    assert "optimal" in listing.text


def test_downloads_serve_the_run_files_and_nothing_else(client: TestClient, project: Path) -> None:
    client.post("/run/tiny", data={"csrf": token(client)})
    csv_file = client.get("/reports/tiny/tables/a1-priority-entity.csv")
    assert csv_file.status_code == 200
    assert csv_file.content == (project / "reports/tiny/tables/a1-priority-entity.csv").read_bytes()
    for url in ("/reports/tiny/../../scenarios/tiny.toml", "/reports/tiny/%2e%2e/%2e%2e/x",
                "/reports/tiny/.alloc-report", "/reports/tiny/tables/unrounded/../../run.json/x",
                "/reports/..%2Fscenarios/tiny.toml", "/reports/nope/run.json"):
        answer = client.get(url)
        assert answer.status_code in (400, 404), url
        assert "[scenario]" not in answer.text


def test_regular_budget_and_period_views_add_up_to_the_allocation(client: TestClient,
                                                                  project: Path) -> None:
    client.post("/run/tiny", data={"csrf": token(client)})
    import pandas as pd

    alloc = pd.read_csv(project / "reports/tiny/allocation.csv")
    regular = alloc[alloc["fund"] == "regular"]
    cases = {"/scenario/tiny?funds=regular": regular["amount"].sum(),
             "/scenario/tiny?period=2025": alloc[alloc["year"] == 2025]["amount"].sum()}
    for url, expected in cases.items():
        page = client.get(url)
        assert page.status_code == 200, url
        a1 = tables(page.text)["a1-priority-entity"]
        assert number(a1[-1][-2]) == round(expected), url   # the Total row's Total (Share last)
    bad = client.get("/scenario/tiny?period=1999")
    assert bad.status_code == 400 and "1999" in bad.text


def test_compare_shows_totals_side_by_side_with_differences(client: TestClient) -> None:
    assert client.get("/compare").status_code == 200
    page = client.get("/compare?s=tiny&s=tiny-cut")
    assert page.status_code == 200
    a1 = tables(page.text)["cmp-a1-priority-entity"]
    assert a1[0][1:4] == ["tiny", "tiny-cut", "difference tiny-cut"]
    total = a1[-1]
    assert number(total[3]) == number(total[2]) - number(total[1]) < 0
    assert "Attribution" in page.text
    assert client.get("/compare?s=tiny").status_code == 400
    assert client.get("/compare?s=tiny&s=../etc").status_code == 400


def test_whatif_resolves_and_shows_the_difference(client: TestClient) -> None:
    page = client.get("/whatif/tiny")
    assert page.status_code == 200 and 'name="ceiling"' in page.text
    answer = client.post("/whatif/tiny", data={"csrf": token(client, "/whatif/tiny"),
                                               "ceiling": "0.9"})
    assert answer.status_code == 200
    result = tables(answer.text)["whatif-result"]
    total = result[-1]
    assert total[0] == "Total" and number(total[3]) < 0
    assert "[financial_plan.revenue" in answer.text and "receipt_rate" not in answer.text.split(
        "as a scenario file")[1]


def test_whatif_bad_values_get_the_scenario_files_messages(client: TestClient) -> None:
    tok = token(client, "/whatif/tiny")
    answer = client.post("/whatif/tiny", data={"csrf": tok, "receipt_rate.F": "5"})
    assert answer.status_code == 200 and "invalid" in answer.text
    assert "what-if: financial_plan.funds.F.receipt_rate: expected a share between 0 and 1" in (
        answer.text)
    answer = client.post("/whatif/tiny", data={"csrf": tok, "cut": "abc"})
    assert answer.status_code == 400 and "is not a number" in answer.text
    answer = client.post("/whatif/tiny", data={"csrf": tok, "cut": "0.95"})
    assert "infeasible" in answer.text or "invalid" in answer.text


def test_posts_without_a_valid_csrf_token_are_refused(client: TestClient, project: Path) -> None:
    for data in ({}, {"csrf": "forged"}, {"csrf": "a.b"}):
        assert client.post("/run/tiny-cut", data=data).status_code == 403
        assert client.post("/whatif/tiny", data={**data, "cut": "0.01"}).status_code == 403
    other = TestClient(create_app(project))      # another server's token does not pass
    foreign = token(other)
    fresh = TestClient(create_app(project))
    fresh.cookies.set("alloc_csrf", foreign)
    assert fresh.post("/run/tiny-cut", data={"csrf": foreign}).status_code == 403
    assert not (project / "reports" / "tiny-cut").exists()


def test_unknown_and_traversing_scenario_names_are_refused(client: TestClient) -> None:
    for url in ("/scenario/nope", "/scenario/..%2F..%2Fetc%2Fpasswd", "/scenario/%2e%2e",
                "/whatif/..%2Ftiny", "/scenario/tiny.toml"):
        answer = client.get(url)
        assert answer.status_code in (400, 404), url
    answer = client.post("/run/..%2Ftiny", data={"csrf": token(client)})
    assert answer.status_code in (400, 404)


def test_saving_is_refused_unless_allowed(client: TestClient, project: Path) -> None:
    answer = client.post("/whatif/tiny", data={"csrf": token(client, "/whatif/tiny"), "cut": "0.02",
                                               "save": "1", "name": "saved"})
    assert answer.status_code == 403
    assert not (project / "scenarios" / "saved.toml").exists()


def test_save_as_scenario_writes_only_the_changed_keys(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    client = TestClient(create_app(project, allow_save=True))
    tok = token(client, "/whatif/tiny")
    for bad in ("../evil", "con", ".hidden", "a b", "tiny", ""):
        answer = client.post("/whatif/tiny", data={"csrf": tok, "cut": "0.02", "save": "1",
                                                   "name": bad})
        assert answer.status_code == 400, bad
    assert sorted(p.name for p in (project / "scenarios").iterdir()) == ["tiny-cut.toml", "tiny.toml"]
    answer = client.post("/whatif/tiny", data={"csrf": tok, "cut": "0.02", "save": "1",
                                               "name": "tiny-cut-2", "title": HOSTILE})
    assert answer.status_code == 200 and "Saved scenarios/tiny-cut-2.toml" in answer.text
    import tomllib

    saved = tomllib.loads((project / "scenarios" / "tiny-cut-2.toml").read_text())
    assert saved == {"scenario": {"parent": "tiny", "title": HOSTILE},
                     "financial_plan": {"growth": {"cut": 0.02}}}
    listing = client.get("/")
    assert HOSTILE not in listing.text and "&lt;script&gt;" in listing.text


def test_a_hostile_name_in_the_model_shows_as_text(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    framework = project / "models" / "tiny" / "framework.toml"
    framework.write_text(framework.read_text().replace('name = "Entity A"',
                                                       f'name = "{HOSTILE}"'), encoding="utf-8")
    client = TestClient(create_app(project))
    for url in ("/", "/scenario/tiny", "/scenario/tiny?funds=regular", "/whatif/tiny",
                "/compare?s=tiny&s=tiny-cut"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert HOSTILE not in page.text, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/scenario/tiny").text


# --- publish -------------------------------------------------------------------------------------

def test_publish_writes_a_self_contained_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                              ) -> None:
    project = make_project(tmp_path / "p")
    assert main(["run", "tiny", "--project", str(project), "--quiet"]) == 0
    site = tmp_path / "site"
    assert main(["publish", "tiny", "tiny-cut", "--project", str(project), "-o", str(site)]) == 0
    names = {p.name for p in site.iterdir()}
    assert {"index.html", "scenario-tiny.html", "compare-tiny-vs-tiny-cut.html", "static",
            "files", ".alloc-site"} <= names
    assert (site / "files/tiny/tables/a1-priority-entity.csv").read_bytes() == (
        project / "reports/tiny/tables/a1-priority-entity.csv").read_bytes()
    for page in site.glob("*.html"):
        text = page.read_text()
        links = re.findall(r'(?:href|src|action)="([^"]*)"', text)
        for link in (link for link in links if link != "data:,"):   # the empty favicon
            assert not link.startswith(("/", "http:", "https:", "//")), (page.name, link)
            assert (site / link.split("#")[0]).exists(), (page.name, link)
    # again: replaced whole, nothing left beside it
    assert main(["publish", "tiny", "--project", str(project), "-o", str(site), "--quiet"]) == 0
    assert not (site / "compare-tiny-vs-tiny-cut.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p", "site"]


def test_publish_never_replaces_a_folder_it_did_not_write(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    project = make_project(tmp_path / "p")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert main(["publish", "tiny", "--project", str(project), "-o", str(mine)]) == 2
    assert "was not written by alloc publish" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "keep" and len(list(mine.iterdir())) == 1
    for inside in (project, project / "scenarios", project / "models" / "x"):
        assert main(["publish", "tiny", "--project", str(project), "-o", str(inside)]) == 2
    assert main(["publish", "nope", "--project", str(project), "-o", str(tmp_path / "s")]) == 2
    assert not (tmp_path / "s").exists()


def test_serve_refuses_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--port", "0"])
    assert exit_.value.code == 2
    assert "port" in capsys.readouterr().err


def test_pages_of_an_illustrative_model_say_so(tmp_path: Path) -> None:
    """The shipped reference model says its figures are illustrative: its pages carry the banner."""
    root = Path(__file__).parents[2]
    project = tmp_path / "p"
    for folder in ("models", "scenarios"):
        shutil.copytree(root / folder, project / folder)
    client = TestClient(create_app(project))
    page = client.get("/scenario/zng")
    assert page.status_code == 200
    assert "ILLUSTRATIVE FIGURES" in page.text
    assert "ILLUSTRATIVE FIGURES" in client.get("/whatif/zng").text
    assert "ILLUSTRATIVE FIGURES" in client.get("/compare?s=baseline&s=zng").text


def test_the_server_removes_its_scratch_folder_when_it_stops(project: Path) -> None:
    app = create_app(project)
    with TestClient(app):
        scratch = app.state.site.scratch
        assert scratch.is_dir()
    assert not scratch.exists()
