"""The pytest side of the grader: options, the ``student`` fixture, and scoring.

Loaded by ``grader/conftest.py``, so both ``pytest grader -m ex2`` and
``python -m grader check`` grade the same way and print the same report.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch
from rich.console import Console

from grader import devices, profiles, registry, report, spec
from grader.errors import NOT_YOUR_CODE, GraderError
from grader.feedback import CheckFailure
from grader.loader import LoadError
from grader.probes import time_limit
from grader.results import ERROR, FAILED, PASSED, SKIPPED, CaseResult, Collector
from grader.options import Limits
from grader.runner import InProcessRunner, Submission

if TYPE_CHECKING:
    from grader.isolation.runner import IsolatedRunner, RemoteSubmission

try:
    ExceptionGroups: type[BaseException] = BaseExceptionGroup  # type: ignore[name-defined]  # Python 3.11+
except NameError:  # Python 3.10: pytest raises the backport's groups
    from exceptiongroup import BaseExceptionGroup as ExceptionGroups

COLLECTOR = pytest.StashKey[Collector]()
RUNNER = pytest.StashKey["InProcessRunner | IsolatedRunner"]()

#: No check may run longer than this; a hang in student code must not stall grading.
CHECK_TIME_LIMIT_S = 120.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader", "autograder / 採点")
    group.addoption(
        "--target",
        default=os.environ.get("GRADER_TARGET", "exercises"),
        help="folder holding the exercise files to grade (default: exercises/)",
    )
    group.addoption(
        "--isolate",
        action="store_true",
        default=os.environ.get("GRADER_ISOLATE", "") not in ("", "0"),
        help="run the student's code in worker processes (as batch grading does), not in this process",
    )
    # --call-timeout and --worker-memory, not --timeout: the pytest-timeout plugin owns that name
    group.addoption(
        "--call-timeout",
        type=float,
        default=Limits.call_timeout_s,
        help="with --isolate: seconds one call of the student's code may take",
    )
    group.addoption(
        "--worker-memory",
        type=int,
        default=Limits.memory_mb,
        help="with --isolate: megabytes of memory the student's code may use",
    )
    group.addoption(
        "--budget",
        type=float,
        default=Limits.budget_s,
        help="with --isolate: seconds the student's code may run in all, across every check",
    )
    group.addoption(
        "--sandbox",
        default="auto",
        choices=("auto", "on", "off"),
        help="with --isolate: run the workers in the OS sandbox (bubblewrap): where it can start (auto), always "
        "(on: a grader error where it cannot), or never (off: the audit hook is the only guard)",
    )
    group.addoption(
        "--profile",
        default=profiles.STUDENT,
        choices=profiles.PROFILES,
        help="hypothesis profile: quick 'student' feedback or reproducible 'grading'",
    )


def pytest_configure(config: pytest.Config) -> None:
    for ex in registry.EXERCISES:
        config.addinivalue_line("markers", f"{ex.short}: {ex.title_en} ({ex.filename})")
        config.addinivalue_line("markers", f"{ex.id}: {ex.title_en} ({ex.filename})")
    config.addinivalue_line("markers", "check: a graded check (grader.spec.check)")
    config.addinivalue_line("markers", f"{devices.CUDA_MARKER}: a check case that runs on CUDA (skipped without a GPU)")
    profiles.load(config.getoption("--profile"))
    # The checks use tiny tensors: intra-op threads only add fork/join waits (LayerNorm's
    # CPU kernel waited up to ~15 ms per call on a busy 2-core machine), and batch grading
    # runs one worker per core anyway.
    torch.set_num_threads(1)
    config.stash[COLLECTOR] = Collector()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each check with its exercise, so ``-m ex2`` and ``-m ex2_swish`` both select it."""
    for item in items:
        info = spec.info(item)
        if info is None:
            continue
        exercise = registry.for_check_module(item.module.__name__)
        item.add_marker(getattr(pytest.mark, exercise.short))
        item.add_marker(getattr(pytest.mark, exercise.id))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Declare every selected check up front, so the report lists them in file order."""
    collector = session.config.stash[COLLECTOR]
    for item in session.items:
        info = spec.info(item)
        if info is not None:
            collector.declare(registry.for_check_module(item.module.__name__), item.originalname, info)


@pytest.fixture(scope="session")
def runner(pytestconfig: pytest.Config) -> Iterator[InProcessRunner | IsolatedRunner]:
    target = Path(pytestconfig.getoption("--target"))
    if not target.is_dir():
        raise pytest.UsageError(
            f"採点対象のフォルダ {target} がありません / target folder {target} does not exist "
            "(キットのフォルダで実行するか --target を指定してください / run from the kit's folder or pass --target)"
        )
    if pytestconfig.getoption("--isolate"):
        # The seam: the engine reaches the isolation layer here, and only when asked to.
        from grader.isolation.runner import IsolatedRunner

        limits = Limits(
            call_timeout_s=pytestconfig.getoption("--call-timeout"),
            memory_mb=pytestconfig.getoption("--worker-memory"),
            budget_s=pytestconfig.getoption("--budget"),
        )
        sandbox = {"auto": None, "on": True, "off": False}[pytestconfig.getoption("--sandbox")]
        chosen: InProcessRunner | IsolatedRunner = IsolatedRunner(target, limits, sandbox)
    else:
        chosen = InProcessRunner(target)
    pytestconfig.stash[RUNNER] = chosen
    yield chosen
    chosen.close()


@pytest.fixture(scope="module")
def student(request: pytest.FixtureRequest, runner: InProcessRunner | IsolatedRunner) -> Submission | RemoteSubmission:
    """The student's exercise file for this check module, loaded through the runner."""
    return runner.load(registry.for_check_module(request.module.__name__))


@pytest.fixture(autouse=True)
def _fresh_check(request: pytest.FixtureRequest) -> None:
    """A worker that failed during one check must not cost the next check its wait."""
    if "student" in request.fixturenames:
        try:
            request.getfixturevalue("student").begin_check()
        except LoadError:
            pass  # reported by the check itself


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """CUDA cases run only where this (grading) process finds a GPU; see grader/devices.py."""
    devices.skip_unless_cuda(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):  # noqa: ANN201
    on_cuda = item.get_closest_marker(devices.CUDA_MARKER) is not None
    if spec.info(item) is not None:
        # A check's failure is reported from the exception itself (pytest_runtest_makereport): spare
        # pytest its traceback, which parses the source of every frame (about 0.1 s a failure, most of
        # a wrong file's grading), here and when hypothesis formats the failing example's traceback.
        item.repr_failure = _not_rendered  # type: ignore[method-assign]
    with time_limit(CHECK_TIME_LIMIT_S, item.name), profiles.applied(getattr(item, "obj", None), on_cuda=on_cuda):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    info = spec.info(item)
    outcome = yield
    rep: pytest.TestReport = outcome.get_result()
    if info is None:
        return
    decisive = rep.when == "call" or (rep.when == "setup" and not rep.passed)
    if not decisive:
        return
    case = item.callspec.id if hasattr(item, "callspec") else ""
    grader_error = _grader_error(call.excinfo) if call.excinfo else None
    if grader_error is not None:
        result = CaseResult(case, ERROR, str(grader_error))
        rep.longrepr = f"{info.title}\n{NOT_YOUR_CODE}\n{grader_error}"
    elif rep.skipped:
        result = CaseResult(case, SKIPPED, str(rep.longrepr[-1]) if isinstance(rep.longrepr, tuple) else "")
    elif rep.passed:
        result = CaseResult(case, PASSED)
    else:
        message = explain(call.excinfo) if call.excinfo else str(rep.longrepr)
        hint = own_hint(call.excinfo) if call.excinfo else ""
        result = CaseResult(case, FAILED, message, hint)
        rep.longrepr = f"{info.title}\n{message}\n{hint or info.hint}"
    result.seconds = rep.duration
    exercise = registry.for_check_module(item.module.__name__)
    collector = item.config.stash[COLLECTOR]
    collector.record(exercise, item.originalname, info, result)
    runner = item.config.stash.get(RUNNER, None)
    violations = runner.violations(exercise) if runner is not None else []
    if violations:
        collector.forfeit(exercise, violations)


def _not_rendered(excinfo: pytest.ExceptionInfo[BaseException], style: str | None = None) -> str:
    """What pytest's own report of a check's failure would be, replaced by the grader's report."""
    return f"{excinfo.typename}: {str(excinfo.value)[:200]}"


def _grader_error(excinfo: pytest.ExceptionInfo[BaseException]) -> GraderError | None:
    """The :class:`GraderError` behind a case's exception, if the kit (not the student) failed."""
    err: BaseException | None = excinfo.value
    while isinstance(err, ExceptionGroups) and err.exceptions:
        err = err.exceptions[0]
    seen = 0
    while err is not None and seen < 20:  # raised from a GraderError (e.g. inside hypothesis)
        if isinstance(err, GraderError):
            return err
        err, seen = err.__cause__ or err.__context__, seen + 1
    return None


def own_hint(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """The failure's own hint (see grader.feedback.CheckFailure), or "" to print the check's."""
    err = excinfo.value
    while isinstance(err, ExceptionGroups) and err.exceptions:
        err = err.exceptions[0]
    hint = err.hint if isinstance(err, CheckFailure) else None
    return spec.hint_text(*hint) if hint else ""


def explain(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """A failure in the student's words: our own message, or what their code raised and where."""
    err = excinfo.value
    while isinstance(err, ExceptionGroups) and err.exceptions:
        err = err.exceptions[0]
    if isinstance(err, (CheckFailure, LoadError)):
        return str(err)
    frames = [e for e in excinfo.traceback if "submission_" in str(e.frame.f_globals.get("__name__", ""))]
    if frames:  # raised in the student's file (e.g. from a method of their class, or their own assert)
        last = frames[-1]
        return (
            f"あなたのコードが例外を送出しました / your code raised {type(err).__name__}: {err}\n"
            f"  {Path(str(last.path)).name}, line {last.lineno + 1}: {str(last.statement).strip()}"
        )
    if isinstance(err, AssertionError):
        return str(err)
    return f"採点中に予期しないエラー / unexpected error while checking: {type(err).__name__}: {err}"


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ANN001
    results = config.stash[COLLECTOR].results()
    if not results.exercises:
        return
    console = Console(file=terminalreporter._tw._file, force_terminal=terminalreporter.hasmarkup)  # noqa: SLF001
    report.render(results, console, details=False)
