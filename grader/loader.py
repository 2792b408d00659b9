"""Load one exercise file from a target folder as a fresh module, whatever it contains.

The file is ``<id>.py`` or, failing that, a notebook ``<id>.ipynb`` whose code cells are
run in order (IPython magics and shell escapes are commented out). A missing file, a
syntax error or an exception at import becomes a :class:`LoadError` that costs that
exercise its points and nothing else.
"""

from __future__ import annotations

import hashlib
import linecache
import sys
import traceback
from pathlib import Path
from types import ModuleType

from grader.registry import Exercise


class LoadError(Exception):
    """The exercise file could not be loaded; ``str()`` is a bilingual explanation."""


def find_source(target: Path, exercise: Exercise) -> Path:
    """``target/<id>.py``, else ``target/<id>.ipynb``; :class:`LoadError` if neither exists."""
    for suffix in (".py", ".ipynb"):
        path = (target / exercise.id).with_suffix(suffix).resolve()
        if path.is_file():
            return path
    raise LoadError(
        f"{exercise.filename} が {target} にありません / {exercise.filename} was not found in {target}"
        f" (.py または .ipynb / .py or .ipynb)"
    )


def notebook_code(path: Path) -> str:
    """The code cells of a notebook as one script, magics (``%``, ``!``) commented out."""
    import nbformat  # only notebooks need it

    notebook = nbformat.read(path, as_version=4)
    cells = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        lines = [f"# {line}" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines()]
        cells.append(f"# --- cell {number} ---\n" + "\n".join(lines))
    return "\n\n".join(cells) + "\n"


def load_module(target: Path, exercise: Exercise) -> ModuleType:
    """Run the exercise's file as a module under a unique name (so two targets never collide)."""
    path = find_source(target, exercise)
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"submission_{exercise.id}_{digest}"
    module = ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    try:
        if path.suffix == ".ipynb":
            source = notebook_code(path)
            # tracebacks and inspect read source lines through linecache: give them the script, not the JSON
            linecache.cache[str(path)] = (len(source), None, source.splitlines(True), str(path))
        else:
            source = path.read_text(encoding="utf-8")
        exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - running the submission is the point
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
