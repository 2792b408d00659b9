"""``python -m grader batch --nbgrader``: grade an nbgrader assignment, as ``nbgrader autograde`` would.

The batch runner (:mod:`grader.instructor.batch`) grades each submission in isolation;
then each student's scores go into nbgrader's gradebook (:mod:`.gradebook`) and into
the autograded notebooks that formgrader and feedback read (:mod:`.autograded`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from grader import registry
from grader.errors import GraderError
from grader.instructor import batch, staging
from grader.instructor.nbgrader import autograded, gradebook


def grade(
    course: gradebook.Course,
    out: Path,
    profile: str,
    limits: Any,
    executor: Any,
    progress: Any = None,
    *,
    check_first: bool = True,
    sandbox: bool = True,
) -> tuple[Path, dict[str, float]]:
    """Grade every submission of the assignment with the batch runner, then record it in the gradebook.

    Also writes the autograded notebooks (:mod:`grader.instructor.nbgrader.autograded`) that formgrader and
    ``nbgrader generate_feedback`` read. Returns grades.csv's path and each student's total
    in the gradebook. Students whose results are already in ``out`` with the same content
    hash are not graded again, but their scores are written again (the gradebook may be new).
    ``sandbox=False`` (``--unsafe-no-sandbox``) runs the workers without the OS sandbox.

    The gradebook and the autograded notebooks read staged copies of the notebooks (links
    refused, sizes bounded), as the batch did. Should recording one student fail, the others
    are still recorded, then :class:`~grader.errors.GraderError` names who is missing.
    """
    graded = gradebook.exercises(course)
    everyone = gradebook.submissions(course)
    settings = batch.Settings(tuple(ex.id for ex in graded), profile, limits, sandbox)
    csv_path = batch.run(
        course.root / course.coursedir.submitted_directory, out, settings, executor, progress, everyone, check_first=check_first
    )
    totals, failed = {}, []
    for student, folder in everyone:
        try:
            results = json.loads((batch.student_dir(out, student) / batch.RESULTS).read_text(encoding="utf-8"))
            notebooks = _staged_notebooks(folder, graded, out / staging.STAGING)
            totals[student] = gradebook.record(course, student, folder, results, graded, notebooks)
            autograded.write(course, student, folder, results, graded, profile, notebooks)
        except Exception as err:  # noqa: BLE001 - the kit failed for this student: record the others, then say so
            failed.append(f"{student}: {type(err).__name__}: {str(err)[:300]}")
    shutil.rmtree(out / staging.STAGING, ignore_errors=True)
    if failed:
        raise GraderError(
            "採点結果を nbgrader の gradebook に書けなかった学生がいます。原因を直して同じコマンドをもう一度実行してください / "
            f"the results of {len(failed)} student(s) could not be written into nbgrader's gradebook; fix the cause and "
            "run the same command again:\n" + "\n".join(failed[:20])
        )
    return csv_path, totals


def _staged_notebooks(folder: Path, graded: list[registry.Exercise], root: Path) -> dict[str, bytes]:
    """Each exercise's handed-in notebook, read as the batch staged it (a link or an oversized file is left out)."""
    staged = staging.stage(folder, graded, root)
    try:
        return {exercise_id: content for exercise_id, (suffix, content) in staged.files.items() if suffix == ".ipynb"}
    finally:
        staged.remove()
