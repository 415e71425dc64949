"""`alloc serve`: the Starlette app. Pages are rendered on the server (Jinja2, autoescaped) from
`alloc.web.pages`, kept in `pages.Cache` while the input files are unchanged; scenario solves
run off the event loop (once per scenario, concurrent requests waiting on that one solve), and
what-if solves in a bounded pool of worker processes with a deadline (`alloc.web.workers`).

Safety: a Content-Security-Policy that allows scripts and styles from this server only (no
inline script, no outside source); a CSRF token on every form that posts; scenario names in URLs
and forms checked against the project's list before any path is built; report files served from
reports/<scenario>/ only, by the names a run writes; saving scenarios only with --allow-save.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alloc import api
from alloc.errors import InputError
from alloc.text import printable
from alloc.web import pages
from alloc.web.workers import Busy, Failed, WorkerPool

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
CSRF_COOKIE = "alloc_csrf"
SOLVE_SECONDS = 600.0
"""The longest a scenario's solve (or a comparison) for its pages may take."""
WHATIF_SECONDS = 10.0
"""The longest a what-if may take, waiting for a worker included (the solver's own limit is a
little less); past it the worker is ended and the user told."""
STATIC = Path(__file__).parent / "static"


def environment() -> Environment:
    """Jinja2 with autoescaping on for every template, and `printable` for invisible characters."""
    env = Environment(loader=PackageLoader("alloc.web", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["printable"] = lambda v: printable(str(v))
    env.filters["printable_text"] = lambda v: printable(str(v), keep_newlines=True)
    return env


class Site:
    """The state of a served project: its folders, the cache of solved scenarios, the pool."""

    def __init__(self, project: Path, reports: Path | None = None, allow_save: bool = False,
                 workers: int = 2, threads: int = 32):
        self.project = Path(project)
        self.reports = api.reports_folder(self.project, reports)
        self.allow_save = allow_save
        # scenario solves and comparisons in worker processes of their own, so that a first view
        # (seconds) neither holds the server's interpreter nor a what-if worker
        self.solvers = WorkerPool(workers)
        self.cache = pages.Cache(self.project, run=lambda fn, args: self.solvers.run(
            fn, args, SOLVE_SECONDS))
        self.html: pages.Once = pages.Once(512)
        self.slot = "csrf" + secrets.token_hex(16)
        """Where a kept page has its CSRF token (each user's own is put in as the page is sent):
        random, so that no text a user could put in a page holds it."""
        self.whatifs: pages.Once = pages.Once(256)
        # page work (loading, laying out a view, rendering) in threads; a request waiting on a
        # solve in a worker holds a thread, idle, so there are many more threads than cores
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="alloc-page")
        self.workers = WorkerPool(workers)
        # threads that only wait for a what-if worker's answer
        self.waiters = ThreadPoolExecutor(max_workers=4 * workers + 8,
                                          thread_name_prefix="alloc-whatif-wait")
        self.secret = secrets.token_bytes(32)
        self.env = environment()
        self.links = pages.Links()
        self._scratch = tempfile.TemporaryDirectory(prefix="alloc-serve-")  # removed at exit
        self.scratch = Path(self._scratch.name)

    async def off_loop(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        """Run `fn` in the pool, the event loop free to serve other users meanwhile."""
        future = asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)
        return await asyncio.wait_for(future, timeout)

    async def whatif(self, key: Any, name: str, overrides: dict[str, Any]) -> pages.WhatIfSolved:
        """A what-if solved in a worker process within WHATIF_SECONDS, the wait off the loop;
        kept by the scenario's key and the keys changed (the same values again cost nothing)."""
        args = (self.project, name, overrides, WHATIF_SECONDS * 0.8, self.scratch)

        def solved() -> pages.WhatIfSolved:
            return self.workers.run(pages.solve_whatif, args, WHATIF_SECONDS)

        text = pages.scenario_text(name, "", overrides)
        future = asyncio.get_running_loop().run_in_executor(
            self.waiters, self.whatifs.get, (key, text), solved)
        return await asyncio.wait_for(future, WHATIF_SECONDS + 5)   # backstop only

    def close(self) -> None:
        self.workers.close()
        self.solvers.close()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.waiters.shutdown(wait=False, cancel_futures=True)
        self._scratch.cleanup()

    # -- CSRF: a random token signed with the server's secret, in a cookie and in the form --
    def new_token(self) -> str:
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{self._sign(nonce)}"

    def _sign(self, nonce: str) -> str:
        return hmac.new(self.secret, nonce.encode(), hashlib.sha256).hexdigest()[:32]

    def token_ok(self, request: Request, sent: str) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        nonce, _, sig = sent.partition(".")
        return (bool(sent) and hmac.compare_digest(cookie, sent)
                and hmac.compare_digest(sig, self._sign(nonce)))

    def render(self, request: Request, template: str, status: int = 200, **context: Any) -> Response:
        html = self.env.get_template(template).render(
            links=self.links, csrf=self.slot, allow_save=self.allow_save, served=True, **context)
        return self.respond(request, html, status)

    def kept(self, key: Any, template: str, context: Callable[[], dict[str, Any]]) -> str:
        """A page rendered once per key (the key says everything the page shows), with a slot
        for the CSRF token; `context` is called only when the page is not kept. Off the loop."""
        return self.html.get((template, key), lambda: self.env.get_template(template).render(
            links=self.links, csrf=self.slot, allow_save=self.allow_save, served=True,
            **context()))

    def respond(self, request: Request, html: str, status: int = 200) -> Response:
        """The page with the user's CSRF token (a new one, and its cookie, when it has none)."""
        token = request.cookies.get(CSRF_COOKIE, "")
        nonce, _, sig = token.partition(".")
        fresh = not token or not hmac.compare_digest(sig, self._sign(nonce))
        if fresh:
            token = self.new_token()
        response = HTMLResponse(html.replace(self.slot, token), status_code=status)
        if fresh:
            response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")
        return response

    def error(self, request: Request, status: int, title: str, lines: list[str]) -> Response:
        return self.render(request, "error.html", status=status, title=title, lines=lines)


class SecurityHeaders:
    """Every response, pages, files and errors alike, with the CSP and its companions."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(project: Path, reports: Path | None = None, allow_save: bool = False) -> Starlette:
    """The web app of one project."""
    site = Site(project, reports, allow_save)

    def guarded(handler: Callable[[Request], Awaitable[Response]]
                ) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except InputError as exc:
                return site.error(request, 400, "That cannot be shown", str(exc).split("\n"))
            except Busy:
                return site.error(request, 503, "Busy", [
                    f"every what-if worker stayed busy for {WHATIF_SECONDS:g} seconds with other "
                    "users' what-ifs; try again in a moment"])
            except TimeoutError:
                return site.error(request, 503, "Too long", [
                    f"the solve took more than {WHATIF_SECONDS:g} seconds and was stopped; try a "
                    "smaller change, or run the scenario with `alloc run`"])
            except Failed as exc:
                print(f"alloc serve: a what-if failed:\n{exc}", file=sys.stderr)
                return site.error(request, 500, "The what-if failed", [
                    "the solver's worker failed; the server's terminal shows why"])
        return wrapped

    async def checked_form(request: Request) -> dict[str, str] | Response:
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        if not site.token_ok(request, values.get("csrf", "")):
            return site.error(request, 403, "Refused", [
                "the form's security token is missing or stale; reload the page and try again"])
        return values

    async def index(request: Request) -> Response:
        def page() -> str:
            rows = site.cache.scenario_rows(site.reports)
            return site.kept(repr(rows), "index.html", lambda: {"rows": rows})

        return site.respond(request, await site.off_loop(page))

    async def scenario(request: Request) -> Response:
        name = pages.known(request.path_params["name"], site.project)
        funds = request.query_params.get("funds", "all")
        period = request.query_params.get("period", "all")

        def html() -> str:
            key, page = site.cache.keyed_page(name, funds, period, site.reports)
            return site.kept(key, "scenario.html", lambda: {
                "page": page, "periods": pages.periods(page.plan), "funds_views": pages.FUNDS_VIEWS})

        return site.respond(request, await site.off_loop(html))

    async def run(request: Request) -> Response:
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        name = pages.known(request.path_params["name"], site.project)

        def run_and_write() -> api.Written:
            result = site.cache.result(name)
            return api.write(result, site.reports, site.project)

        await site.off_loop(run_and_write)
        return RedirectResponse(site.links.scenario(name), status_code=303)

    async def download(request: Request) -> Response:
        name = pages.known(request.path_params["name"], site.project)
        file = request.path_params["file"]
        folder = site.reports / name
        if file not in pages.report_files(folder):
            return site.error(request, 404, "No such file", [
                f"reports/{name}/ has no file '{file}' that a run writes"])
        path = (folder / file).resolve()
        if not path.is_relative_to(folder.resolve()):
            return site.error(request, 404, "No such file", ["outside the scenario's report"])
        return FileResponse(path, filename=Path(file).name)

    async def compare(request: Request) -> Response:
        names = [n for n in request.query_params.getlist("s") if n]   # "(none)" is empty
        if not names:
            return site.render(request, "compare_pick.html",
                               names=pages.scenario_names(site.project))
        if not 2 <= len(names) <= 3:
            raise InputError([api.Problem("compare", "s", "pick two or three scenarios")])
        for n in names:
            pages.known(n, site.project)
        def html() -> str:
            key, comparison = site.cache.keyed_comparison(names)
            return site.kept(key, "compare.html",
                             lambda: {"page": pages.compare_page(comparison)})

        return site.respond(request, await site.off_loop(html))

    async def whatif(request: Request) -> Response:
        name = pages.known(request.path_params["name"], site.project)
        key, solved = await site.off_loop(site.cache.solved, name)
        base = solved.result
        resolved = await site.off_loop(site.cache.resolve, name)
        controls = pages.controls(base, resolved.doc)
        outcome = None
        values: dict[str, str] = {}
        saved = ""
        if request.method == "POST":
            form = await checked_form(request)
            if isinstance(form, Response):
                return form
            values = form
            overrides = pages.edited_overrides(resolved, form, controls)
            outcome = pages.whatif_outcome(base, await site.whatif(key, name, overrides))
            if form.get("save"):
                if not site.allow_save:
                    return site.error(request, 403, "Read-only", [
                        "this server does not save scenarios; start it with `alloc serve "
                        "--allow-save`"])
                if outcome.status != "optimal":
                    raise InputError([api.Problem("what-if", "save", "only a what-if that solves "
                                                  "can be saved")])
                target = pages.save_scenario(site.project, form.get("name", "").strip(),
                                             pages.scenario_text(name, form.get("title", "").strip()
                                                                 or f"What-if on {name}", overrides))
                saved = target.name
        return site.render(request, "whatif.html", name=name, plan=base.plan, controls=controls,
                           values=values, outcome=outcome, saved=saved)

    routes = [
        Route("/", guarded(index)),
        Route("/scenario/{name}", guarded(scenario)),
        Route("/run/{name}", guarded(run), methods=["POST"]),
        Route("/reports/{name}/{file:path}", guarded(download)),
        Route("/compare", guarded(compare)),
        Route("/whatif/{name}", guarded(whatif), methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        site.workers.warm()
        site.solvers.warm()
        try:
            yield
        finally:
            site.close()

    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], lifespan=lifespan)
    app.state.site = site
    return app


def serve(project: Path, host: str = "127.0.0.1", port: int = 8765, reports: Path | None = None,
          allow_save: bool = False) -> None:
    """Start the server (blocks until interrupted)."""
    import uvicorn

    app = create_app(project, reports, allow_save)
    uvicorn.run(app, host=host, port=port, log_level="warning")
