"""``python -m grader nbgrader COURSE_DIR``: a ready nbgrader course for the chapter's exercises.

Writes ``COURSE_DIR/nbgrader_config.py`` and ``COURSE_DIR/source/<assignment>/<id>.ipynb``
for each exercise (:mod:`grader.instructor.nbgrader.source_notebook`). Then, in COURSE_DIR, the usual cycle:
``nbgrader generate_assignment <assignment>``, collect submissions into
``submitted/<student>/<assignment>/``, ``nbgrader autograde <assignment>`` (or
``python -m grader batch --nbgrader COURSE_DIR --assignment <assignment>``),
``nbgrader generate_feedback <assignment>``, ``nbgrader export``.

The config makes three choices (each explained in the file it writes):
solution regions outside functions leave a comment, not ``raise`` (grader/instructor/nbgrader/clear_solutions.py);
feedback hides the hidden tests' source; a cell may run for up to 10 minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader import registry
from grader.report import write_text_atomic

CONFIG = "nbgrader_config.py"
MARKER = "# Written by `python -m grader nbgrader`"

CONFIG_TEXT = MARKER + ''' (grader/instructor/nbgrader/course.py); it rewrites this file unless you remove this line.
"""nbgrader configuration for the PyTorch chapter's exercises."""

from nbgrader.converters import GenerateAssignment, GenerateFeedback
from nbgrader.preprocessors import ClearSolutions

from grader.instructor.nbgrader.clear_solutions import ClearHiddenTestsInFeedback, ClearSolutionsByPlace

c = get_config()  # noqa: F821 - nbgrader provides it

c.CourseDirectory.course_id = "{course_id}"

# The stub that replaces a solution region inside a function (in Japanese and English).
c.ClearSolutions.code_stub = {{"python": "# ここに解答を書いてください / YOUR CODE HERE\\nraise NotImplementedError()"}}

# A region at module or class level (the model answer's helpers) becomes a comment, not `raise`:
# the released cell must still define every name (grader/instructor/nbgrader/clear_solutions.py).
c.GenerateAssignment.preprocessors = [
    ClearSolutionsByPlace if p is ClearSolutions else p
    for p in GenerateAssignment.class_traits()["preprocessors"].default()
]

# Feedback shows each test's result, never the source of a hidden test.
c.GenerateFeedback.preprocessors = [*GenerateFeedback.class_traits()["preprocessors"].default(), ClearHiddenTestsInFeedback]

# A check may take a while with the grading profile (nbgrader's default is 30 s a cell).
c.Execute.timeout = 600
'''


def write_course(
    course_dir: Path,
    assignment: str = registry.DEFAULT_ASSIGNMENT,
    exercises: Sequence[registry.Exercise] = registry.EXERCISES,
    course_id: str = "pytorch-chapter",
) -> list[Path]:
    """Write the config (unless the instructor's own is there) and one source notebook per exercise."""
    import nbformat

    from grader.instructor.nbgrader import source_notebook

    if not assignment or any(ch in assignment for ch in "/\\") or assignment.startswith("."):
        raise ValueError(f"課題名 {assignment!r} は使えません / {assignment!r} is not a usable assignment name")
    course_dir = Path(course_dir)
    written = []
    config = course_dir / CONFIG
    if not config.exists() or config.read_text(encoding="utf-8").startswith(MARKER):
        write_text_atomic(config, CONFIG_TEXT.format(course_id=course_id))
        written.append(config)
    folder = course_dir / "source" / assignment
    for exercise in exercises:
        path = folder / f"{exercise.id}.ipynb"
        write_text_atomic(path, nbformat.writes(source_notebook.build(exercise)) + "\n")
        written.append(path)
    return written
