"""``python -m grader batch --nbgrader``: grade an nbgrader assignment, as ``nbgrader autograde`` would.

The batch runner (:mod:`grader.instructor.batch`) grades each submission in isolation;
then each student's scores go into nbgrader's gradebook (:mod:`.gradebook`) and into
the autograded notebooks that formgrader and feedback read (:mod:`.autograded`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.instructor import batch
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
    """
    graded = gradebook.exercises(course)
    everyone = gradebook.submissions(course)
    settings = batch.Settings(tuple(ex.id for ex in graded), profile, limits, sandbox)
    csv_path = batch.run(
        course.root / course.coursedir.submitted_directory, out, settings, executor, progress, everyone, check_first=check_first
    )
    totals = {}
    for student, folder in everyone:
        results = json.loads((batch.student_dir(out, student) / batch.RESULTS).read_text(encoding="utf-8"))
        totals[student] = gradebook.record(course, student, folder, results, graded)
        autograded.write(course, student, folder, results, graded, profile)
    return csv_path, totals
