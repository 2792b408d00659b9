"""Deliberately wrong implementations each lose exactly the checks meant to catch them.

Each file in tests/mutants/<exercise>/ is a complete exercise file with one mistake
and an ``EXPECTED_FAILURES`` set naming the checks it must fail. It must fail those
(losing points) and get full points on every other check.
"""

from __future__ import annotations

import pytest

from tests.grading import MUTANTS, expected_failures, files, grade_file

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("source", files(MUTANTS), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_mutant_loses_exactly_its_checks(tmp_path, source):
    exercise_id = source.parent.name
    graded = grade_file(tmp_path, exercise_id, source)
    expected = expected_failures(source)
    assert expected <= set(graded.checks), f"unknown checks in EXPECTED_FAILURES: {expected - set(graded.checks)}"
    assert graded.failed == expected, (
        f"{source.name}: failed {sorted(graded.failed)}, expected {sorted(expected)}\n"
        + "\n".join(graded.output(c) for c in sorted(graded.failed - expected))
    )
    for name in expected:
        assert graded.checks[name][0] < graded.checks[name][1]


@pytest.mark.parametrize("exercise_id", sorted({p.parent.name for p in files(MUTANTS)}))
def test_every_check_is_caught_by_some_mutant(exercise_id):
    """No check is dead weight: for each one, some wrong implementation fails it."""
    from grader import registry

    caught = set().union(*(expected_failures(p) for p in (MUTANTS / exercise_id).glob("*.py")))
    module = __import__(registry.find(exercise_id).check_module, fromlist=["_"])
    checks = {name for name, fn in vars(module).items() if name.startswith("test_") and callable(fn)}
    assert checks - caught == set(), f"checks no mutant fails: {sorted(checks - caught)}"
