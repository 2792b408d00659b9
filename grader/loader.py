"""Load one exercise file from a target folder as a fresh module, whatever it contains.

The file is ``<id>.py`` or, failing that, a notebook ``<id>.ipynb`` whose code cells are
run in order (IPython magics and shell escapes are commented out). A missing file, a
syntax error or an exception at import becomes a :class:`LoadError` that costs that
exercise its points and nothing else.

An nbgrader notebook (its cells carry ``nbgrader`` metadata) is run the way nbgrader's
autograde runs it: cell by cell, a cell that raises does not stop the next ones, and its
autograder test cells (``grade`` and not ``solution``) are left out: they only call the
grader, which grades the student's names itself.
"""

from __future__ import annotations

import __future__

import ast
import hashlib
import json
import linecache
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from grader.registry import Exercise

#: Phrases found in every message of a file that could not be loaded (an instructor's tools
#: flag the exercise ``load_error`` by them): a missing file, an import that failed, and a
#: notebook that is no notebook (:func:`notebook_cells`).
LOAD_ERROR_PHRASES = (
    "was not found in", "could not be imported",
    "is not a readable notebook", "cannot be upgraded to nbformat 4", "has no list of cells", "is malformed (",
)  # fmt: skip


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


@dataclass(frozen=True)
class NotebookCode:
    """A notebook's code as one script, and where each cell starts in it."""

    script: str
    cells: list[tuple[int, str]]  # (line offset of the cell's first line in script, the cell's code)
    nbgrader: bool  # whether nbgrader's metadata marks it: run cell by cell, as autograde does


def is_autograder_test(cell: dict) -> bool:
    """An nbgrader "autograder tests" cell: graded, and not the student's answer."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def read_notebook(path: Path) -> NotebookCode:
    """The student's code cells, magics (``%``, ``!``) commented out; nbgrader's test cells left out."""
    notebook_cells = _cells(path)
    nbgrader = any("nbgrader" in cell.get("metadata", {}) for cell in notebook_cells)
    parts: list[str] = []
    cells: list[tuple[int, str]] = []
    line = 0
    for number, cell in enumerate(notebook_cells, start=1):
        if cell.get("cell_type") != "code" or is_autograder_test(cell):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        code = "\n".join(f"# {l}" if l.lstrip().startswith(("%", "!")) else l for l in source.splitlines())
        header = f"# --- cell {number} ---"
        cells.append((line + 1, code))
        parts.append(f"{header}\n{code}")
        line += 2 + code.count("\n") + 1  # header, code, blank line between cells
    return NotebookCode("\n\n".join(parts) + "\n", cells, nbgrader)


def _cells(path: Path) -> list[dict]:
    """A notebook's cells as plain dicts (see :func:`notebook_cells`)."""
    return notebook_cells(path.read_bytes(), path.name)


def notebook_cells(content: bytes, name: str) -> list[dict]:
    """A notebook's cells as plain dicts, or :class:`LoadError` saying what makes it no notebook.

    The one test of a readable notebook, for the worker that runs it and for the gradebook
    that records it (``grader/instructor/nbgrader``), so that both agree. Read as JSON
    (nbformat's import alone takes most of a second, in every worker), through nbformat only
    for a notebook older than format 4. Every cell must be an object with a string
    ``cell_type``, a ``source`` that is a string or a list of strings, and object ``metadata``,
    whose ``nbgrader`` entry, if any, is an object: a notebook edited by hand into anything
    else is refused here rather than half-read.
    """
    try:
        notebook = json.loads(content.decode("utf-8"))
    except ValueError as err:  # not UTF-8, or not JSON
        raise LoadError(
            f"{name} はノートブック (JSON) として読めません / {name} is not a readable notebook (JSON): {str(err)[:200]}"
        ) from None
    if isinstance(notebook, dict) and isinstance(notebook.get("nbformat"), int) and notebook["nbformat"] < 4:
        import nbformat

        try:
            notebook = json.loads(nbformat.writes(nbformat.reads(content.decode("utf-8"), as_version=4)))
        except Exception as err:  # noqa: BLE001 - whatever nbformat finds wrong with an old notebook
            raise LoadError(f"{name} を nbformat 4 に変換できません / {name} cannot be upgraded to nbformat 4: {err}") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise LoadError(f"{name} に cells のリストがありません / {name} has no list of cells: not a notebook")
    for number, cell in enumerate(cells, start=1):
        why = _malformed(cell)
        if why:
            raise LoadError(
                f"{name} のセル {number} が壊れています ({why})。Jupyter で開き直して保存してください / cell {number} "
                f"of {name} is malformed ({why}): open the notebook in Jupyter and save it again"
            )
    return cells


def _malformed(cell: object) -> str | None:
    """What is wrong with one notebook cell, or None."""
    if not isinstance(cell, dict):
        return "not an object"
    if not isinstance(cell.get("cell_type"), str):
        return "cell_type is not a string"
    source = cell.get("source", "")
    if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
        return "source is not text"
    metadata = cell.get("metadata", {})
    if not isinstance(metadata, dict):
        return "metadata is not an object"
    if not isinstance(metadata.get("nbgrader", {}), dict):
        return "metadata.nbgrader is not an object"
    return None


def notebook_code(path: Path) -> str:
    """The student's code cells of a notebook as one script (see :func:`read_notebook`)."""
    return read_notebook(path).script


_FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag


def run_cells(code: NotebookCode, path: Path, namespace: dict) -> list[BaseException]:
    """Run each cell in ``namespace`` as a kernel would: an error ends that cell only. Returns the errors.

    A ``from __future__`` import holds for the cells after it, as in IPython.
    """
    errors: list[BaseException] = []
    flags = 0
    for offset, cell in code.cells:
        try:
            tree = ast.parse(cell, str(path))
            ast.increment_lineno(tree, offset)
            compiled = compile(tree, str(path), "exec", flags=flags, dont_inherit=True)
            flags |= compiled.co_flags & _FUTURE_FLAGS
            exec(compiled, namespace)  # noqa: S102 - running the submission is the point
        except KeyboardInterrupt:
            raise
        except BaseException as err:  # noqa: BLE001 - SystemExit in a cell ends that cell, as in a kernel
            errors.append(err)
    return errors


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
            code = read_notebook(path)
            source = code.script
            # tracebacks and inspect read source lines through linecache: give them the script, not the JSON
            linecache.cache[str(path)] = (len(source), None, source.splitlines(True), str(path))
            if code.nbgrader:
                run_cells(code, path, module.__dict__)
                return module
        else:
            source = path.read_text(encoding="utf-8")
        exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - running the submission is the point
    except KeyboardInterrupt:
        raise
    except LoadError:  # the notebook itself is unreadable: its message says why
        del sys.modules[name]
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
