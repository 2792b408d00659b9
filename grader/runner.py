"""The one seam between the checks and the student's code.

Checks never import a submission: they ask the runner for an exercise and get a
:class:`Submission`, whose attributes are the names the student's file defines.
Functions are wrapped so that whatever they raise becomes a :class:`StudentError`
that carries the call's arguments as the example. This runner executes the code in
this process (handy for pdb and tracebacks); an isolating runner can offer the
same interface from a worker process.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.feedback import CheckFailure
from grader.loader import LoadError, load_module, student_traceback
from grader.registry import Exercise


class StudentError(CheckFailure):
    """The student's code raised; ``original`` is what it raised."""

    def __init__(self, what: str, original: BaseException, path: Path, example: dict[str, Any]) -> None:
        if isinstance(original, NotImplementedError):
            problem = f"{what} はまだ実装されていません / {what} is not implemented yet"
        else:
            problem = f"{what} が例外を送出しました / {what} raised an exception"
        super().__init__(problem, example=example, detail=student_traceback(original, path))
        self.original = original


class MissingName(CheckFailure, AttributeError):
    """The exercise file does not define a name the checks need."""


class Submission:
    """The names one exercise file defines, as the checks see them."""

    def __init__(self, exercise: Exercise, module: ModuleType, path: Path) -> None:
        self.exercise = exercise
        self._module = module
        self._path = path

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

    def _reporting(self, fn: Any) -> Any:
        signature = inspect.signature(fn)
        path = self._path

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except KeyboardInterrupt:
                raise
            except CheckFailure:
                raise
            except BaseException as err:  # noqa: BLE001 - SystemExit in student code is a failure, not an exit
                try:
                    example = dict(signature.bind(*args, **kwargs).arguments)
                except TypeError:
                    example = {"args": args, **kwargs}
                raise StudentError(f"{fn.__name__}(...)", err, path, example) from err

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
