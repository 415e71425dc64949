"""`alloc publish`: the scenario and compare pages as a static, self-contained site.

Every page, style and script is a file in the folder, linked relatively, so the site opens from a
shared drive or a zip with no server and no network. The folder is written whole or not at all:
built in a temporary folder beside it, then renamed into place; a folder already there is
replaced only if alloc wrote it (its `.alloc-site` marker), never one it did not write.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alloc import api
from alloc.errors import InputError, Problem
from alloc.web import pages

MARKER = ".alloc-site"
STATIC = Path(__file__).parent / "static"


class StaticLinks(pages.Links):
    """Links between the files of the site, relative to its root (every page is at the root)."""

    def index(self) -> str:
        return "index.html"

    def scenario(self, name: str, funds: str = "all", period: str = "all") -> str:
        return page_file(name, funds, period)

    def compare(self, names: Sequence[str]) -> str:
        return "compare-" + "-vs-".join(names) + ".html"

    def whatif(self, name: str) -> str | None:
        return None

    def download(self, name: str, file: str) -> str | None:
        return f"files/{name}/{file}"

    def static(self, file: str) -> str:
        return f"static/{file}"


def page_file(name: str, funds: str = "all", period: str = "all") -> str:
    return f"scenario-{name}" + ("" if (funds, period) == ("all", "all")
                                 else f"--{funds}--{period}") + ".html"


def comparisons(names: Sequence[str]) -> list[list[str]]:
    """Two or three scenarios: one comparison of them all; more: the first against each other."""
    if len(names) < 2:
        return []
    if len(names) <= 3:
        return [list(names)]
    return [[names[0], n] for n in names[1:]]


def check_output(out: Path, project: Path) -> None:
    """Refuse a folder alloc did not write, the project itself, or one of its input folders."""
    real = out.resolve()
    for folder in (project, project / "models", project / "scenarios"):
        if real == folder.resolve():
            raise InputError([Problem("command line", "-o", f"{out.as_posix()} is the project or "
                                      "one of its input folders; choose a new folder")])
    for folder in (project / "models", project / "scenarios"):
        if real.is_relative_to(folder.resolve()):
            raise InputError([Problem("command line", "-o", f"{out.as_posix()} is inside the "
                                      "project's inputs; choose a folder outside models/ and "
                                      "scenarios/")])
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise InputError([Problem("command line", "-o", f"{out.as_posix()} is not a folder")])
    if out.is_dir() and not (out / MARKER).is_file():
        raise InputError([Problem("command line", "-o", f"{out.as_posix()} exists and was not "
                                  "written by alloc publish; choose a new folder (alloc never "
                                  "replaces a folder it did not write)")])


def publish(project: Path, names: Sequence[str], out: Path, reports: Path | None = None
            ) -> list[str]:
    """Write the site; return the pages written."""
    from alloc.web.app import environment

    project = Path(project)
    reports_dir = api.reports_folder(project, reports)
    names = list(names) or pages.scenario_names(project)
    if len(set(names)) != len(names):
        raise InputError([Problem("command line", "SCENARIO", "a scenario is named twice")])
    for n in names:
        pages.known(n, project)
    check_output(out, project)
    cache = pages.Cache(project)
    env = environment()
    links = StaticLinks()
    common: dict[str, Any] = {"links": links, "csrf": "", "allow_save": False, "served": False}
    rendered: dict[str, str] = {}
    copies: list[tuple[Path, str]] = []
    compared = [c for c in comparisons(names)]
    rows = [r for r in pages.scenario_rows(project, reports_dir) if r.name in names]
    rendered["index.html"] = env.get_template("index.html").render(
        rows=rows, comparisons=compared, **common)
    for name in names:
        result = cache.result(name)
        views = pages.periods(result.plan)
        for funds in pages.FUNDS_VIEWS:
            for period in views:
                page = cache.page(name, funds, period, reports_dir)
                rendered[page_file(name, funds, period)] = env.get_template("scenario.html").render(
                    page=page, periods=views, funds_views=pages.FUNDS_VIEWS, **common)
                if not result.optimal:
                    break
            if not result.optimal:
                break
        copies += [(reports_dir / name / f, f"files/{name}/{f}")
                   for f in pages.report_files(reports_dir / name)]
    for group in compared:
        comparison = cache.comparison(group)
        rendered[links.compare(group)] = env.get_template("compare.html").render(
            page=pages.compare_page(comparison), **common)
    _write_site(out, rendered, copies)
    return sorted(rendered)


def _write_site(out: Path, rendered: dict[str, str], copies: list[tuple[Path, str]]) -> None:
    """Build the site beside `out`, then rename it into place (the old one, ours, then goes)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.publish-", dir=out.parent))
    try:
        (tmp / MARKER).write_text("written by alloc publish; replaced whole on the next publish\n",
                                  encoding="utf-8", newline="\n")
        shutil.copytree(STATIC, tmp / "static")
        for file, text in rendered.items():
            (tmp / file).write_text(text, encoding="utf-8", newline="\n")
        for source, target in copies:
            (tmp / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, tmp / target)
        os.chmod(tmp, 0o755)
        if out.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "site")
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
