"""Correct implementations written differently from the model answer keep full marks."""

from __future__ import annotations

import pytest

from tests.grading import VARIANTS, files, grade_file

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("source", files(VARIANTS), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_correct_variant_gets_full_marks(tmp_path, source):
    graded = grade_file(tmp_path, source.parent.name, source)
    assert graded.failed == set(), "\n".join(graded.output(c) for c in sorted(graded.failed))
