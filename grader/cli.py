"""``python -m grader check``: grade exercises and print a score table (and JSON, and plots).

The engine's own command. The instructor's commands (``batch``, ``nbgrader``, ``release``)
live in :mod:`grader.instructor.cli`; ``python -m grader`` (:mod:`grader.__main__`) adds
them to this parser when the instructor's tools are there (a student release has none).

The parser needs nothing heavy (:mod:`grader.options`): the engine, and torch with it, is
imported by the command that runs, so ``--help`` and a mistyped argument answer at once,
and a batch's coordinating process never imports torch.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from rich.console import Console

from grader import options, registry
from grader.errors import EXIT_GRADER_ERROR, NOT_YOUR_CODE

#: A command: what it does with the parsed arguments and a console; returns the exit status.
Command = Callable[[argparse.Namespace, Console], int]


def _parser(extensions: Sequence[ModuleType]) -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    parser = argparse.ArgumentParser(prog="python -m grader", description="採点ツール / the kit's autograder")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="課題を採点する / grade exercises")
    check.add_argument(
        "exercises", nargs="*", metavar="EXERCISE", help="ex1 ... ex6, or ex1_last_token ... (default: all)"
    )
    check.add_argument("--target", type=Path, default=Path("exercises"), help="folder with the exercise files")
    check.add_argument("--json", type=Path, metavar="FILE", help="write Gradescope-style results.json here")
    check.add_argument("--profile", choices=options.PROFILES, default=options.STUDENT)
    check.add_argument("--plots", type=Path, metavar="DIR", help="write pictures of ex2, ex4 and ex6 here")
    check.add_argument("--timings", action="store_true", help="with --json: each case's seconds too (extra_data.seconds)")
    check.add_argument(
        "--isolate", action="store_true", help="run the code in worker processes, as batch grading does"
    )
    check.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="with --isolate: run the workers without the OS sandbox even where it can start (the audit hook only)",
    )
    commands: dict[str, Command] = {"check": _check}
    for extension in extensions:  # each adds its subcommands and says which function runs each
        commands |= extension.add_commands(sub)
    return parser, commands


def main(argv: Sequence[str] | None = None, extensions: Sequence[ModuleType] = ()) -> int:
    """Parse ``argv`` and run the command; ``extensions`` are modules with ``add_commands(subparsers)``."""
    parser, commands = _parser(extensions)
    args = parser.parse_args(argv)
    console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 120)
    return commands[args.command](args, console)


def _check(args: argparse.Namespace, console: Console) -> int:
    """``python -m grader check``: grade, print the table, and write what was asked for."""
    try:
        exercises = [registry.find(name) for name in args.exercises] or list(registry.EXERCISES)
    except ValueError as err:
        console.print(f"[red]{err}[/red]")
        return 2
    if not args.target.is_dir():
        console.print(
            f"[red]採点対象のフォルダ {args.target} がありません / target folder {args.target} does not exist[/red]"
        )
        return 2
    from grader import report  # the engine, once the arguments are known to be good
    from grader.session import grade

    try:
        isolation = ["--isolate", "--sandbox", "off" if args.unsafe_no_sandbox else "auto"] if args.isolate else []
        results = grade(exercises, args.target, args.profile, isolation)
    except RuntimeError as err:
        console.print(f"[red]{err}[/red]")
        return 3
    report.render(results, console)
    if args.json:
        report.write_json(results, args.json, timings=args.timings)
        console.print(f"results: {args.json}")
    if args.plots:
        _plots(exercises, args, console)
    if not results.complete:
        broken = ", ".join(e.exercise.id for e in results.exercises if not e.graded)
        console.print(f"[bold magenta]{NOT_YOUR_CODE}: {broken}[/bold magenta]")
        return EXIT_GRADER_ERROR
    return 0


def _plots(exercises: Sequence[registry.Exercise], args: argparse.Namespace, console: Console) -> None:
    """``check --plots DIR``: the student's curves over the reference's (the kit only: a release has no reference)."""
    from grader import oracle

    if oracle.replaying():
        console.print(
            "[yellow]配布版では図を作れません (図には参照実装が必要で、配布版には含まれていません)。上の点数はそのまま有効です / "
            "plots cannot be drawn in a student release (they need the reference, which a release does not hold); "
            "your scores above stand as they are[/yellow]"
        )
        return
    from grader import plots

    for path in plots.write_all(exercises, args.target, args.plots):
        console.print(f"plot: {path}")
