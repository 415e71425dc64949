"""The `alloc` command: wires the stages together and turns failures into messages and exit codes.

Exit codes: 0 optimal, 1 infeasible (or no optimal answer), 2 bad input, 3 internal error,
130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import traceback
from pathlib import Path
from typing import TextIO

from alloc import __version__, interrupt, options
from alloc.errors import InputError, ModelTooLarge, SolveError
from alloc.text import printable

EXIT_OK, EXIT_NOT_OPTIMAL, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = interrupt.EXIT_INTERRUPTED


class _Parser(argparse.ArgumentParser):
    """argparse, with what it prints (usage, errors quoting an argument) shown escaped."""

    def _print_message(self, message: str, file: TextIO | None = None) -> None:
        super()._print_message(printable(message, keep_newlines=True), file)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="alloc", description="Allocate a financial plan over a strategic plan.")
    parser.add_argument("--version", action="version", version=f"alloc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("scenario", nargs="?", default="baseline",
                        help="a scenario name in scenarios/ or a scenario file (default: baseline)")
    common.add_argument("--project", type=Path, default=Path("."),
                        help="project folder holding models/, scenarios/ and reports/ (default: .)")
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
    sub.add_parser("check", parents=[common], help="validate a scenario without solving")
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
    _sweep_parser(sub, common)
    compare = sub.add_parser("compare", help="scenarios side by side, and why they differ")
    compare.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                         help="two or more scenarios; differences are against the first")
    compare.add_argument("--project", type=Path, default=Path("."))
    compare.add_argument("--reports", type=Path, default=None)
    compare.add_argument("--solver", choices=["highs", "cbc"], default="highs")
    compare.add_argument("--quiet", action="store_true")
    compare.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def _reports(args: argparse.Namespace) -> Path:
    """The reports folder, checked before any work: alloc writes only where it may."""
    from alloc.report.folders import check_reports_folder

    given = args.reports is not None
    reports = args.reports if given else args.project / "reports"
    check_reports_folder(reports, args.project, "--reports" if given else "reports folder",
                         only_ours=given)
    return reports


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
    from alloc.model.load import load_plan

    plan = load_plan(args.scenario, args.project)
    say(f"{plan.name}: valid ({plan.model}; {len(plan.entities)} entities, "
        f"{sum(not p.support for p in plan.priorities)} thematic priorities, "
        f"{sum(p.support for p in plan.priorities)} support lines, {len(plan.outputs)} outputs, "
        f"{len(plan.mandate)} cells, {len(plan.funds)} extrabudgetary funds)")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from alloc.compare.core import compare, totals_side_by_side
    from alloc.compare.writer import write_comparison
    from alloc.lp.solve import SolveOptions
    from alloc.report.folders import COMPARE_FOLDER, COMPARISON, report_folder

    if len(args.scenarios) < 2:
        say("alloc: compare needs at least two scenarios", file=sys.stderr)
        return EXIT_INPUT
    twice = _given_twice(args.scenarios, args.project)
    if twice:
        say(f"alloc: compare needs different scenarios; {twice}", file=sys.stderr)
        return EXIT_INPUT
    reports = _reports(args)
    comparison = compare(args.scenarios, args.project, SolveOptions(args.solver))
    names = comparison.names
    target = reports / COMPARE_FOLDER / "-vs-".join(names)
    failed = [s for s in comparison.scenarios if not s.solution.optimal]
    if failed:
        for s in failed:
            say(f"alloc compare: {s.name} is {s.solution.status}: {s.solution.message}; "
                f"run `alloc run {s.name}` for the diagnosis", file=sys.stderr)
        return EXIT_NOT_OPTIMAL
    with report_folder(target, COMPARISON) as tmp:
        written = write_comparison(comparison, tmp)
    if not args.quiet:
        totals = totals_side_by_side(comparison, "a1-priority-entity")
        unit = comparison.scenarios[0].plan.unit
        say(f"alloc compare {' vs '.join(names)} ({unit}, total by thematic priority)")
        say("  " + f"{'':<10}" + "".join(f"{n[:14]:>16}" for n in names)
            + "".join(f"{'diff ' + n[:9]:>16}" for n in names[1:]))
        for code, row in totals.iterrows():
            say("  " + f"{code!s:<10}" + "".join(f"{_fmt(row[n]):>16}" for n in names)
                + "".join(f"{_fmt(row['diff_' + n]):>16}" for n in names[1:]))
        say(f"  wrote {target.as_posix()}/ ({', '.join(written)})")
    return EXIT_OK


def _given_twice(refs: list[str], root: Path) -> str | None:
    """Whether two of the scenarios are one file (as a name and as a path, say), or share a
    name, which names their columns and the report's folder; None if all differ."""
    from alloc.model.scenario import locate_scenario

    seen: dict[str, str] = {}
    for ref in refs:
        path = locate_scenario(ref, root)
        name, real = path.stem, str(path.resolve())
        for other, other_real in seen.items():
            if other_real == real:
                return (f"'{ref}' is given twice" if ref == other else
                        f"'{other}' and '{ref}' are the same scenario ({path.as_posix()})")
            if Path(other_real).stem == name:
                return (f"'{other}' and '{ref}' are both named '{name}', and a comparison names "
                        "its columns and folder by scenario name; rename one of the files")
        seen[ref] = real
    return None


def _too_large(plan: object, exc: Exception, seconds: dict[str, float], target: Path) -> int:
    """Say so, and leave a run.json that says so: no allocation is presented."""
    from alloc.lp.solution import Solution
    from alloc.report.write import write_report

    solution = Solution(plan, "too_large", "-", message=str(exc))  # type: ignore[arg-type]
    write_report(solution, target, seconds)
    say(f"alloc: {exc}", file=sys.stderr)
    return EXIT_NOT_OPTIMAL


def cmd_run(args: argparse.Namespace) -> int:
    from alloc.lp.build import build
    from alloc.lp.solve import SolveOptions, solve
    from alloc.model.load import load_plan
    from alloc.report.folders import RUN, check_target
    from alloc.report.write import kept_beside, write_report

    explaining = args.command == "explain"
    seconds: dict[str, float] = {}
    reports = _reports(args)
    t = time.perf_counter()
    plan = load_plan(args.scenario, args.project)
    if explaining:
        _check_explain_args(args, plan)
    target = reports / plan.name
    check_target(target, RUN)
    seconds["load"] = time.perf_counter() - t
    t = time.perf_counter()
    try:
        lp = build(plan)
    except ModelTooLarge as exc:
        return _too_large(plan, exc, seconds, target)
    seconds["build"] = time.perf_counter() - t
    t = time.perf_counter()
    # the infeasible case is diagnosed by alloc.explain (see _explained)
    options = SolveOptions(args.solver, getattr(args, "time_limit", None))
    solution = solve(lp, options)
    seconds["solve_and_check"] = time.perf_counter() - t
    t = time.perf_counter()
    extra, lines = _explained(lp, solution, options, explaining, getattr(args, "tolerance", 0.01),
                              getattr(args, "cell", None))
    seconds["explain"] = time.perf_counter() - t
    beside = kept_beside(solution, target)
    written = write_report(solution, target, seconds, support_costs=args.support_costs, **extra)
    out = sys.stdout
    if not args.quiet:
        chain = " <- ".join(plan.scenario_chain)
        say(f"alloc {args.command} {plan.name}: {solution.status} ({solution.solver}); model "
            f"{plan.model}" + (f"; scenario chain {chain}" if len(plan.scenario_chain) > 1
                               else ""), file=out)
        if solution.optimal and not explaining:
            say(f"  {'year':<6}{'ceiling':>14}{'regular':>14}{'extrabudgetary':>16}"
                f"{'unallocated':>14}   ({plan.unit})", file=out)
            for y in plan.years:
                regular = solution.allocated(y, "regular")
                total = solution.allocated(y)
                ceiling = solution.ceiling(y)
                say(f"  {y:<6}{_fmt(ceiling):>14}{_fmt(regular):>14}"
                    f"{_fmt(total - regular):>16}{_fmt(ceiling - regular):>14}", file=out)
            levels = ", ".join(f"{k} {v:.6g}" for k, v in solution.objectives.items())
            say(f"  objective: {levels}", file=out)
        elif not lines:
            say(f"  {solution.message}", file=out)
        for line in lines:
            say(f"  {line}", file=out)
        if beside:
            say(f"  wrote {target.as_posix()}/not-optimal/ ({', '.join(written)}); the optimal "
                f"report in {target.as_posix()}/ is kept", file=out)
        else:
            say(f"  wrote {target.as_posix()}/ ({', '.join(written)})", file=out)
    return EXIT_OK if solution.optimal else EXIT_NOT_OPTIMAL


def _check_explain_args(args: argparse.Namespace, plan: object) -> None:
    from alloc.errors import Problem
    from alloc.suggest import closest

    problems = []  # --tolerance is checked as it is read (alloc.options)
    cells = ["/".join(m.cell) for m in plan.mandate]  # type: ignore[attr-defined]
    if args.cell is not None and args.cell not in cells:
        hint = closest(args.cell, cells)
        problems.append(Problem("command line", "--cell", f"'{args.cell}' is not a cell of the "
                                "mandate (ENTITY/PRIORITY/OUTPUT)"
                                + (f"; did you mean '{hint}'?" if hint else "")))
    if problems:
        raise InputError(problems)


def _explained(lp: object, solution: object, options: object, deep: bool, tolerance: float,
               cell: str | None) -> tuple[dict, list[str]]:
    """What the report adds and what is printed: the rules with their prices for an optimal
    run (with ranges, room for manoeuvre and the cell's story when explaining), the conflicts
    and what to change for an infeasible one."""
    from alloc.explain import diagnose_infeasible, explain
    from alloc.explain import report as explain_report

    plan = lp.plan  # type: ignore[attr-defined]
    if solution.optimal:  # type: ignore[attr-defined]
        explanation = explain(lp, solution.constraints, solution.objectives,  # type: ignore
                              options, tolerance, deep, cell)  # type: ignore[arg-type]
        lines = explain_report.explanation_lines(explanation, plan) if deep else []
        if explanation.cell is not None:
            lines += explain_report.cell_lines(explanation.cell, plan)
        return {"sheets": explain_report.sheets(explanation, plan),
                "files": explain_report.files(explanation)}, lines
    if solution.status == "infeasible" and not solution.objectives:  # type: ignore[attr-defined]
        why: list[str] = []
        try:
            diagnosis = diagnose_infeasible(lp, options)  # type: ignore[arg-type]
        except SolveError as exc:  # fall back on the cheap diagnosis, and say why no more
            diagnosis = diagnose_infeasible(lp, options, cheap=True)  # type: ignore[arg-type]
            why = [f"(no fuller diagnosis: {exc})"]
        solution.message = diagnosis.message  # type: ignore[attr-defined]
        solution.conflicts = diagnosis.moves()  # type: ignore[attr-defined]
        return ({"infeasibility": diagnosis.record()},
                ["no allocation keeps every rule:", *explain_report.diagnosis_lines(diagnosis),
                 *why])
    return {}, []


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
    sweep.add_argument("--weight", action="append", metavar="TARGET=VALUES",
                       type=options.keyed_values, help="a target's shortfall weight")
    sweep.add_argument("--set", action="append", metavar="KEY=VALUES", type=options.keyed_values,
                       help="any number of the scenario by its dotted key")
    sweep.add_argument("--max-variants", type=options.max_variants,
                       default=options.DEFAULT_MAX_VARIANTS, metavar="N",
                       help="refuse a sweep of more variants than N (default "
                       f"{options.DEFAULT_MAX_VARIANTS:,})")
    sweep.add_argument("--workers", type=options.workers, default=1, metavar="N",
                       help=f"processes, 1 to {options.max_workers()} (default 1)")
    sweep.add_argument("--reports", type=Path, default=None,
                       help="folder for reports (default: PROJECT/reports)")
    sweep.add_argument("--quiet", action="store_true")


def cmd_sweep(args: argparse.Namespace) -> int:
    from alloc.sweep.core import run_sweep

    started = time.perf_counter()
    args.reports = _reports(args)
    target, results, written = run_sweep(args)
    if not args.quiet:
        counts: dict[str, int] = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        states = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        say(f"alloc sweep {args.scenario}: {len(results)} variants ({states}) in "
            f"{time.perf_counter() - started:.1f} s")
        say(f"  wrote {target.as_posix()}/ ({', '.join(written)})")
    return EXIT_OK if all(r.status == "optimal" for r in results) else EXIT_NOT_OPTIMAL


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
        return {"run": cmd_run, "check": cmd_check, "compare": cmd_compare,
                "sweep": cmd_sweep, "explain": cmd_run}[args.command](args)
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
    except SolveError as exc:
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
