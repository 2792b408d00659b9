"""One exercise as an nbgrader source notebook: prompt, solution cell, one test cell per check.

- a markdown prompt (read-only), from the stub's docstring, in Japanese and English;
- the solution cell: the stub with the model answer between SOLUTION markers
  (:mod:`grader.instructor.nbgrader.solution_code`);
- one autograded test cell per check (locked, ``grade_id`` = ``<short>_<check name>``,
  the check's points), calling :func:`grader.notebook.run_check`. A check that needs
  ``reference/`` (the answers) sits between HIDDEN TESTS markers: the release shows only
  its title, and nbgrader puts the call back when it autogrades.

Cell metadata holds nothing but nbgrader's own (schema version 3).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from grader.notebook import Check, checks
from grader.registry import Exercise
from grader.instructor.nbgrader.solution_code import solution_cell

KIT_ROOT = Path(__file__).resolve().parents[3]
SCHEMA_VERSION = 3

HOW_TO = (
    "**進め方 / How to work.** 下のセルの `raise NotImplementedError()` をあなたの実装に置き換えて実行し、"
    "続くテストのセルを上から順に実行してください。各テストは合格すると 1 行を表示し、不合格なら理由と"
    "最小の例とヒントを表示します。「非公開のテスト」は採点のときにだけ実行されます。"
    "テストのセルは編集しないでください (採点時に元に戻されます)。\n\n"
    "Replace `raise NotImplementedError()` in the cell below with your implementation, run it, then run "
    "the test cells in order. A passing test prints one line; a failing one shows why, the smallest "
    "example and a hint. Hidden tests run only when your work is graded. Do not edit the test cells "
    "(grading puts them back as they were)."
)


def build(exercise: Exercise, root: Path = KIT_ROOT) -> NotebookNode:
    """The source notebook of ``exercise`` (stub from ``exercises/``, answer from ``solutions/``)."""
    stub = (root / "exercises" / exercise.filename).read_text(encoding="utf-8")
    answer = (root / "solutions" / exercise.filename).read_text(encoding="utf-8")
    short = exercise.short
    cells = [
        _markdown(prompt(exercise, stub), f"{short}_prompt", locked=True),
        _code(solution_cell(stub, answer), f"{short}_solution", solution=True),
        _markdown("## テスト / Tests", f"{short}_tests_heading", locked=True),
    ]
    cells += [_code(test_source(check), check.grade_id, points=check.info.points) for check in checks(exercise)]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return notebook


def prompt(exercise: Exercise, stub: str) -> str:
    """The stub's module docstring as markdown: a title, the task, and how to work in the notebook."""
    doc = ast.get_docstring(ast.parse(stub)) or f"{exercise.title_ja} / {exercise.title_en}"
    first, *rest = doc.splitlines()
    body = [line for line in rest if not line.lstrip().startswith(("Check your work", "採点:"))]
    return "\n".join([f"# {_inline(first)}", *(_inline(line) if not line.startswith("    ") else line for line in body), "", HOW_TO])


def test_source(check: Check) -> str:
    """A test cell: the check's title as comments, then the call (between HIDDEN TESTS markers if it needs reference/)."""
    points = f"{check.info.points:g}"
    lines = [f"# {points} 点: {check.info.ja}", f"# {points} points: {check.info.en}"]
    call = ["from grader.notebook import run_check", f"run_check({check.exercise.short!r}, {check.name!r}, globals())"]
    if check.info.needs_reference:
        lines += ["# 非公開のテスト: 採点のときに実行されます / hidden test: it runs when your work is graded"]
        lines += ["### BEGIN HIDDEN TESTS", *call, "### END HIDDEN TESTS"]
    else:
        lines += call
    return "\n".join(lines)


def _inline(line: str) -> str:
    """Docstring prose as markdown: ``code`` becomes `code`; ``*`` and ``<`` outside code are escaped."""
    parts = re.split(r"(``[^`]+``|`[^`]+`)", line)
    out = []
    for part in parts:
        if part.startswith("`"):
            out.append("`" + part.strip("`") + "`")
        else:
            out.append(part.replace("\\", "\\\\").replace("*", r"\*").replace("<", "&lt;").replace("_", r"\_"))
    return "".join(out)


def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION, "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _markdown(source: str, grade_id: str, *, locked: bool) -> NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source, metadata=_meta(grade_id, locked=locked))
    cell.id = grade_id.replace("_", "-")
    return cell


def _code(source: str, grade_id: str, *, solution: bool = False, points: float | None = None) -> NotebookNode:
    grade = points is not None
    cell = nbformat.v4.new_code_cell(source, metadata=_meta(grade_id, grade=grade, solution=solution, locked=grade, points=points))
    cell.id = grade_id.replace("_", "-")
    return cell
