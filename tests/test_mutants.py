"""Deliberately wrong implementations each lose exactly the checks meant to catch them.

Each file in tests/mutants/<exercise>/ is an exercise file with one mistake (either
complete, or a ``PATCH`` of the model answer: see tests.grading.student_source) and an
``EXPECTED_FAILURES`` set naming the checks it must fail. It must fail those
(losing points) and get full points on every other check. Correct implementations
written differently (tests/variants/<exercise>/) must get full marks.

The files are graded in groups, one grader process per group (see tests.grading);
``xdist_group`` keeps a group on one worker so it is graded once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import registry
from tests.grading import MUTANTS, VARIANTS, Graded, check_names, expected_failures, files, grade_files

pytestmark = pytest.mark.slow

GROUP_SIZE = 7  # files graded by one process; groups are spread over the xdist workers
ALL_FILES = files(MUTANTS) + files(VARIANTS)
GROUPS = {source: f"grading-{i // GROUP_SIZE}" for i, source in enumerate(ALL_FILES)}
_graded: dict[Path, Graded] = {}


def graded(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """The grade of ``source``, grading its whole group (once per worker) on first use."""
    if source not in _graded:
        group = [s for s in ALL_FILES if GROUPS[s] == GROUPS[source]]
        _graded.update(grade_files(tmp_path_factory.mktemp(GROUPS[source]), group))
    return _graded[source]


def _param(source: Path):  # noqa: ANN202
    return pytest.param(
        source, id=f"{source.parent.name}/{source.stem}", marks=pytest.mark.xdist_group(GROUPS[source])
    )


@pytest.mark.parametrize("source", [_param(s) for s in files(MUTANTS)])
def test_mutant_loses_exactly_its_checks(source, tmp_path_factory):
    result = graded(source, tmp_path_factory)
    expected = expected_failures(source)
    assert expected <= set(result.checks), f"unknown checks in EXPECTED_FAILURES: {expected - set(result.checks)}"
    assert result.failed == expected, (
        f"{source.name}: failed {sorted(result.failed)}, expected {sorted(expected)}\n"
        + "\n".join(result.output(c) for c in sorted(result.failed - expected))
    )


@pytest.mark.parametrize("source", [_param(s) for s in files(VARIANTS)])
def test_correct_variant_gets_full_marks(source, tmp_path_factory):
    result = graded(source, tmp_path_factory)
    assert result.failed == set(), "\n".join(result.output(c) for c in sorted(result.failed))


@pytest.mark.parametrize("exercise_id", [ex.id for ex in registry.EXERCISES])
def test_every_check_is_caught_by_some_mutant(exercise_id):
    """No check is dead weight: for each one, some wrong implementation fails it."""
    mutants = sorted((MUTANTS / exercise_id).glob("*.py"))
    assert len(mutants) >= 5, f"{exercise_id} has {len(mutants)} mutants; keep at least five"
    caught = set().union(*(expected_failures(p, cuda=False) for p in mutants))
    assert check_names(exercise_id) - caught == set(), f"checks no mutant fails: {sorted(check_names(exercise_id) - caught)}"
