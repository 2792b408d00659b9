"""Hostile submissions gain nothing they did not earn, and break nothing, when graded isolated.

Each file in tests/hostile/<exercise>/ declares ``EXPECTED_SCORE`` (and ``FORBIDDEN``
when the sandbox must refuse what it tries). All are graded in one grading process,
with the student's code in workers, as ``batch`` grades.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.grading import ROOT, Graded, _constants, files, grade_files

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile")]

HOSTILE = ROOT / "tests" / "hostile"
_graded: dict[Path, Graded] = {}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Graded]:
    trap = tmp_path_factory.mktemp("out_dir")
    os.environ["HOSTILE_TARGET"] = str(trap)  # where write_files.py tries to write
    try:
        results = grade_files(tmp_path_factory.mktemp("hostile"), files(HOSTILE), isolate=True, timeout_s=3)
    finally:
        del os.environ["HOSTILE_TARGET"]
    assert not any(trap.iterdir()), f"a submission wrote into the output folder: {list(trap.iterdir())}"
    return results


@pytest.mark.parametrize("source", files(HOSTILE), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_hostile_submission_gains_nothing(source: Path, graded: dict[Path, Graded]) -> None:
    result = graded[source]
    expected = _constants(source, "EXPECTED_SCORE")["EXPECTED_SCORE"]
    score = sum(score for score, _ in result.checks.values())
    forbidden = result.raw["exercises"][source.parent.name]["violations"]
    assert score == pytest.approx(expected), f"{source.stem} scored {score}, expected {expected}:\n" + "\n".join(
        result.output(check) for check in sorted(result.checks)
    )
    assert bool(forbidden) == bool(_constants(source, "FORBIDDEN").get("FORBIDDEN", False)), forbidden
