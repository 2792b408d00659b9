"""Load one exercise file from a target folder as a fresh module, whatever it contains.

A missing file, a syntax error or an exception at import becomes a :class:`LoadError`
that costs that exercise its points and nothing else.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

from grader.registry import Exercise


class LoadError(Exception):
    """The exercise file could not be loaded; ``str()`` is a bilingual explanation."""


def load_module(target: Path, exercise: Exercise) -> ModuleType:
    """Import ``target/<exercise>.py`` under a unique module name (so two targets never collide)."""
    path = (target / exercise.filename).resolve()
    if not path.is_file():
        raise LoadError(
            f"{exercise.filename} が {target} にありません / {exercise.filename} was not found in {target}"
        )
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"submission_{exercise.id}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # noqa: BLE001 - SystemExit at import must not end grading
        del sys.modules[name]
        raise LoadError(
            f"{exercise.filename} を読み込めませんでした / {exercise.filename} could not be imported:\n"
            + student_traceback(err, path)
        ) from None
    return module


def student_traceback(err: BaseException, path: Path) -> str:
    """The exception, with only the frames that lie in the student's file."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if Path(f.filename).resolve() == path]
    lines = [f"  {path.name}, line {f.lineno}: {(f.line or '').strip()}" for f in frames[-3:]]
    if isinstance(err, SyntaxError) and err.lineno is not None:
        lines.append(f"  {path.name}, line {err.lineno}: {(err.text or '').strip()}")
        return "\n".join(lines) + f"\n  SyntaxError: {err.msg}"
    return "\n".join(lines + [f"  {type(err).__name__}: {err}"])
