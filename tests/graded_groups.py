"""Grading the kit's test files in groups: one grader process per group, shared by every test module.

Mutants, variants and real-code files (tests/mutants, tests/variants, tests/real) are
graded in groups of ``GROUP_SIZE``, one process each (see tests.grading.grade_files). A
process's start and first grade (Python, torch, pytest, the checks' first use of torch)
cost about 10 s of CPU, a further file 1-5 s, so the groups are large: 7 of them for the
138 files of exercises 1-6. Measured before exercise 6 (109 files), test_mutants and
test_real took 417 s of CPU in 16 groups of 7, 330 s in 8 of 14 and 294 s in 5 of 22.
A test asks for a file's grade with :func:`graded`; ``xdist_group`` (:func:`param`) keeps
a group on one worker, so each group is graded once, whichever test module asks first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.grading import MUTANTS, REAL, VARIANTS, Graded, files, grade_files

GROUP_SIZE = 22  # files graded by one process; the groups are spread over the xdist workers
ALL_FILES = files(MUTANTS) + files(VARIANTS) + files(REAL)
GROUPS = {source: f"grading-{i // GROUP_SIZE}" for i, source in enumerate(ALL_FILES)}
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
