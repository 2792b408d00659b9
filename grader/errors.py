"""Failures of the kit or the machine: never a student's failure, never a student's score.

A :class:`GraderError` says that an exercise could not be graded (a worker that died
before the student's file started to run, a guard that could not be installed, CUDA
that could not initialise, a fork server that could not start). It is not a
:class:`~grader.feedback.CheckFailure`: the exercise gets no score at all, the report
says so loudly, ``grader check`` exits with :data:`EXIT_GRADER_ERROR`, and ``batch``
flags it (``ex1:grader_error``) and grades that student again on the next run.
"""

from __future__ import annotations

#: The exit status of ``python -m grader`` when the kit or the machine failed to grade something.
EXIT_GRADER_ERROR = 4

#: What the student (and the instructor) read first about a grader error.
NOT_YOUR_CODE = (
    "採点器のエラーです。あなたのコードのせいではありません。この課題は採点されていません (点数なし) / "
    "grader error: the kit or the machine failed, not your code. This exercise was not graded (no score)"
)


class GraderError(Exception):
    """The kit or the machine failed; ``str()`` says what failed, for the instructor."""
