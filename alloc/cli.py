"""The `alloc` command: parses, calls the API (`alloc.api`), prints; turns failures into messages
and exit codes.

Exit codes: 0 optimal, 1 infeasible (or no optimal answer), 2 bad input, 3 internal error,
130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from alloc import api, interrupt, options, project
from alloc._version import __version__
from alloc.errors import InputError, Problem, SheetTooLarge, SolveError
from alloc.text import printable

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from alloc.compare.matrix import Matrix

EXIT_OK, EXIT_NOT_OPTIMAL, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = interrupt.EXIT_INTERRUPTED


class _Parser(argparse.ArgumentParser):
    """argparse, with what it prints (usage, errors quoting an argument) shown escaped."""

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        super()._print_message(printable(message, keep_newlines=True), file)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="alloc", description="Allocate a financial plan over a strategic plan.")
    parser.add_argument("--version", action="version", version=f"alloc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    common = _Parser(add_help=False)
    common.add_argument("scenario", nargs="?", default="baseline",
                        help="a scenario name in scenarios/ or a scenario file (default: baseline)")
    common.add_argument("--project", type=Path, default=None, help=PROJECT_HELP)
    common.add_argument("--debug", action="store_true", help="show tracebacks")
    run = sub.add_parser("run", parents=[common], help="solve a scenario and write its report")
    run.add_argument("--solver", choices=["highs", "cbc"], default="highs")
    run.add_argument("--time-limit", type=options.seconds, default=None, metavar="SECONDS",
                     help="stop the solver after this many seconds (above 0; default: no limit)")
    run.add_argument("--reports", type=Path, default=None,
                     help="folder for reports (default: PROJECT/reports)")
    run.add_argument("--quiet", action="store_true")
    run.add_argument("--support-costs", choices=["rows", "direct", "step-down", "reciprocal"],
                     default="rows", help="Appendix A: support lines as their own rows (default) "
                     "or distributed over the thematic priorities by a cost-accounting method")
    _add_reduction_options(run)
    _add_set(run)
    _add_set(sub.add_parser("check", parents=[common], help="validate a scenario without solving"))
    explain = sub.add_parser(
        "explain", parents=[common], help="why the numbers: binding rules, prices, ranges, room "
        "for manoeuvre; or why a scenario cannot be met", description="Solves the scenario, "
        "prints the binding rules with their shadow prices and writes its report with "
        "constraints.csv, ranging.csv and flexibility.csv (and their sheets in appendix-a.xlsx); "
        "for an infeasible scenario, the conflicting rules and what to change (exit 1).")
    explain.add_argument("--cell", metavar="ENTITY/PRIORITY/OUTPUT",
                         help="also say what determines this cell's amount")
    explain.add_argument("--tolerance", type=options.tolerance, default=0.01, metavar="FRACTION",
                         help="room for manoeuvre: how far above its optimum the weighted "
                         "objective may go, 0 to 10 (default 0.01, i.e. 1%%)")
    explain.add_argument("--solver", choices=["highs", "cbc"], default="highs")
    explain.add_argument("--reports", type=Path, default=None,
                         help="folder for reports (default: PROJECT/reports)")
    explain.add_argument("--quiet", action="store_true")
    explain.add_argument("--support-costs", choices=["rows", "direct", "step-down", "reciprocal"],
                         default="rows")
    _add_reduction_options(explain)
    _add_set(explain)
    _sweep_parser(sub, common)
    compare = sub.add_parser("compare", help="scenarios side by side, and why they differ")
    compare.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                         help="two or more scenarios; differences are against the first")
    compare.add_argument("--project", type=Path, default=None, help=PROJECT_HELP)
    compare.add_argument("--reports", type=Path, default=None)
    compare.add_argument("--solver", choices=["highs", "cbc"], default="highs")
    compare.add_argument("--quiet", action="store_true")
    compare.add_argument("--debug", action="store_true", help="show tracebacks")
    _add_set(compare, " (every scenario alike)")
    _init_parser(sub)
    from alloc.web.command import add_parsers

    add_parsers(sub)
    _inputbook_parsers(sub, common)
    return parser


PROJECT_HELP = ("project folder holding models/ and scenarios/ (default: the nearest such folder "
                "from the working folder up)")
SET_HELP = ("KEY=VALUE: change one key of the scenario for this command, a dotted key as in the "
            "scenario files and a TOML value (a bare word is text), e.g. "
            "financial_plan.growth.rule=zero_nominal; repeatable; recorded in run.json as the "
            "override layer '--set'")


REDUCTION_OPTIONS: dict[str, bool | str] = {"auto": "auto", "yes": True, "no": False}
"""--reduction-options as `api.solve` takes it."""


def _add_reduction_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reduction-options", choices=list(REDUCTION_OPTIONS), default="auto",
        help="options for reducing expenses and what more money buys (up to ten more solves of "
        "the whole program): auto (default) computes them for a model up to a size "
        "(docs/explain.md), yes whatever the size, no never")


def _add_set(parser: argparse.ArgumentParser, also: str = "") -> None:
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help=SET_HELP + also)


def _init_parser(sub: argparse._SubParsersAction) -> None:
    init = sub.add_parser(
        "init", help="create a project folder with the reference model and the shipped scenarios",
        description="Creates DIR (default: the working folder) with models/, scenarios/ and "
        "reports/, holding the reference model and the scenarios shipped with alloc. An existing "
        "project is refused unless --force, which adds the missing files and never overwrites or "
        "deletes a file you wrote or changed.")
    init.add_argument("dir", nargs="?", type=Path, default=Path("."), metavar="DIR")
    init.add_argument("--force", action="store_true",
                      help="add the shipped files missing from an existing project")
    init.add_argument("--debug", action="store_true", help="show tracebacks")


def cmd_init(args: argparse.Namespace) -> int:
    done = project.init(args.dir, force=args.force)
    folder = args.dir.as_posix()
    say(f"alloc init {folder}: {len(done.written)} files written"
        + (f", {len(done.updated)} updated" if done.updated else "")
        + (f", {len(done.unchanged)} already there" if done.unchanged else ""))
    for name in done.kept:
        say(f"  kept {name}: yours (written or changed since alloc wrote it), not overwritten")
    where = "" if args.dir == Path(".") else f"cd {folder}, then "
    say(f"  next: {where}`alloc run baseline` writes reports/baseline/")
    return EXIT_OK


def _sets(items: list[str]) -> dict[str, object]:
    """The --set options as dotted key -> value (the last of a key given twice wins)."""
    from alloc.model.scenario import parse_set

    return dict(parse_set(item) for item in items)


def _say_sets(sets: dict[str, object], note: str = "recorded in run.json; the report folder "
              "keeps the scenario's name") -> None:
    if sets:
        say("  with --set " + ", ".join(f"{k}={_toml(v)}" for k, v in sets.items()) + f" ({note})")


def _toml(value: object) -> str:
    import json

    return json.dumps(value, default=str, ensure_ascii=False) if isinstance(value, str) else (
        str(value).lower() if isinstance(value, bool) else str(value))


def _inputbook_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    template = sub.add_parser(
        "template", parents=[common], help="write an input workbook of a scenario, to edit in "
        "Excel", description="Writes the resolved scenario as an .xlsx workbook: one sheet per "
        "kind of input, yellow input cells, locked structure, the scenario's provenance.")
    template.add_argument("-o", "--output", type=Path, default=None, metavar="FILE",
                          help="the workbook to write (default: SCENARIO.xlsx in the project)")
    template.add_argument("--force", action="store_true", help="replace an existing workbook")
    imp = sub.add_parser(
        "import", help="make a scenario of an edited input workbook",
        description="Reads a workbook made by `alloc template` and writes scenarios/NAME.toml "
        "holding only the cells that differ from the parent scenario, each commented with its "
        "sheet and cell; validated as a whole before anything is written.")
    imp.add_argument("file", type=Path, metavar="FILE", help="the workbook (.xlsx)")
    imp.add_argument("--as", dest="name", default=None, metavar="NAME",
                     help="the new scenario's name (default: the workbook's name)")
    imp.add_argument("--parent", default=None, metavar="SCENARIO",
                     help="the scenario it differs from (default: the one the template was "
                     "made from)")
    imp.add_argument("--force", action="store_true", help="replace an existing scenario")
    imp.add_argument("--project", type=Path, default=None, help=PROJECT_HELP)
    imp.add_argument("--debug", action="store_true", help="show tracebacks")


def say(*lines: str, file: TextIO | None = None) -> None:
    """Print lines for a person: the one way the command writes to the terminal.

    Each argument is one line; names, titles, keys and paths inside it are shown escaped
    (alloc.text.printable), a newline included, so they cannot clear the screen, move the cursor
    or reorder what is read.
    """
    if lines:
        print(*(printable(line) for line in lines), sep="\n", file=file or sys.stdout)


def _fmt(x: float) -> str:
    return f"{round(x) + 0:,.0f}"


def cmd_check(args: argparse.Namespace) -> int:
    plan = api.load(args.scenario, args.project, _sets(args.set))
    say(f"{plan.name}: valid ({plan.model}; {len(plan.entities)} entities, "
        f"{sum(not p.support for p in plan.priorities)} thematic priorities, "
        f"{sum(p.support for p in plan.priorities)} support lines, {len(plan.outputs)} outputs, "
        f"{len(plan.mandate)} cells, {len(plan.funds)} extrabudgetary funds)")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    api.reports_folder(args.project, args.reports)
    sets = _sets(args.set)
    comparison = api.compare(args.scenarios, args.project, solver=args.solver, sets=sets)
    names = comparison.names
    failed = [s for s in comparison.scenarios if not s.solution.optimal]
    if failed:
        for s in failed:
            say(f"alloc compare: {s.name} is {s.solution.status}: {s.solution.message}; "
                f"run `alloc run {s.name}` for the diagnosis", file=sys.stderr)
        return EXIT_NOT_OPTIMAL
    written = api.write_comparison(comparison, args.reports, args.project)
    if not args.quiet:
        unit = comparison.scenarios[0].plan.unit
        say(f"alloc compare {' vs '.join(names)} ({unit})")
        _say_sets(sets, "on every scenario alike; the comparison's folder keeps their names")
        for k, s in enumerate(comparison.scenarios, start=1):
            say(f"  [{k}] {s.name}: {s.plan.title}")
        from alloc.compare.writer import matrices

        for m in matrices(comparison):   # the workbook's matrices: names, order, subtotals
            _say_matrix(m, len(names))
        say(f"  wrote {written.folder.as_posix()}/ ({', '.join(written.files)})")
    return EXIT_OK


def _say_matrix(m: Matrix, n: int) -> None:
    """A comparison matrix as comparison.xlsx has it: each scenario's figure, the differences
    from [1] and their %."""
    say("", f"  by {m.row_title[:1].lower() + m.row_title[1:]}:")
    say("  " + f"{'':<40}" + "".join(f"{f'[{k}]':>12}" for k in range(1, n + 1))
        + "".join(f"{f'[{k}]-[1]':>12}{'%':>8}" for k in range(2, n + 1)))
    for row in m.rows:
        name = f"{row.code} {row.name}".strip()
        name = name if len(name) <= 38 else name[:37] + "…"
        cells = "".join(f"{_fmt(v):>12}" for v in row.values)
        for diff, change in zip(row.differences, row.changes, strict=True):
            cells += f"{_fmt(diff):>12}" + (f"{100 * change:+8.1f}" if change is not None else f"{'n/a':>8}")
        say(f"  {name:<40}{cells}")


def cmd_template(args: argparse.Namespace) -> int:
    from alloc.inputbook import write_template
    path = write_template(args.scenario, args.project, args.output, args.force)
    say(f"wrote {path.as_posix()} (edit the yellow cells, then: alloc import "
        f"{path.name} --as NAME)")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from alloc.inputbook import import_workbook
    from alloc.model.files import dotted
    done = import_workbook(args.file, args.project, args.name, args.parent, args.force)
    n = len(done.changes)
    say(f"wrote {done.path.as_posix()}: {n} override{'s' if n != 1 else ''} of "
        f"'{done.parent}'" + ("" if n else " (the workbook is unchanged)"),
        *(f"  {dotted(c.path)}  ({c.where})" for c in done.changes),
        *(f"  note: {f} changed since the template was made; where the workbook holds its old "
          "values, they are overrides above: check them" for f in done.stale))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    explaining = args.command == "explain"
    reports = api.reports_folder(args.project, args.reports)
    started = time.perf_counter()
    sets = _sets(args.set)
    plan = api.load(args.scenario, args.project, sets)
    api.check_writable(plan, reports)
    loaded = time.perf_counter() - started
    result = api.solve(plan, solver=args.solver, time_limit=getattr(args, "time_limit", None),
                       support_costs=args.support_costs, explain=explaining,
                       cell=getattr(args, "cell", None), tolerance=getattr(args, "tolerance", 0.01),
                       reductions=REDUCTION_OPTIONS[args.reduction_options])
    result.seconds = {"load": loaded, **result.seconds}
    written = api.write(result, args.reports, args.project)
    if result.status == "too_large":
        say(f"alloc: {result.message}", file=sys.stderr)
        return EXIT_NOT_OPTIMAL
    if not args.quiet:
        _print_run(args.command, result, written, sets, args.reduction_options)
    return EXIT_OK if result.optimal else EXIT_NOT_OPTIMAL


def _print_run(command: str, result: api.Result, written: api.Written,
               sets: dict[str, object] | None = None, reduction_options: str = "auto") -> None:
    plan, solution = result.plan, result.solution
    chain = " <- ".join(plan.scenario_chain)
    say(f"alloc {command} {plan.name}: {solution.status} ({solution.solver}); model "
        f"{plan.model}" + (f"; scenario chain {chain}" if len(plan.scenario_chain) > 1 else ""))
    _say_sets(sets or {})
    if solution.optimal and command != "explain":
        from alloc.report.ceiling import equation
        from alloc.report.tables import summarize

        # the figures the tables publish, rounded as they are (so the terminal and the workbook
        # never differ by a unit): the very tables the report was written from
        summary = summarize(solution, result._tables, result.support_costs)
        say(f"  {'year':<6}{'ceiling':>14}{'regular':>14}{'extrabudgetary':>16}"
            f"{'unallocated':>14}   ({plan.unit})")
        for y in summary.years:
            say(f"  {y.label:<6}{_fmt(y.ceiling):>14}{_fmt(y.regular):>14}"
                f"{_fmt(y.extrabudgetary):>16}{_fmt(y.balance):>14}")
        # the ceiling's named parts, as the Summary sheet states them
        for y in summary.years:
            say(f"  ceiling {y.label}: {equation(y.ceiling, list(y.parts))}")
        levels = ", ".join(f"{k} {v:.6g}" for k, v in solution.objectives.items())
        say(f"  objective: {levels}")
    elif not result.lines:
        say(f"  {solution.message}")
    if solution.optimal:
        from alloc.report.requirements import objective_lines

        for line in objective_lines(solution):
            say(f"  {line}")
    for line in result.lines:
        say(f"  {line}")
    if result.reductions is not None and not result.reductions.computed \
            and reduction_options == "auto":
        say("  reduction options: not computed for a model this size; "
            "--reduction-options yes lists them")
    folder = written.folder.as_posix()
    if written.beside:
        say(f"  wrote {folder}/ ({', '.join(written.files)}); the optimal report in "
            f"{written.folder.parent.as_posix()}/ is kept")
    else:
        say(f"  wrote {folder}/ ({', '.join(written.files)})")


def _sweep_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    sweep = sub.add_parser(
        "sweep", parents=[common], help="solve many variants of a scenario (a grid or Monte Carlo)",
        description="Variants of one scenario solved warm on one built model; writes "
        "reports/<scenario>/sweep/ (variants.csv, summary.csv, sweep.xlsx). VALUES are a,b,c or "
        "start:stop:step.")
    sweep.add_argument("--draws", type=options.draws, default=0, metavar="N",
                       help="Monte Carlo: N draws of every fund's receipt rate (1 or more)")
    sweep.add_argument("--seed", type=options.seed, default=1,
                       help="Monte Carlo: 0 to 2**32-1 (default 1)")
    sweep.add_argument("--spread", action="append", metavar="SD|FUND=SD", type=options.spread,
                       help="standard deviation of receipt rates in draws, 0 to 0.5 (default 0.1)")
    sweep.add_argument("--ceiling", metavar="VALUES", type=options.values,
                       help="factors on every revenue line")
    sweep.add_argument("--receipt-rate", action="append", metavar="FUND=VALUES",
                       type=options.keyed_values)
    sweep.add_argument("--pledge", action="append", metavar="FUND=VALUES",
                       type=options.keyed_values, help="a fund's pledge, the same amount every year")
    sweep.add_argument("--target", action="append", metavar="TARGET=VALUES",
                       type=options.keyed_values, help="a target's share or amount")
    sweep.add_argument("--weight", action="append", metavar="CODE=VALUES",
                       type=options.keyed_values,
                       help="a thematic priority's, support line's or strategic goal's weight in "
                       "[objective], or a target's shortfall weight")
    sweep.add_argument("--set", action="append", metavar="KEY=VALUE(S)", type=_sweep_set,
                       help="any number of the scenario by its dotted key: with VALUES (a,b,c or "
                       "start:stop:step) a grid parameter; with one VALUE (TOML, a bare word is "
                       "text) a fixed change under every variant, as --set of `alloc run`")
    sweep.add_argument("--max-variants", type=options.max_variants,
                       default=options.DEFAULT_MAX_VARIANTS, metavar="N",
                       help="refuse a sweep of more variants than N (default "
                       f"{options.DEFAULT_MAX_VARIANTS:,})")
    sweep.add_argument("--workers", type=options.workers, default=1, metavar="N",
                       help=f"processes, 1 to {options.max_workers()} (default 1); with "
                       "--executor dask and no --scheduler, the workers of the local cluster")
    sweep.add_argument("--executor", choices=("local", "dask"), default="local",
                       help="where the blocks of variants are solved: this machine (default) or "
                       "a Dask cluster (pip install 'alloc[dask]'; docs/sweep-dask.md)")
    sweep.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="with --executor dask: the scheduler, e.g. tcp://HOST:8786 (default: "
                       "a cluster on this machine)")
    sweep.add_argument("--reports", type=Path, default=None,
                       help="folder for reports (default: PROJECT/reports)")
    sweep.add_argument("--quiet", action="store_true")


def _is_grid(value: str) -> bool:
    """Whether a sweep's --set value is VALUES (a list or a range: a grid parameter) rather than
    one TOML value (a fixed change)."""
    import tomllib

    text = value.strip()
    try:
        tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return "," in text or ":" in text
    return False


def _sweep_set(text: str) -> str:
    """A sweep's --set: KEY=VALUES checked as the other grid options, KEY=VALUE left to
    `parse_set`."""
    return options.keyed_values(text) if _is_grid(text.partition("=")[2]) else text


def cmd_sweep(args: argparse.Namespace) -> int:
    from alloc.sweep.core import Progress, spread_option

    started = time.perf_counter()
    if args.scheduler is not None and args.executor != "dask":
        raise InputError([Problem("command line", "--scheduler", "a scheduler is for "
                                  "--executor dask; add it, or leave out --scheduler")])
    fixed = [item for item in args.set or [] if not _is_grid(item.partition("=")[2])]
    args.set = [item for item in args.set or [] if item not in fixed]
    sets = _sets(fixed)
    texts = ([args.ceiling] if args.ceiling else []) + [
        item.partition("=")[2] for name in GRID_OPTIONS for item in getattr(args, name) or []]
    if args.draws and texts:
        raise InputError([Problem("command line", "--draws", "give either --draws or grid "
                                  "parameters, not both")])
    count = args.draws or (math.prod(options.count_values(t) for t in texts) if texts else 0)
    from alloc.sweep.core import check_variant_count

    check_variant_count(count, args.max_variants, args.workers, "draws" if args.draws else "values")
    api.reports_folder(args.project, args.reports)
    limit = args.max_variants

    def keyed(items: list[str] | None) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for item in items or []:
            code, _, text = item.partition("=")
            out[code] = options.parse_values(text, limit)
        return out

    result = api.sweep(
        args.scenario, args.project, draws=args.draws, seed=args.seed,
        spread=spread_option(args.spread),
        ceiling=options.parse_values(args.ceiling, limit) if args.ceiling else None,
        receipt_rate=keyed(args.receipt_rate), pledge=keyed(args.pledge),
        target=keyed(args.target), weight=keyed(args.weight), settings=keyed(args.set),
        workers=args.workers, max_variants=limit,
        progress=Progress(enabled=False if args.quiet else None), sets=sets,
        executor=args.executor, scheduler=args.scheduler)
    written = api.write_sweep(result, args.reports, args.project)
    if not args.quiet:
        states = ", ".join(f"{n} {s}" for s, n in result.statuses.items())
        say(f"alloc sweep {args.scenario}: {len(result.results)} variants ({states}) in "
            f"{time.perf_counter() - started:.1f} s")
        _say_sets(sets)
        say(f"  wrote {written.folder.as_posix()}/ ({', '.join(written.files)})")
    return EXIT_OK if result.all_optimal else EXIT_NOT_OPTIMAL


GRID_OPTIONS = ("receipt_rate", "pledge", "target", "weight", "set")
"""The NAME=VALUES options (besides --ceiling), as argparse names them."""


def main(argv: list[str] | None = None) -> int:
    restore = interrupt.install()
    interrupt.set_phase(interrupt.WORKING)
    try:
        return _main(argv)
    finally:
        interrupt.set_phase(interrupt.DONE)
        restore()


def _main(argv: list[str] | None) -> int:
    try:
        args = _parser().parse_args(argv)
    except KeyboardInterrupt:
        say(interrupt.message(), file=sys.stderr)
        return EXIT_INTERRUPTED
    try:
        from alloc.web.command import cmd_publish, cmd_serve

        if args.command != "init":
            args.project = (project.find_project() if args.project is None
                            else project.check_project(args.project))
        return {"run": cmd_run, "check": cmd_check, "compare": cmd_compare, "init": cmd_init,
                "sweep": cmd_sweep, "explain": cmd_run, "serve": cmd_serve,
                "publish": cmd_publish, "template": cmd_template,
                "import": cmd_import}[args.command](args)
    except InputError as exc:
        say(*f"alloc: {exc}".split("\n"), file=sys.stderr)  # escaped line by line by InputError
        return EXIT_INPUT
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`): the work is done, stay quiet.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        say(interrupt.message(), file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print("alloc: the model is too large for this machine's memory; reduce the mandate, the "
              "years or the funds, or run on a larger machine (nothing was written)", file=sys.stderr)
        return EXIT_INTERNAL
    except (SolveError, SheetTooLarge) as exc:
        if args.debug:
            traceback.print_exc()
        say(f"alloc: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as exc:
        if args.debug:
            raise
        say(f"alloc: internal error: {type(exc).__name__}: {exc} (rerun with --debug for "
            "details and please report it)", file=sys.stderr)
        return EXIT_INTERNAL
