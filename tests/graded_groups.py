"""Grading the kit's test files in groups: one grader process per exercise, shared by every test module.

Mutants, variants and real-code files (tests/mutants, tests/variants, tests/real) are
graded in one process per exercise (see tests.grading.grade_files): its start (Python,
torch, pytest) and an exercise's first grade (its checks' import and first use of torch,
the oracle's memo of reference results: every file of an exercise is graded on the same
examples) are then paid once per exercise. Measured on 2026-12-05 (2 cores, CPU seconds),
each exercise's files graded in one process: ex1 17, ex2 51, ex3 48, ex4 40, ex5 114,
ex6 139; the first file of an exercise costs 1.5-2 s more than the others. (Before: 7
groups of 22 files in sorted order, which graded each exercise in 3 to 5 processes.)
The groups are uneven; tests/xdist_schedule.py starts the heaviest first.
A test asks for a file's grade with :func:`graded`; ``xdist_group`` (:func:`param`) keeps
a group on one worker, so each group is graded once, whichever test module asks first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.grading import MUTANTS, REAL, VARIANTS, Graded, files, grade_files

ALL_FILES = files(MUTANTS) + files(VARIANTS) + files(REAL)
GROUPS = {source: f"grading-{source.parent.name}" for source in ALL_FILES}
_graded: dict[Path, Graded] = {}


def graded(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """The grade of ``source``, grading its whole group (once per worker) on first use."""
    if source not in _graded:
        group = [s for s in ALL_FILES if GROUPS[s] == GROUPS[source]]
        _graded.update(grade_files(tmp_path_factory.mktemp(GROUPS[source]), group))
    return _graded[source]


def param(source: Path, *values: object, id: str | None = None):  # noqa: A002, ANN201
    """``pytest.param(source, *values)`` in ``source``'s xdist group."""
    return pytest.param(
        source, *values, id=id or f"{source.parent.name}/{source.stem}", marks=pytest.mark.xdist_group(GROUPS[source])
    )
