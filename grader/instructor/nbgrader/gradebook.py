"""An nbgrader course as ``grader batch`` sees it: its submissions in, its gradebook out.

``python -m grader batch --nbgrader COURSE_DIR --assignment ID`` grades
``submitted/<student>/<assignment>/<exercise>.ipynb`` with the batch runner (see
:mod:`grader.instructor.nbgrader.autograde`) and then this module writes each check's score into nbgrader's gradebook through nbgrader's own API
(:class:`nbgrader.api.Gradebook`), as ``nbgrader autograde`` would: the student is
created if new, the submission (with its ``timestamp.txt``) registered, every grade
cell's ``auto_score`` set, solution cells left untouched commented "No response.", and
late penalties assigned by the course's late-submission plugin. ``nbgrader export`` and
formgrader then show the scores.

The notebooks it reads are the batch's staged copies (:mod:`grader.instructor.staging`:
links refused, sizes bounded), never the student's folder, and a notebook is readable
here exactly when the worker could read it (:func:`grader.loader.notebook_cells`): an
invalid or hand-edited one is that student's load error in both places, never a crash.
A cell whose grade id the assignment does not know (a student's own, or a renamed one)
is left alone.

A grade cell is worth its points when its check passed in every case that ran, and 0
otherwise: nbgrader grades a test cell all or nothing, and so does this.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import registry
from grader.loader import LoadError, notebook_cells
from grader.notebook import Check, checks

PASSED = "passed"


class CourseError(Exception):
    """The course cannot be graded as asked; ``str()`` says why, in Japanese and English."""


@dataclass
class Course:
    """One assignment of an nbgrader course: its folders and gradebook, as its config sets them."""

    root: Path
    assignment: str
    config: Any  # traitlets Config, from COURSE_DIR/nbgrader_config.py
    coursedir: Any  # nbgrader.coursedir.CourseDirectory

    @property
    def db_url(self) -> str:
        return self.coursedir.db_url

    def gradebook(self) -> Any:
        from nbgrader.api import Gradebook

        return Gradebook(self.db_url, self.coursedir.course_id)


def open_course(root: Path, assignment: str) -> Course:
    """The course in ``root`` (its nbgrader_config.py, if any), for ``assignment``."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve()
    if not root.is_dir():
        raise CourseError(f"コースのフォルダ {root} がありません / the course folder {root} does not exist")
    config = Config()
    if (root / "nbgrader_config.py").is_file():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    coursedir = CourseDirectory(config=config)
    coursedir.root = str(root)
    return Course(root, assignment, config, coursedir)


def exercises(course: Course) -> list[registry.Exercise]:
    """The exercises whose notebooks the assignment holds (as ``nbgrader generate_assignment`` recorded it)."""
    from nbgrader.api import MissingEntry

    with course.gradebook() as gb:
        try:
            names = [nb.name for nb in gb.find_assignment(course.assignment).notebooks]
        except MissingEntry:
            raise CourseError(
                f"課題 {course.assignment} が成績簿にありません。先に nbgrader generate_assignment {course.assignment} "
                f"を実行してください / assignment {course.assignment} is not in the gradebook: run "
                f"`nbgrader generate_assignment {course.assignment}` first"
            ) from None
    known = {ex.id: ex for ex in registry.EXERCISES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise CourseError(
            f"採点器の知らないノートブックがあります / notebooks the grader does not know: {', '.join(unknown)} "
            f"(use `nbgrader autograde` for those)"
        )
    return [known[n] for n in names]


def submissions(course: Course) -> list[tuple[str, Path]]:
    """``(student_id, folder)`` for each ``submitted/<student_id>/<assignment>/`` folder, sorted."""
    step = course.coursedir.submitted_directory
    pattern = course.coursedir.format_path(step, "*", course.assignment)
    regexp = course.coursedir.format_path(step, "(?P<student_id>[^/]+)", re.escape(course.assignment), escape=True)
    found = []
    for folder in glob.glob(pattern):
        match = re.fullmatch(regexp, folder)
        if match and os.path.isdir(folder):
            found.append((match.group("student_id"), Path(folder)))
    if not found:
        raise CourseError(
            f"{pattern} に提出がありません / no submissions at {pattern} "
            "(nbgrader collect, or place them as submitted/<student_id>/<assignment>/<exercise>.ipynb)"
        )
    return sorted(found)


def submitted_notebook(content: bytes, name: str) -> tuple[Any | None, str]:
    """``(notebook, "")`` as nbformat reads a handed-in notebook, or ``(None, why)`` when it is unreadable."""
    import nbformat

    try:
        notebook_cells(content, name)
        return nbformat.reads(content.decode("utf-8"), as_version=4), ""
    except LoadError as err:
        return None, str(err)
    except Exception as err:  # noqa: BLE001 - nbformat refuses what the worker read: unreadable all the same
        return None, f"{name}: {type(err).__name__}: {str(err)[:300]}"


def record(course: Course, student: str, folder: Path, results: dict[str, Any], graded: list[registry.Exercise],
           notebooks: dict[str, bytes]) -> float:  # fmt: skip
    """Write one student's results (results.json's content) into the gradebook; return their total score.

    ``notebooks`` maps an exercise id to the staged bytes of the notebook handed in for it;
    ``folder`` (the student's submitted folder) is read for its ``timestamp.txt`` only.
    """
    from nbgrader.api import MissingEntry

    passed = {tuple(t["tags"][::2]): t["status"] == PASSED for t in results.get("tests", [])}
    scored = {e for e, r in results.get("exercises", {}).items() if r.get("score") is not None}
    timestamp = course.coursedir.get_existing_timestamp(str(folder))
    with course.gradebook() as gb:
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(course.assignment, student, **({"timestamp": timestamp} if timestamp else {}))
        for exercise in graded:
            by_grade_id = {c.grade_id: c for c in checks(exercise)}
            notebook = gb.find_submission_notebook(exercise.id, course.assignment, student)
            for grade in notebook.grades:
                check: Check | None = by_grade_id.get(grade.name)
                if check is None:
                    continue  # not one of ours (a manually graded cell, say): left as it is
                if exercise.id not in scored:  # the kit failed to grade it: no score, for a person to look at
                    grade.auto_score, grade.needs_manual_grade = None, True
                    continue
                ok = exercise.id in notebooks and passed.get((exercise.id, check.name), False)
                grade.auto_score = grade.max_score if ok else 0.0
                grade.needs_manual_grade = grade.manual_score is not None
            if exercise.id in notebooks:
                _comment_answers(gb, exercise, course.assignment, student, notebooks[exercise.id])
        gb.db.commit()
        _late_penalties(course, gb, student, graded)
        try:
            return gb.find_submission(course.assignment, student).score
        except MissingEntry:  # pragma: no cover - it was created above
            return submission.score


def _comment_answers(gb: Any, exercise: registry.Exercise, assignment: str, student: str, content: bytes) -> None:
    """As nbgrader's autograde does: a solution cell left as released gets the comment "No response."."""
    from nbgrader import utils
    from nbgrader.api import MissingEntry

    notebook, _ = submitted_notebook(content, f"{exercise.id}.ipynb")
    if notebook is None:
        return  # unreadable: its load error is in the results, and there is nothing to comment on
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution") or not isinstance(meta.get("grade_id"), str):
            continue
        try:
            comment = gb.find_comment(meta["grade_id"], exercise.id, assignment, student)
        except MissingEntry:
            continue  # a grade id the assignment does not have: not one of its answer cells
        try:
            unchanged = meta.get("checksum") == utils.compute_checksum(cell)
        except (TypeError, ValueError):  # points edited into something that is not a number
            unchanged = False
        comment.auto_comment = "No response." if unchanged else None


def _late_penalties(course: Course, gb: Any, student: str, graded: list[registry.Exercise]) -> None:
    """The course's late-submission plugin (nbgrader's AssignLatePenalties), per notebook."""
    from nbgrader.preprocessors import AssignLatePenalties

    submission = gb.find_submission(course.assignment, student)
    assigner = AssignLatePenalties(config=course.config)
    assigner.init_plugin()
    for exercise in graded:
        notebook = gb.find_submission_notebook(exercise.id, course.assignment, student)
        notebook.late_submission_penalty = None
        if submission.total_seconds_late > 0:
            penalty = assigner.plugin_inst.late_submission_penalty(student, notebook.score, submission.total_seconds_late)
            if penalty is not None:
                notebook.late_submission_penalty = min(max(penalty, 0), notebook.score)
    gb.db.commit()
