"""The notebooks ``nbgrader autograde`` would leave in ``autograded/``, from a batch's results.

formgrader opens them to show a submission, and ``nbgrader generate_feedback`` turns
them into the students' feedback. Each submitted notebook goes through nbgrader's own
sanitizing preprocessors (outputs cleared, kernelspec and every locked or graded cell
restored from the gradebook, as autograde does), then each test cell gets the output its
check gave: the pass line on stdout, or an error carrying the grader's report.
The student's own cells are not run again here, so they have no outputs.

A handed-in notebook that cannot be read (see :func:`.gradebook.submitted_notebook`), or
that nbgrader's preprocessors cannot sanitize, is replaced by the released notebook with a
note on top saying why, so that formgrader and the feedback still show every check's result.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

from grader import registry
from grader.notebook import Check, checks
from grader.instructor.nbgrader.gradebook import PASSED, Course, submitted_notebook

UNREADABLE = (
    "**提出されたノートブックを読めませんでした。以下は配布したノートブックに採点結果を入れたものです / "
    "The notebook handed in could not be read: below is the released notebook, with the results of the checks.**"
)


def write(course: Course, student: str, folder: Path, results: dict[str, Any], graded: list[registry.Exercise],
          profile: str, notebooks: dict[str, bytes]) -> list[Path]:  # fmt: skip
    """Write ``autograded/<student>/<assignment>/<exercise>.ipynb`` for each notebook the student handed in.

    ``notebooks`` maps an exercise id to the staged bytes of that notebook; ``folder`` (the
    student's submitted folder) is read for its ``timestamp.txt`` only.
    """
    import nbformat

    dest = Path(course.coursedir.format_path(course.coursedir.autograded_directory, student, course.assignment))
    dest.mkdir(parents=True, exist_ok=True)
    if (folder / "timestamp.txt").is_file():
        shutil.copyfile(folder / "timestamp.txt", dest / "timestamp.txt")
    tests = {tuple(t["tags"][::2]): t for t in results.get("tests", [])}
    written = []
    for exercise in graded:
        if exercise.id not in notebooks:
            continue
        notebook = _sanitized(course, student, exercise, notebooks[exercise.id])
        if notebook is None:
            continue  # unreadable, and the course has no released notebook to stand in for it
        by_grade_id = {c.grade_id: c for c in checks(exercise)}
        for cell in notebook.cells:
            check = by_grade_id.get(cell.metadata.get("nbgrader", {}).get("grade_id", ""))
            if check is not None and cell.cell_type == "code":
                cell.outputs = [_output(check, tests.get((exercise.id, check.name)), profile)]
        path = dest / f"{exercise.id}.ipynb"
        nbformat.write(notebook, path)
        written.append(path)
    return written


def _sanitized(course: Course, student: str, exercise: registry.Exercise, content: bytes) -> Any | None:
    """The notebook through nbgrader's sanitizing preprocessors, as autograde leaves it; the released one,
    with a note, when the handed-in one cannot be read or sanitized; None when there is no released one."""
    import nbformat
    from nbgrader.preprocessors import ClearOutput, DeduplicateIds, OverwriteCells, OverwriteKernelspec

    resources = {"nbgrader": {"notebook": exercise.id, "assignment": course.assignment, "student": student,
                              "db_url": course.db_url}}  # fmt: skip
    steps = (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells)
    notebook, why = submitted_notebook(content, f"{exercise.id}.ipynb")
    if notebook is not None:
        try:
            for step in steps:
                notebook, _ = step(config=course.config).preprocess(notebook, dict(resources))
            return _without_unknown_cells(notebook)
        except Exception as err:  # noqa: BLE001 - a hand-edited notebook nbgrader cannot sanitize
            why = f"{exercise.id}.ipynb: {type(err).__name__}: {str(err)[:300]}"
    released = Path(course.coursedir.format_path(course.coursedir.release_directory, ".", course.assignment))
    released /= f"{exercise.id}.ipynb"
    if not released.is_file():
        return None
    notebook = nbformat.read(released, as_version=4)
    for step in steps:
        notebook, _ = step(config=course.config).preprocess(notebook, dict(resources))
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(f"{UNREADABLE}\n\n```\n{why}\n```"))
    return notebook


def _without_unknown_cells(notebook: Any) -> Any:
    """Cells the gradebook does not know become the student's plain cells.

    OverwriteCells deletes the ``grade_id`` of a cell whose id is not in the database (a
    renamed cell), but keeps the rest of its nbgrader metadata; ``generate_feedback`` then
    fails on that cell (KeyError: 'grade_id') for the whole assignment.
    """
    for cell in notebook.cells:
        if "nbgrader" in cell.metadata and "grade_id" not in cell.metadata.nbgrader:
            del cell.metadata["nbgrader"]
    return notebook


def _output(check: Check, test: dict[str, Any] | None, profile: str) -> Any:
    """What the test cell printed in the kernel: the pass line, or the failure as an error (nbgrader: 0 points)."""
    import nbformat

    points = f"{check.info.points:g}"
    if test is not None and test["status"] == PASSED:
        return nbformat.v4.new_output("stream", name="stdout", text=check.pass_line(profile) + "\n")
    report = (test or {}).get("output") or "採点されませんでした / not graded"
    lines = [
        f"{check.exercise.id}: {check.exercise.title_ja} / {check.exercise.title_en}",
        f"  ✗     0 / {points:<3} {check.info.title}",
        textwrap.indent(report, " " * 6),
    ]
    return nbformat.v4.new_output("error", ename="CheckFailed", evalue=check.info.title, traceback="\n".join(lines).splitlines())
