"""The one seam between the checks and the student's code.

Checks never import a submission: they ask the runner for an exercise and get a
:class:`Submission`. Two kinds of access go through it:

- ``student.name(...)`` calls a function of the student's file with data (tensors,
  numbers) and returns data. Whatever the function raises becomes a
  :class:`StudentError` that carries the call's arguments as the example.
- ``student.run(driver, ...)`` runs a *driver*: the part of a check that builds and
  uses the student's objects (modules, schedulers, autograd graphs). A driver takes
  and returns data only, and never uses ``reference``, because it runs wherever the
  student's code runs: in this process (:class:`InProcessRunner`, handy for pdb and
  tracebacks) or in an isolated worker process (:mod:`grader.isolation.runner`). Everything
  it returns is compared in the grading process, by the check.
"""

from __future__ import annotations

import builtins
import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.feedback import CheckFailure
from grader.loader import LoadError, load_module, student_traceback
from grader.probing.seal import INSTRUMENTS, protect, protect_entry, verify
from grader.registry import Exercise


#: Every driver, by "module:qualname": how a worker finds the one a check asked for.
DRIVERS: dict[str, Callable[..., Any]] = {}


def driver(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Register ``fn(student, *data) -> data`` as a driver (see the module docstring).

    A driver that measures structure (its code calls one of :data:`~grader.probing.seal.INSTRUMENTS`)
    is registered, and returned, behind a check of the grader's own code: first and last it
    verifies that the student's code rewrote none of it (:mod:`grader.probing.seal`), so that
    rebinding a name the driver uses (``drivers.aten_ops = ...``) fails the check instead of
    faking its measurement. Other drivers return values the checks compare with the
    reference's: a rewritten driver could only fake what the student's own code can return.
    """
    key = driver_key(fn)
    if not INSTRUMENTS & set(fn.__code__.co_names):
        DRIVERS[key] = fn
        protect_entry(DRIVERS, key, "grader.runner.DRIVERS")
        return fn

    @functools.wraps(fn)
    def measuring(*args: Any, **kwargs: Any) -> Any:
        verify()
        try:
            return fn(*args, **kwargs)
        finally:
            verify()

    DRIVERS[key] = measuring
    protect_entry(DRIVERS, key, "grader.runner.DRIVERS")
    return measuring


def driver_key(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


class StudentError(CheckFailure):
    """The student's code raised; ``original`` is what it raised (rebuilt as a built-in type when it came from a worker)."""

    def __init__(
        self, what: str, original: BaseException, example: dict[str, Any], detail: str, *, problem: str | None = None
    ) -> None:
        if problem is None:  # otherwise worded where the error was seen (in a worker, say)
            problem = (
                f"{what} はまだ実装されていません / {what} is not implemented yet"
                if isinstance(original, NotImplementedError)
                else f"{what} が例外を送出しました / {what} raised an exception"
            )
        super().__init__(problem, example=example, detail=detail)
        self.original = original


class MissingName(CheckFailure, AttributeError):
    """The exercise file does not define a name the checks need."""


def builtin_exception(type_names: list[str], message: str) -> BaseException:
    """The most specific built-in exception among ``type_names`` (an MRO), holding ``message``."""
    for name in type_names:
        kind = getattr(builtins, name, None)
        if isinstance(kind, type) and issubclass(kind, BaseException):
            try:
                return kind(message)
            except Exception:
                continue
    return Exception(message)


class Submission:
    """The names one exercise file defines, as the checks (and drivers) see them."""

    def __init__(self, exercise: Exercise, module: ModuleType, path: Path) -> None:
        self.exercise = exercise
        self.path = path
        self._module = module

    def __getattr__(self, name: str) -> Any:
        try:
            value = getattr(self._module, name)
        except AttributeError:
            raise MissingName(
                f"{self.exercise.filename} に {name} が定義されていません / "
                f"{self.exercise.filename} does not define {name}"
            ) from None
        if inspect.isfunction(value):
            return self._reporting(value)
        return value

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run the driver ``fn`` on this submission, here in this process."""
        return fn(self, *args, **kwargs)

    def error(self, what: str, err: BaseException, example: dict[str, Any]) -> StudentError:
        """A :class:`StudentError` for ``err``, raised by the student's code while doing ``what``."""
        return StudentError(what, err, example, student_traceback(err, self.path))

    def begin_check(self) -> None:
        """Called before each check; nothing to reset when the code runs in this process."""

    def _reporting(self, fn: Any) -> Any:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except KeyboardInterrupt:
                raise
            except CheckFailure:
                raise
            except BaseException as err:
                try:
                    example = dict(signature.bind(*args, **kwargs).arguments)
                except TypeError:
                    example = {"args": args, **kwargs}
                raise self.error(f"{fn.__name__}(...)", err, example) from err

        return call


class InProcessRunner:
    """Loads exercises from ``target`` into this process, once each."""

    def __init__(self, target: Path) -> None:
        self.target = Path(target)
        self._loaded: dict[str, Submission | LoadError] = {}

    def load(self, exercise: Exercise) -> Submission:
        """The student's exercise; raises :class:`LoadError` if the file cannot be loaded."""
        if exercise.id not in self._loaded:
            try:
                module = load_module(self.target, exercise)
                self._loaded[exercise.id] = Submission(exercise, module, Path(module.__file__))
            except LoadError as err:
                self._loaded[exercise.id] = err
        loaded = self._loaded[exercise.id]
        if isinstance(loaded, LoadError):
            raise loaded
        return loaded

    def violations(self, exercise: Exercise) -> list[str]:
        """Forbidden actions the submission attempted; only an isolated runner can see them."""
        return []

    def close(self) -> None:
        """Nothing to stop."""


protect(__name__)
