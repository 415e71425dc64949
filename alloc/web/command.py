"""The `alloc serve` and `alloc publish` subcommands: their options and what they run. Kept
here (imported by alloc.cli) so that the web's optional libraries load only when asked for."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from alloc.errors import InputError, Problem
from alloc.text import printable

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="a local web view: scenarios, tables, compare, what-if",
                           description="Starts a web app on this machine (127.0.0.1 unless "
                           "--host says otherwise). Read-only unless --allow-save.")
    serve.add_argument("--project", type=Path, default=None,
                       help="the project folder (default: the nearest holding models/ and scenarios/)")
    serve.add_argument("--reports", type=Path, default=None)
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=_port, default=8765)
    serve.add_argument("--allow-save", action="store_true",
                       help="let the what-if page save scenarios/NAME.toml")
    serve.add_argument("--debug", action="store_true", help="show tracebacks")
    publish = sub.add_parser("publish", help="the scenario and compare pages as a static site",
                             description="Writes a self-contained folder of HTML pages (no "
                             "server, no network) for the scenarios named (default: all).")
    publish.add_argument("scenarios", nargs="*", metavar="SCENARIO")
    publish.add_argument("-o", "--output", type=Path, default=None,
                         help="the site's folder (default: PROJECT/site)")
    publish.add_argument("--project", type=Path, default=None,
                         help="the project folder (default: the nearest holding models/ and scenarios/)")
    publish.add_argument("--reports", type=Path, default=None)
    publish.add_argument("--quiet", action="store_true")
    publish.add_argument("--debug", action="store_true", help="show tracebacks")


def say(line: str, file: TextIO | None = None) -> None:
    """A line for a person, escaped (as alloc.cli's `say`, which this module may not import)."""
    print(printable(line), file=file or sys.stdout)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, 1 to 65535, not '{text}'") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number, 1 to 65535, not {value}")
    return value


def _need_web() -> None:
    try:
        import jinja2  # noqa: F401
        import starlette  # noqa: F401
    except ImportError:
        raise InputError([Problem("command line", "serve/publish", "the web view needs the "
                                  "optional libraries: pip install 'alloc[web]'")]) from None


def cmd_serve(args: argparse.Namespace) -> int:
    _need_web()
    from alloc.web.app import serve

    if args.host not in LOCAL_HOSTS:
        say(f"alloc serve: warning: listening on {args.host}, reachable from other machines; "
            "there is no login", file=sys.stderr)
    say(f"alloc serve: http://{args.host}:{args.port}/ (Ctrl+C to stop)"
        + ("" if args.allow_save else "; read-only (--allow-save to save scenarios)"))
    serve(args.project, args.host, args.port, args.reports, args.allow_save)
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    _need_web()
    from alloc.web.publish import publish

    out = args.output if args.output is not None else args.project / "site"
    written = publish(args.project, args.scenarios, out, args.reports)
    if not args.quiet:
        say(f"alloc publish: wrote {out.as_posix()}/ ({len(written)} pages; open index.html)")
    return 0
