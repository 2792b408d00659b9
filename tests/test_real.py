"""Real code graded right: implementations adapted from well-known public code (tests/real/).

Each file declares ``EXPECTED_FAILURES``, decided from its code and the contract before it
was graded (see tests/real/README.md): a correct one (``set()``) keeps full marks, a buggy
one loses exactly the checks it declares, alike in every full-precision case.

The files are graded in groups, several files to one grader process, with the mutants and
variants (see tests.graded_groups).
"""

from __future__ import annotations

import pytest

from grader import registry
from tests.graded_groups import graded, param
from tests.grading import REAL, dtype_dependent, expected_failures, files

pytestmark = pytest.mark.slow

REAL_FILES = files(REAL)


@pytest.mark.parametrize("source", [param(s) for s in REAL_FILES])
def test_real_code_is_graded_as_declared(source, tmp_path_factory):
    result = graded(source, tmp_path_factory)
    expected = expected_failures(source)
    assert expected <= set(result.checks), f"unknown checks in EXPECTED_FAILURES: {expected - set(result.checks)}"
    assert result.failed == expected, (
        f"{source.name}: failed {sorted(result.failed)}, expected {sorted(expected)}\n"
        + "\n".join(result.output(c) for c in sorted(result.failed ^ expected) if c in result.failed)
    )
    uneven = {c: cases for c, cases in result.uneven().items() if c not in dtype_dependent(source)}
    assert not uneven, f"{source.name}: checks lost in some cases only: {uneven}"


@pytest.mark.parametrize("exercise_id", [ex.id for ex in registry.EXERCISES if (REAL / ex.id).is_dir()])
def test_real_code_set_has_three_files_and_a_source_each(exercise_id):
    """At least three files an exercise, each naming its source (repository, path, commit) and its edits."""
    sources = [s for s in REAL_FILES if s.parent.name == exercise_id]
    assert len(sources) >= 3, f"{exercise_id}: {len(sources)} real-code files; keep at least three"
    for source in sources:
        header = source.read_text(encoding="utf-8").split('"""')[1]
        for word in ("Source:", "commit", "Edits", "Decided before grading"):
            assert word in header, f"{source.name}: its header does not say {word!r}"
