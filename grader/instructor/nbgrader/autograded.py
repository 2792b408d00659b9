"""The notebooks ``nbgrader autograde`` would leave in ``autograded/``, from a batch's results.

formgrader opens them to show a submission, and ``nbgrader generate_feedback`` turns
them into the students' feedback. Each submitted notebook goes through nbgrader's own
sanitizing preprocessors (outputs cleared, kernelspec and every locked or graded cell
restored from the gradebook, as autograde does), then each test cell gets the output its
check gave: the pass line on stdout, or an error carrying the grader's report.
The student's own cells are not run again here, so they have no outputs.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

from grader import registry
from grader.notebook import Check, checks
from grader.instructor.nbgrader.gradebook import PASSED, Course


def write(course: Course, student: str, folder: Path, results: dict[str, Any], graded: list[registry.Exercise],
          profile: str) -> list[Path]:  # fmt: skip
    """Write ``autograded/<student>/<assignment>/<exercise>.ipynb`` for each notebook the student handed in."""
    import nbformat
    from nbgrader.preprocessors import ClearOutput, DeduplicateIds, OverwriteCells, OverwriteKernelspec

    dest = Path(course.coursedir.format_path(course.coursedir.autograded_directory, student, course.assignment))
    dest.mkdir(parents=True, exist_ok=True)
    if (folder / "timestamp.txt").is_file():
        shutil.copyfile(folder / "timestamp.txt", dest / "timestamp.txt")
    tests = {tuple(t["tags"][::2]): t for t in results.get("tests", [])}
    written = []
    for exercise in graded:
        source = folder / f"{exercise.id}.ipynb"
        if not source.is_file():
            continue
        notebook = nbformat.read(source, as_version=4)
        resources = {"nbgrader": {"notebook": exercise.id, "assignment": course.assignment, "student": student,
                                  "db_url": course.db_url}}  # fmt: skip
        for step in (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells):
            notebook, resources = step(config=course.config).preprocess(notebook, resources)
        by_grade_id = {c.grade_id: c for c in checks(exercise)}
        for cell in notebook.cells:
            check = by_grade_id.get(cell.metadata.get("nbgrader", {}).get("grade_id", ""))
            if check is not None and cell.cell_type == "code":
                cell.outputs = [_output(check, tests.get((exercise.id, check.name)), profile)]
        path = dest / f"{exercise.id}.ipynb"
        nbformat.write(notebook, path)
        written.append(path)
    return written


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
