"""A failure of the kit or the machine is never a student's 0 (and the fork server never asks CUDA).

Each fault is simulated with ``tests/faults/sitecustomize.py`` (first on ``PYTHONPATH``,
the fault named in ``GRADER_TEST_FAULT``) in every process of a real grading run: the
fork server cannot start, a worker dies in its set-up, the guard cannot be installed,
CUDA cannot initialise, a batch's pool process breaks. The student's exercise then has
no score (``null``, flagged ``grader_error``), ``grader check`` and ``batch`` exit with 4,
and a rerun without the fault grades the student. A submission that kills its own worker
while it loads is the student's doing, and still scores 0.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.grading import ROOT

pytestmark = pytest.mark.xdist_group("grader_errors")

FAULTS = ROOT / "tests" / "faults"
EXIT_GRADER_ERROR = 4


@pytest.fixture(scope="module", autouse=True)
def _faults_outside_the_kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The sandbox shows no folder of ``tests/``: the fault injector goes on PYTHONPATH from a copy."""
    global FAULTS
    original, FAULTS = FAULTS, tmp_path_factory.mktemp("faults")
    shutil.copy(original / "sitecustomize.py", FAULTS)
    yield
    FAULTS = original


def run_grader(args: list[str], fault: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FAULTS), str(ROOT)]), "GRADER_TEST_FAULT": fault, **env}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=600)


def check_ex1(
    target: Path, out: Path, fault: str = "", *extra: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict]:
    args = ["check", "ex1", "--isolate", "--profile", "smoke", "--target", str(target), "--json", str(out), *extra]
    proc = run_grader(args, fault, **env)
    return proc, json.loads(out.read_text(encoding="utf-8"))


def test_the_fork_server_never_asks_cuda(tmp_path: Path) -> None:
    """From its first preload on, any CUDA entry point kills the fork server (and would make this a grader error)."""
    log = tmp_path / "cuda_calls.txt"
    # without the sandbox, so that the fork server can write the log here (it imports the same modules either way)
    proc, results = check_ex1(
        ROOT / "solutions", tmp_path / "results.json", "cuda_trap", "--unsafe-no-sandbox", GRADER_TEST_CUDA_TRAP_LOG=str(log)
    )
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    assert lines[:1] == ["armed"], f"the tripwire was not set in the fork server: {lines}"
    assert lines[1:] == [], f"the fork server asked CUDA (or ran a backward pass): {lines[1:]}"
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert results["exercises"]["ex1_last_token"]["score"] == 18


#: Each fault costs a whole grading run (7-8 s): the fast loop keeps one, the whole suite all four.
KIT_FAULTS = ["fork_server", *(pytest.param(fault, marks=pytest.mark.slow) for fault in ("worker_dies", "guard", "cuda"))]


@pytest.mark.parametrize("fault", KIT_FAULTS)
def test_a_broken_kit_scores_no_one(fault: str, tmp_path: Path) -> None:
    proc, results = check_ex1(ROOT / "solutions", tmp_path / "results.json", fault)
    assert proc.returncode == EXIT_GRADER_ERROR, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "grader error" in proc.stdout
    exercise = results["exercises"]["ex1_last_token"]
    assert exercise["score"] is None and exercise["grader_errors"], exercise
    assert results["score"] is None and results["complete"] is False
    assert {t["status"] for t in results["tests"]} == {"error"}
    assert all(t["score"] is None for t in results["tests"])


def test_a_submission_that_kills_its_own_worker_still_scores_zero(tmp_path: Path) -> None:
    """The student's file ends its worker while it loads: that is the student's doing, not a grader error."""
    target = tmp_path / "student"
    target.mkdir()
    (target / "ex1_last_token.py").write_text((ROOT / "tests/hostile/ex1_last_token/exit_at_import.py").read_text())
    proc, results = check_ex1(target, tmp_path / "results.json")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert results["exercises"]["ex1_last_token"]["score"] == 0
    assert results["complete"] is True and {t["status"] for t in results["tests"]} == {"failed"}


def _class(root: Path) -> Path:
    for name, source in {"correct": ROOT / "solutions", "stub": ROOT / "exercises"}.items():
        (root / name).mkdir(parents=True)
        (root / name / "ex1_last_token.py").write_text((source / "ex1_last_token.py").read_text())
    return root


def _grades(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open(encoding="utf-8", newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def batch_args(submissions: Path, out: Path, *extra: str) -> list[str]:
    return ["batch", str(submissions), "--out", str(out), "--exercises", "ex1", "--workers", "1", "--profile", "smoke", *extra]


@pytest.mark.slow  # two batches each
@pytest.mark.parametrize("fault", ["worker_dies", "pool"])
def test_batch_writes_no_score_for_a_broken_kit_and_a_rerun_grades_again(fault: str, tmp_path: Path) -> None:
    submissions, out = _class(tmp_path / "submissions"), tmp_path / "out"
    proc = run_grader(batch_args(submissions, out, "--no-preflight"), fault)
    assert proc.returncode == EXIT_GRADER_ERROR, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "grader_error" in proc.stdout
    for student, row in _grades(out).items():
        assert row["ex1_last_token"] == "" and row["total"] == "", (student, row)
        assert "ex1:grader_error" in row["flags"]
        results = json.loads((out / student / "results.json").read_text(encoding="utf-8"))
        assert results["extra_data"]["content_hash"] is None  # not done: the next run grades it again
        assert "not your code" in (out / student / "feedback.txt").read_text(encoding="utf-8")
    proc = run_grader(batch_args(submissions, out, "--no-preflight"))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    grades = _grades(out)
    assert (grades["correct"]["ex1_last_token"], grades["stub"]["ex1_last_token"]) == ("18", "0")
    assert grades["correct"]["flags"] == grades["stub"]["flags"] == ""


@pytest.mark.slow  # a whole batch run
def test_batch_preflight_refuses_a_set_up_that_cannot_grade_the_model_answers(tmp_path: Path) -> None:
    submissions, out = _class(tmp_path / "submissions"), tmp_path / "out"
    proc = run_grader(batch_args(submissions, out), "guard")
    assert proc.returncode == EXIT_GRADER_ERROR, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "preflight" in proc.stdout and "the guard cannot be installed" in proc.stdout
    assert not (out / "grades.csv").exists() and not list(out.glob("*/results.json"))  # no student was graded
