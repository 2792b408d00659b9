"""``python -m grader``: grade exercises and print a score table (and JSON, and plots)."""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from rich.console import Console

from grader import profiles, registry, report
from grader.plugin import COLLECTOR
from grader.results import Results

CHECKS_DIR = Path(__file__).resolve().parent / "checks"


class _Sink:
    """A pytest plugin that hands the collected results back to the CLI."""

    def __init__(self) -> None:
        self.results: Results | None = None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.results = session.config.stash[COLLECTOR].results()


def grade(
    exercises: Sequence[registry.Exercise],
    target: Path,
    profile: str = profiles.STUDENT,
    extra_args: Sequence[str] = (),
) -> Results:
    """Run the checks of ``exercises`` on the files in ``target`` and return their results.

    Raises ``RuntimeError`` if pytest itself could not run (not if the student's code fails).
    """
    files = [str(CHECKS_DIR / f"test_{ex.id}.py") for ex in exercises]
    args = [*files, "-q", "-p", "no:cacheprovider", "--target", str(target), "--profile", profile, *extra_args]
    sink = _Sink()
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        code = pytest.main(args, plugins=[sink])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or sink.results is None:
        raise RuntimeError(f"pytest could not run the checks (exit code {int(code)}):\n{captured.getvalue()[-3000:]}")
    return sink.results


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description="採点ツール / the kit's autograder")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="課題を採点する / grade exercises")
    check.add_argument(
        "exercises", nargs="*", metavar="EXERCISE", help="ex1 ... ex5, or ex1_last_token ... (default: all)"
    )
    check.add_argument("--target", type=Path, default=Path("exercises"), help="folder with the exercise files")
    check.add_argument("--json", type=Path, metavar="FILE", help="write Gradescope-style results.json here")
    check.add_argument("--profile", choices=profiles.PROFILES, default=profiles.STUDENT)
    check.add_argument("--plots", type=Path, metavar="DIR", help="write pictures of ex2 and ex4 here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 120)
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
    try:
        results = grade(exercises, args.target, args.profile)
    except RuntimeError as err:
        console.print(f"[red]{err}[/red]")
        return 3
    report.render(results, console)
    if args.json:
        report.write_json(results, args.json)
        console.print(f"results: {args.json}")
    if args.plots:
        from grader import plots

        for path in plots.write_all(exercises, args.target, args.plots):
            console.print(f"plot: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
