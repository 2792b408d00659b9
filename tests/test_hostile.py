"""Hostile submissions of the exercises after ex1 gain nothing, isolated and in this process.

tests/test_batch.py grades the ex1 hostile files as a class (``batch``, isolated). The others
(tests/hostile/ex2_swish: attacks on the structural measurements, see grader/probing/) are
graded here: each must score its ``EXPECTED_SCORE``, with the guard's violations exactly when
it declares ``FORBIDDEN``, the way ``batch`` grades (isolated) and the way a student's own
``python -m grader check`` does (in one process). In one process, a file that rewrites the
grader (``PATCHES_GRADER = True``) is graded alone, so that it cannot spoil the others' grades;
so are the ex1 files named in :data:`EX1_IN_PROCESS`, the attacks on the instruments among them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.grading import ROOT, Graded, constants, expected_score, files, grade_files

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile")]

HOSTILE = ROOT / "tests" / "hostile"
OTHERS = [s for s in files(HOSTILE) if s.parent.name != "ex1_last_token"]
#: ex1 files also graded in one process here (in a class, isolated, by tests/test_batch.py).
EX1_IN_PROCESS = [HOSTILE / "ex1_last_token" / "loop_with_modes_disabled.py"]
IN_PROCESS = OTHERS + EX1_IN_PROCESS


def patches_grader(source: Path) -> bool:
    return bool(constants(source, "PATCHES_GRADER").get("PATCHES_GRADER", False))


@pytest.fixture(scope="module")
def isolated(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Graded]:
    return grade_files(tmp_path_factory.mktemp("isolated"), OTHERS, isolate=True, timeout=1800)


#: In one process the files are graded as a student's own ``python -m grader check`` grades them: a
#: dozen examples a check (the "student" profile), here drawn deterministically ("smoke"). An attack
#: works or fails on any example; what the grading profile's many examples add is held by the
#: isolated run above, which grades as ``batch`` does.
IN_PROCESS_PROFILE = "smoke"


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Graded]:
    together = [s for s in IN_PROCESS if not patches_grader(s)]
    graded = grade_files(tmp_path_factory.mktemp("together"), together, profile=IN_PROCESS_PROFILE, timeout=1800)
    for alone in [s for s in IN_PROCESS if patches_grader(s)]:
        graded.update(grade_files(tmp_path_factory.mktemp(alone.stem), [alone], profile=IN_PROCESS_PROFILE, timeout=900))
    return graded


def assert_gains_nothing(source: Path, result: Graded) -> None:
    score = sum(score for score, _ in result.checks.values())
    failures = "\n".join(result.output(check) for check in sorted(result.failed))
    assert score == pytest.approx(expected_score(source)), f"{source.name}: {score} points\n{failures}"
    violations = result.raw["exercises"][source.parent.name]["violations"]
    assert bool(violations) == bool(constants(source, "FORBIDDEN").get("FORBIDDEN", False)), violations


@pytest.mark.parametrize("source", OTHERS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_hostile_submission_gains_nothing_isolated(source: Path, isolated: dict[Path, Graded]) -> None:
    assert_gains_nothing(source, isolated[source])


@pytest.mark.parametrize("source", IN_PROCESS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_hostile_submission_gains_nothing_in_process(source: Path, in_process: dict[Path, Graded]) -> None:
    assert_gains_nothing(source, in_process[source])


@pytest.mark.parametrize("source", OTHERS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_an_attack_on_the_measurements_is_reported_as_such(source: Path, isolated: dict[Path, Graded]) -> None:
    """The student (and the instructor) read that the measurement was interfered with, not a wrong guess of a cause."""
    result = isolated[source]
    assert any("the measurement was interfered with" in result.output(check) for check in result.failed), source.name
