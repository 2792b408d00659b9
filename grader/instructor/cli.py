"""The instructor's commands of ``python -m grader``: ``batch``, ``nbgrader`` and ``release``.

:func:`add_commands` adds them to the engine's parser (:mod:`grader.cli`). Each command
imports its tool only when it runs, so ``python -m grader check`` stays quick.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from grader import options, registry
from grader.errors import EXIT_GRADER_ERROR, GraderError
from grader.options import Limits


def add_commands(sub: Any) -> dict[str, Callable[[argparse.Namespace, Console], int]]:
    """Add ``nbgrader``, ``batch`` and ``release`` to the subparsers ``sub``; returns what runs each."""
    course = sub.add_parser("nbgrader", help="nbgrader のコースを作る / write an nbgrader course")
    course.add_argument("course_dir", type=Path, metavar="COURSE_DIR", help="the course's folder (created if needed)")
    course.add_argument("--assignment", default=registry.DEFAULT_ASSIGNMENT, metavar="ID", help=f"assignment id (default: {registry.DEFAULT_ASSIGNMENT})")
    course.add_argument("--exercises", nargs="+", metavar="EXERCISE", help="ex1 ... ex6 (default: all)")

    batch = sub.add_parser("batch", help="クラス全員を採点する / grade a whole class")
    batch.add_argument("submissions", type=Path, nargs="?", metavar="SUBMISSIONS_DIR", help="one folder per student")
    batch.add_argument("--out", type=Path, metavar="OUT_DIR", help="grades.csv and per-student results")
    batch.add_argument(
        "--nbgrader", type=Path, metavar="COURSE_DIR",
        help="grade the nbgrader course's submitted/<student>/<assignment>/ and write its gradebook",
    )  # fmt: skip
    batch.add_argument("--assignment", metavar="ID", help="with --nbgrader: the assignment to grade")
    batch.add_argument("--workers", type=int, help="processes grading at once (default: every core)")
    batch.add_argument("--exercises", nargs="+", metavar="EXERCISE", help="ex1 ... ex6 (default: all)")
    batch.add_argument("--timeout", type=float, default=Limits.call_timeout_s, help="seconds per call of student code")
    batch.add_argument("--memory", type=int, default=Limits.memory_mb, help="megabytes of memory per worker")
    batch.add_argument(
        "--budget", type=float, default=Limits.budget_s,
        help="seconds one student's code may run in all (after that, their remaining checks fail)",
    )  # fmt: skip
    batch.add_argument(
        "--unsafe-no-sandbox", action="store_true",
        help="grade even where the OS sandbox (bubblewrap) cannot start: a submission can then read other "
        "students' files and the model answers, or fake its grade",
    )  # fmt: skip
    batch.add_argument("--profile", choices=options.PROFILES, default=options.GRADING)
    batch.add_argument("--dask-scheduler", metavar="ADDRESS", help="grade on this Dask cluster instead of locally")
    batch.add_argument(
        "--no-preflight", action="store_true",
        help="skip grading the model answers first (the preflight refuses to start on a set-up that cannot grade them)",
    )  # fmt: skip

    release = sub.add_parser("release", help="学生に配るフォルダを作る (解答なし) / build the student release (no answers)")
    release.add_argument("out", type=Path, metavar="OUT_DIR", help="a new or empty folder")
    return {"nbgrader": _course, "batch": _batch, "release": _release}


def _release(args: argparse.Namespace, console: Console) -> int:
    """``python -m grader release OUT_DIR``: see grader/instructor/release.py."""
    from grader.instructor import release

    return release.main(args.out, console)


def _batch(args: argparse.Namespace, console: Console) -> int:
    """``python -m grader batch``: see grader/instructor/batch.py."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from grader.instructor import batch

    if args.workers is not None and args.workers < 1:
        console.print("[red]--workers は 1 以上 / --workers must be at least 1[/red]")
        return 2
    if args.timeout <= 0 or args.memory <= 0 or args.budget <= 0:
        console.print("[red]--timeout, --memory, --budget は正の数 / --timeout, --memory and --budget must be positive[/red]")
        return 2
    if not _sandbox_or_consent(args, console):
        return EXIT_GRADER_ERROR
    try:
        work = _nbgrader_work(args, console) if args.nbgrader is not None else _folders_work(args)
    except (ValueError, batch.BatchError) as err:
        console.print(f"[red]{err}[/red]")
        return 2
    if args.dask_scheduler:
        from distributed import Client

        client = Client(args.dask_scheduler)
        executor = client.get_executor()
    else:
        client, executor = None, batch.local_executor(args.workers)
    # a local pool that breaks is replaced (grader/instructor/pool.py); a Dask cluster replaces its own workers
    replace = None if client is not None else (lambda: batch.local_executor(args.workers))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())  # fmt: skip
    err_console = Console(stderr=True)
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task("採点中 / grading", total=None)

        def progress(done: int, total: int, student: str) -> None:
            bar.update(task, completed=done, total=total, description=f"採点中 / grading {student}".rstrip())

        try:
            csv_path = work(executor, progress, replace)
        except KeyboardInterrupt:
            console.print("[yellow]中断しました。もう一度実行すると続きから採点します / interrupted: run again to resume[/yellow]")
            return 130
        except (batch.PreflightFailed, GraderError) as err:  # GraderError: the nbgrader gradebook step
            console.print(f"[bold magenta]{err}[/bold magenta]")
            return EXIT_GRADER_ERROR
        except batch.BatchError as err:  # e.g. a student id that cannot name a folder (nbgrader's ids)
            console.print(f"[red]{err}[/red]")
            return 2
        finally:
            try:
                executor.shutdown(wait=False, cancel_futures=True)
            except TypeError:  # a Dask ClientExecutor knows no cancel_futures
                executor.shutdown(wait=False)
            if client is not None:
                client.close()
    console.print(f"grades: {csv_path}")
    broken = batch.grader_errors(csv_path)
    if broken:
        console.print(
            f"[bold magenta]採点器のエラーで採点できなかった学生がいます (点数なし、flags の grader_error) / the kit or the "
            f"machine failed to grade {len(broken)} student(s), who have no score for those exercises (flag grader_error; "
            f"see their feedback.txt). Fix the cause and run the same command again: it grades them again. "
            f"{', '.join(broken[:20])}{' ...' if len(broken) > 20 else ''}[/bold magenta]"
        )
        return EXIT_GRADER_ERROR
    return 0


def _sandbox_or_consent(args: argparse.Namespace, console: Console) -> bool:
    """Whether to go on: the OS sandbox starts here, or the instructor said ``--unsafe-no-sandbox``."""
    from grader.isolation import sandbox

    if args.unsafe_no_sandbox:
        console.print(
            "[bold yellow]OS のサンドボックスなしで採点します: 提出物は他の学生のファイルや模範解答を読めます / grading "
            "without the OS sandbox (--unsafe-no-sandbox): a submission can read other students' files and the model "
            "answers, and fake its grade[/bold yellow]"
        )
        return True
    if args.dask_scheduler:
        return True  # each Dask worker's machine is checked where it grades (a grader error where it cannot)
    problem = sandbox.problem()
    if problem is None:
        return True
    console.print(
        f"[bold magenta]OS のサンドボックス (bubblewrap) が起動できないため、採点を始めません / the OS sandbox "
        f"(bubblewrap) cannot start on this machine, so no student was graded: {problem}\n"
        "Debian/Ubuntu: sudo apt install bubblewrap (and allow unprivileged user namespaces). "
        "To grade anyway, without it: --unsafe-no-sandbox[/bold magenta]"
    )
    return False


def _folders_work(args: argparse.Namespace) -> Callable[..., Path]:
    """``batch SUBMISSIONS_DIR --out OUT_DIR``: what to run once the executor is there."""
    from grader.instructor import batch

    if args.submissions is None or args.out is None:
        raise batch.BatchError(
            "SUBMISSIONS_DIR と --out OUT_DIR (または --nbgrader COURSE_DIR --assignment ID) を指定してください / "
            "give SUBMISSIONS_DIR and --out OUT_DIR (or --nbgrader COURSE_DIR --assignment ID)"
        )
    exercises = tuple(registry.find(name).id for name in (args.exercises or [e.id for e in registry.EXERCISES]))
    settings = batch.Settings(exercises, args.profile, _limits(args), sandbox=not args.unsafe_no_sandbox)
    batch.students(args.submissions, args.out)
    return lambda executor, progress, replace: batch.run(
        args.submissions, args.out, settings, executor, progress, check_first=not args.no_preflight, replace=replace
    )


def _nbgrader_work(args: argparse.Namespace, console: Console) -> Callable[..., Path]:
    """``batch --nbgrader COURSE_DIR --assignment ID``: grade nbgrader's submissions, write its gradebook."""
    from grader.instructor import batch
    from grader.instructor.nbgrader import autograde, gradebook

    if args.assignment is None or args.submissions is not None or args.exercises:
        raise batch.BatchError(
            "--nbgrader COURSE_DIR には --assignment ID が必要です (SUBMISSIONS_DIR と --exercises は使いません) / "
            "--nbgrader COURSE_DIR needs --assignment ID (and takes no SUBMISSIONS_DIR or --exercises)"
        )
    try:
        course = gradebook.open_course(args.nbgrader, args.assignment)
        gradebook.exercises(course)
        gradebook.submissions(course)
    except gradebook.CourseError as err:
        raise batch.BatchError(str(err)) from None
    out = args.out or course.root / "grader-batch" / args.assignment
    limits, sandboxed = _limits(args), not args.unsafe_no_sandbox

    def work(executor: Any, progress: Any, replace: Any = None) -> Path:
        csv_path, totals = autograde.grade(
            course, out, args.profile, limits, executor, progress, check_first=not args.no_preflight, sandbox=sandboxed
        )
        console.print(f"gradebook: {course.db_url} ({len(totals)} students, assignment {args.assignment})")
        return csv_path

    return work


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(call_timeout_s=args.timeout, memory_mb=args.memory, budget_s=args.budget)


def _course(args: argparse.Namespace, console: Console) -> int:
    """``python -m grader nbgrader COURSE_DIR``: see grader/instructor/nbgrader/course.py."""
    from grader.instructor.nbgrader import course

    try:
        exercises = [registry.find(name) for name in args.exercises] if args.exercises else list(registry.EXERCISES)
        written = course.write_course(args.course_dir, args.assignment, exercises)
    except ValueError as err:
        console.print(f"[red]{err}[/red]")
        return 2
    for path in written:
        console.print(f"wrote {path}")
    if args.course_dir / course.CONFIG not in written:
        console.print(
            f"[yellow]{args.course_dir / course.CONFIG} はそのままです。必要な設定は grader/instructor/nbgrader/course.py を参照 / "
            f"kept your {course.CONFIG}: see grader/instructor/nbgrader/course.py (CONFIG_TEXT) for the settings the course needs[/yellow]"
        )
    console.print(f"next: cd {args.course_dir} && nbgrader generate_assignment {args.assignment}")
    return 0
