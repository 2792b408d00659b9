"""Run one graded check from a notebook cell: what an nbgrader test cell calls.

    from grader.notebook import run_check
    run_check("ex1", "test_last_token_values", globals())

The check runs here, in the kernel, on the names the notebook defined, through the same
pytest plugin as ``python -m grader check`` (so the same examples, comparisons and
messages). On a pass it prints one line on stdout and returns ``None``; on a failure it
raises :class:`CheckFailed` (an ``AssertionError``) whose text is the grader's bilingual
report: which check, the smallest example, expected against actual, a hint.

nbgrader scores a test cell 0 when its output holds an error *or anything on stderr*.
So a passing check leaves stderr empty: pytest captures the output of the check (file
descriptors included) and the warnings it raises; the warnings are summarised on stdout.

Hypothesis profile: ``$GRADER_PROFILE`` if set (``student``, ``grading`` or ``smoke``);
else ``grading`` when nbgrader runs the notebook (it sets ``NBGRADER_EXECUTION`` in the
kernel's environment for ``autograde`` and ``validate``), so that every student gets the
same examples and no example database; else ``student``.
"""

from __future__ import annotations

import contextlib
import io
import importlib
import os
import sys
import warnings
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
from rich.console import Console

from grader import profiles, registry, report
from grader.loader import LoadError
from grader.plugin import COLLECTOR, RUNNER
from grader.results import PASSED, CheckResult
from grader.runner import StudentError, Submission
from grader.spec import CheckInfo

KIT_DIRS = (Path(__file__).resolve().parent, Path(__file__).resolve().parent.parent / "reference")
PROFILE_ENV = "GRADER_PROFILE"


# -- the checks a notebook holds: one test cell per check --------------------------------------


@dataclass(frozen=True)
class Check:
    """One graded check: its function's name and what it declares."""

    exercise: registry.Exercise
    name: str  # e.g. "test_last_token_values"
    info: CheckInfo

    @property
    def grade_id(self) -> str:
        """Its nbgrader grade id, unique in an assignment: ``ex1_test_last_token_values``."""
        return f"{self.exercise.short}_{self.name}"

    def pass_line(self, profile: str) -> str:
        """What a test cell prints when the check passes."""
        points = f"{self.info.points:g}"
        return f"✓ {points} / {points}  {self.info.title}  [{self.exercise.short}, {profile}]"


def checks(exercise: registry.Exercise) -> list[Check]:
    """Every ``@check`` function of ``exercise``'s check module, in the order the file defines them."""
    module = importlib.import_module(exercise.check_module)
    found = []
    for name, value in vars(module).items():
        if not name.startswith("test_") or not callable(value):
            continue
        marks = [m for m in getattr(value, "pytestmark", []) if m.name == "check"]
        if marks:
            found.append(Check(exercise, name, marks[0].args[0]))
    return found


class CheckFailed(AssertionError):
    """A check failed; ``str()`` is the grader's report. Shown in a notebook without a traceback."""

    def _render_traceback_(self) -> list[str]:
        """IPython shows these lines instead of a traceback (which would print the test cell's source)."""
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m", *str(self).splitlines()]


def profile_for_kernel(environ: MutableMapping[str, str] = os.environ) -> str:
    """The hypothesis profile for a check run in a notebook (see the module docstring)."""
    chosen = environ.get(PROFILE_ENV, "").strip()
    if chosen:
        if chosen not in profiles.PROFILES:
            raise CheckFailed(f"{PROFILE_ENV}={chosen!r}: choose one of {', '.join(profiles.PROFILES)}")
        return chosen
    return profiles.GRADING if environ.get("NBGRADER_EXECUTION") else profiles.STUDENT


def run_check(exercise: str, check: str, namespace: MutableMapping[str, Any]) -> None:
    """Run the graded check ``check`` of ``exercise`` on ``namespace`` (a notebook's ``globals()``).

    Prints a pass line, or raises :class:`CheckFailed` with the failure report. Returns
    ``None`` on purpose: a number as a test cell's value would be partial credit to nbgrader.
    """
    try:
        ex = registry.find(exercise)
    except ValueError as err:
        raise CheckFailed(str(err)) from None
    profile = profile_for_kernel()
    session = _Session(NamespaceRunner(ex, namespace))
    args = [f"{registry.check_file(ex)}::{check}", "-p", "no:cacheprovider", "-p", "no:faulthandler",
            "-p", "no:xdist", "-p", "no:terminal", "--profile", profile, "--target", "."]  # fmt: skip
    captured = io.StringIO()
    with _kernel_state_kept(), _as_submission(namespace, ex), warnings.catch_warnings():
        warnings.simplefilter("always")  # pytest records each warning of the check, even one seen before
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            code = pytest.main(args, plugins=[session])
    result = _find(session, ex, check)
    if result is None:
        known = ", ".join(c.name for c in checks(ex))
        raise CheckFailed(
            f"採点器が {ex.id} の {check} を実行できませんでした / the grader could not run {check} of {ex.id} "
            f"(pytest exit code {int(code)}; checks of {ex.id}: {known}):\n{captured.getvalue()[-3000:]}"
        )
    if result.status != PASSED or session.violations:
        raise CheckFailed(_failure_text(result))
    print(Check(result.exercise, result.name, result.info).pass_line(profile))
    for line in _warning_lines(session.warnings):
        print(line)


class NamespaceRunner:
    """The runner the checks get in a notebook: the student's names, from the kernel's namespace."""

    def __init__(self, exercise: registry.Exercise, namespace: MutableMapping[str, Any]) -> None:
        self.exercise = exercise
        module = ModuleType(_module_name(exercise))
        module.__dict__.update(namespace)
        self._submission = NotebookSubmission(exercise, module, Path(f"{exercise.id}.ipynb"))

    def load(self, exercise: registry.Exercise) -> Submission:
        if exercise.id != self.exercise.id:
            raise LoadError(f"{exercise.id} はこのノートブックにありません / {exercise.id} is not this notebook's exercise")
        return self._submission

    def violations(self, exercise: registry.Exercise) -> list[str]:
        return []

    def close(self) -> None:
        """Nothing to stop."""


class NotebookSubmission(Submission):
    """A :class:`Submission` whose code lives in notebook cells rather than in one file."""

    def error(self, what: str, err: BaseException, example: dict[str, Any]) -> StudentError:
        return StudentError(what, err, example, _cell_traceback(err))


class _Session:
    """A pytest plugin for one run: puts the notebook's runner in place, keeps results and warnings."""

    def __init__(self, runner: NamespaceRunner) -> None:
        self.runner = runner
        self.results: Any = None
        self.warnings: list[str] = []
        self.violations: list[str] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef, request: pytest.FixtureRequest) -> Any:
        """The ``runner`` fixture (grader/plugin.py) is this notebook's namespace, not a target folder."""
        if fixturedef.argname != "runner":
            return None
        fixturedef.cached_result = (self.runner, fixturedef.cache_key(request), None)
        request.config.stash[RUNNER] = self.runner
        return self.runner

    def pytest_warning_recorded(self, warning_message: warnings.WarningMessage, when: str, nodeid: str, location: Any) -> None:
        if when == "runtest":  # the check's own (pytest's, at start-up, are no news to a student)
            self.warnings.append(f"{warning_message.category.__name__}: {warning_message.message}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.results = session.config.stash[COLLECTOR].results()


def _find(session: _Session, exercise: registry.Exercise, check: str) -> CheckResult | None:
    if session.results is None:
        return None
    for ex in session.results.exercises:
        if ex.exercise.id == exercise.id:
            session.violations = ex.violations
            return next((c for c in ex.checks if c.name == check and c.cases), None)
    return None


def _failure_text(result: CheckResult) -> str:
    text = io.StringIO()
    console = Console(file=text, width=100, no_color=True, force_terminal=False, force_jupyter=False, soft_wrap=True)
    console.print(f"{result.exercise.id}: {result.exercise.title_ja} / {result.exercise.title_en}")
    for line in report.check_lines(result, details=True):
        console.print(line)
    return text.getvalue().rstrip()


def _warning_lines(found: list[str], limit: int = 3) -> list[str]:
    unique = list(dict.fromkeys(found))
    lines = [f"  警告 / warning: {w.splitlines()[0][:200]}" for w in unique[:limit]]
    if len(unique) > limit:
        lines.append(f"  (ほか {len(unique) - limit} 件 / {len(unique) - limit} more)")
    return lines


def _module_name(exercise: registry.Exercise) -> str:
    return f"submission_{exercise.id}_notebook"


@contextlib.contextmanager
def _as_submission(namespace: MutableMapping[str, Any], exercise: registry.Exercise) -> Iterator[None]:
    """While the check runs, the notebook's code counts as the submission's (grader.plugin.explain looks at __name__)."""
    had, previous = "__name__" in namespace, namespace.get("__name__")
    namespace["__name__"] = _module_name(exercise)
    try:
        yield
    finally:
        if had:
            namespace["__name__"] = previous
        else:
            del namespace["__name__"]


@contextlib.contextmanager
def _kernel_state_kept() -> Iterator[None]:
    """The student's kernel keeps its random state and thread count (the grader sets one thread)."""
    threads = torch.get_num_threads()
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        torch.set_num_threads(threads)


def _cell_traceback(err: BaseException) -> str:
    """The exception, with only the frames from notebook cells (not the kit, not installed packages)."""
    import traceback

    frames = [f for f in traceback.extract_tb(err.__traceback__) if _is_cell(f.filename)]
    lines = [f"  cell, line {f.lineno}: {(f.line or '').strip()}" for f in frames[-3:]]
    return "\n".join(lines + [f"  {type(err).__name__}: {err}"])


def _is_cell(filename: str) -> bool:
    path = Path(filename)
    if filename.startswith("<") and "ipython-input" not in filename:
        return False
    prefixes = {Path(sys.prefix), Path(sys.base_prefix), *KIT_DIRS}
    return not any(path.is_relative_to(p) for p in prefixes) and "site-packages" not in path.parts
