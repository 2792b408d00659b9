"""One grading session: pytest with the grader's plugin, run on a folder, its results handed back.

What ``python -m grader check``, a class batch (per student) and the release builder all
call to grade; the pytest plugin (:mod:`grader.plugin`) does the grading itself.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from pathlib import Path

import pytest

from grader import profiles, registry
from grader.plugin import COLLECTOR
from grader.results import Results


class _Sink:
    """A pytest plugin that hands the collected results back to the caller."""

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
    files = [str(registry.check_file(ex)) for ex in exercises]
    # no:unraisableexception: that plugin turns an exception in a finaliser into a pytest warning,
    # which grading never reads, and pays two full garbage collections a session for it (0.2-0.7 s
    # in a process that grades many files: a class batch's pool, the kit's mutant groups).
    args = [*files, "-q", "-p", "no:cacheprovider", "-p", "no:unraisableexception"]
    args += ["--target", str(target), "--profile", profile, *extra_args]
    sink = _Sink()
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        code = pytest.main(args, plugins=[sink])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or sink.results is None:
        raise RuntimeError(f"pytest could not run the checks (exit code {int(code)}):\n{captured.getvalue()[-3000:]}")
    return sink.results
