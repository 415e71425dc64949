"""What keeps `alloc serve` fast and bounded: values computed once while their inputs are
unchanged (concurrent requests wait on that one computation), what-ifs in worker processes ended
at their deadline, and a request past its deadline told so in words."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")

from starlette.testclient import TestClient
from test_web import make_project

from alloc import api
from alloc.errors import InputError
from alloc.web import app as web_app
from alloc.web import pages
from alloc.web.workers import Busy, WorkerPool


def test_once_computes_a_key_once_for_concurrent_callers() -> None:
    once = pages.Once()
    calls = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.3)
        return 42

    got: list[int] = []
    threads = [threading.Thread(target=lambda: got.append(once.get("k", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [42] * 8 and len(calls) == 1
    assert once.get("k", slow) == 42 and len(calls) == 1


def test_once_keeps_no_failure() -> None:
    once = pages.Once()

    def fail() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError):
        once.get("k", fail)
    assert once.get("k", lambda: 1) == 1


def test_once_forgets_the_least_recently_used() -> None:
    once = pages.Once(limit=2)
    for k in "abc":
        once.get(k, lambda k=k: k)
    assert list(once.done) == ["b", "c"]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


def test_a_scenario_is_solved_once_while_its_files_are_unchanged(project: Path) -> None:
    solves: list[str] = []

    def run(fn, args):  # type: ignore[no-untyped-def]
        solves.append(fn.__name__)
        return fn(*args)

    cache = pages.Cache(project, run=run)
    threads = [threading.Thread(target=cache.result, args=("tiny",)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first = cache.result("tiny")
    assert solves == ["solve_scenario"]
    reports = project / "reports"
    assert cache.page("tiny", "regular", "all", reports).tables
    assert solves == ["solve_scenario"]
    # the scenario's file changes: solved again, with the new figures
    scenario = project / "scenarios" / "tiny-cut.toml"
    assert cache.result("tiny-cut").status == "optimal" and len(solves) == 2
    scenario.write_text(scenario.read_text().replace("cut = 0.05", "cut = 0.10"))
    again = cache.result("tiny-cut")
    assert len(solves) == 3
    assert again.tables["a1-priority-entity"].at["Total", "Total"] < \
        first.tables["a1-priority-entity"].at["Total", "Total"]
    assert api.solve(api.load("tiny-cut", project)).tables["a1-priority-entity"].equals(
        again.tables["a1-priority-entity"])


def test_the_scenario_list_follows_the_files(project: Path) -> None:
    cache = pages.Cache(project)
    reports = project / "reports"
    assert [r.name for r in cache.scenario_rows(reports)] == ["tiny", "tiny-cut"]
    (project / "scenarios" / "tiny-more.toml").write_text(
        '[scenario]\nparent = "tiny"\ntitle = "More"\n', encoding="utf-8")
    assert [r.name for r in cache.scenario_rows(reports)] == ["tiny", "tiny-cut", "tiny-more"]


def test_a_worker_past_its_deadline_is_ended_and_replaced() -> None:
    pool = WorkerPool(1)
    try:
        assert pool.run(abs, (-3,), 120) == 3          # started (imports included)
        worker = pool.free[0]
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            pool.run(time.sleep, (30,), 0.5)
        assert time.monotonic() - started < 5
        assert not worker.process.is_alive()           # ended: it takes no core any more
        assert pool.run(abs, (-4,), 120) == 4          # a new worker
    finally:
        pool.close()


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_pool_closed_while_its_workers_start_ends_them_quietly() -> None:
    """`alloc serve` stopped right after it started: the workers being warmed are ended too, and
    the thread warming them ends without a traceback."""
    pool = WorkerPool(2)
    pool.warm()
    deadline = time.monotonic() + 30
    while not pool.starting and time.monotonic() < deadline:
        time.sleep(0.01)
    starting = list(pool.starting)
    assert starting
    pool.close()
    for worker in starting:
        worker.process.join(10)
        assert not worker.process.is_alive()
    warmers = [t for t in threading.enumerate() if t.name == "alloc-warm"]
    for thread in warmers:
        thread.join(10)
    assert not any(t.is_alive() for t in warmers)
    assert not pool.free and not pool.starting


def test_a_workers_input_error_comes_back_as_itself(project: Path) -> None:
    pool = WorkerPool(1)
    try:
        with pytest.raises(InputError, match="no such scenario"):
            pool.run(pages.known, ("nope", project), 120)
    finally:
        pool.close()


def test_no_worker_free_before_the_deadline_is_busy() -> None:
    pool = WorkerPool(1)
    try:
        pool.run(abs, (1,), 120)
        holder = threading.Thread(target=pool.run, args=(time.sleep, (2,), 10))
        holder.start()
        time.sleep(0.2)
        with pytest.raises(Busy):
            pool.run(abs, (1,), 0.3)
        holder.join()
    finally:
        pool.close()


def test_a_what_if_past_its_deadline_says_so(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(create := web_app.create_app(project))
    page = client.get("/whatif/tiny").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    monkeypatch.setattr(web_app, "WHATIF_SECONDS", 0.05)
    answer = client.post("/whatif/tiny", data={"csrf": token.group(1), "cut": "0.03"})
    assert answer.status_code == 503
    assert "seconds" in answer.text and ("stopped" in answer.text or "busy" in answer.text)
    create.state.site.close()


def test_a_kept_page_carries_each_users_own_token(project: Path) -> None:
    app = web_app.create_app(project)
    tokens = []
    for _ in range(2):
        client = TestClient(app)
        page = client.get("/scenario/tiny").text
        assert app.state.site.slot not in page
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found and client.cookies.get(web_app.CSRF_COOKIE) == found.group(1)
        tokens.append(found.group(1))
    assert tokens[0] != tokens[1]
    assert len(app.state.site.html.done) == 1      # one page rendered, sent twice
    app.state.site.close()
