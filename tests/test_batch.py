"""``python -m grader batch`` grades a class of correct, wrong and hostile submissions.

Hostile submissions (tests/hostile/, see its README) declare ``EXPECTED_SCORE`` and,
when the sandbox must refuse what they try, ``FORBIDDEN``.

The class: model answers and correct variants, untouched stubs, every ex1 mutant, and
every hostile submission (tests/hostile), some hostile students also handing in a
correct ex4 that must keep its full marks. grades.csv must hold the expected score of
every student for every exercise: with 2 workers, and with 1 worker after ``kill -9`` half
way through followed by a rerun (which grades only what is missing), byte for byte the same.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.grading import MUTANTS, ROOT, VARIANTS, constants, expected_score, files, student_source

pytestmark = pytest.mark.slow
#: The tests that read the class batch with 2 workers: one xdist worker builds it, once. The Dask
#: run grades on its own and is a unit of its own, free to run beside it.
CLASS_BATCH = pytest.mark.xdist_group("batch")

EXERCISES = ("ex1_last_token", "ex4_sgdr")
FULL = {"ex1_last_token": 18.0, "ex4_sgdr": 14.0}
HOSTILE = ROOT / "tests" / "hostile"
TIMEOUT_S = "2"  # per call: the infinite loop must not cost the suite a minute
BUDGET_S = "60"  # per student: the class's time is bounded whatever a submission does
# Deterministic like "grading" with a quarter of its examples: the expected scores are the
# same (tests/test_mutants.py holds every mutant to them under "grading").
#: Hostile students who also hand in a correct ex4, which must keep its full marks.
WITH_CORRECT_EX4 = {"syntax_error", "exit_at_import", "import_reference", "infinite_loop", "patch_comparisons", "fork"}


def build_class(root: Path) -> dict[str, dict[str, float]]:
    """Write the class into ``root`` (one folder per student); return each student's expected scores."""
    expected: dict[str, dict[str, float]] = {}

    def student(name: str, sources: dict[str, str], scores: dict[str, float]) -> None:
        folder = root / name
        folder.mkdir(parents=True)
        for exercise_id, text in sources.items():
            (folder / f"{exercise_id}.py").write_text(text, encoding="utf-8")
        expected[name] = {e: scores.get(e, 0.0) for e in EXERCISES}

    solutions = {e: (ROOT / "solutions" / f"{e}.py").read_text(encoding="utf-8") for e in EXERCISES}
    stubs = {e: (ROOT / "exercises" / f"{e}.py").read_text(encoding="utf-8") for e in EXERCISES}
    student("correct_both", solutions, FULL)
    for variant in [p for p in files(VARIANTS) if p.parent.name in EXERCISES]:
        exercise_id = variant.parent.name
        student(f"variant_{variant.stem}", {exercise_id: student_source(variant)}, {exercise_id: FULL[exercise_id]})
    student("stubs", stubs, {})
    student("empty_folder", {}, {})
    for mutant in of_exercise(files(MUTANTS), "ex1_last_token")[:4]:  # all of them: tests/test_mutants.py
        student(f"mutant_{mutant.stem}", {"ex1_last_token": student_source(mutant)}, {"ex1_last_token": expected_score(mutant)})
    for hostile in of_exercise(files(HOSTILE), "ex1_last_token"):
        sources, scores = {"ex1_last_token": student_source(hostile)}, {"ex1_last_token": expected_score(hostile)}
        if hostile.stem in WITH_CORRECT_EX4:
            sources["ex4_sgdr"], scores["ex4_sgdr"] = solutions["ex4_sgdr"], 14.0
        student(f"hostile_{hostile.stem}", sources, scores)
    return expected


def of_exercise(sources: list[Path], exercise_id: str) -> list[Path]:
    return [p for p in sources if p.parent.name == exercise_id]


def batch_command(submissions: Path, out: Path, workers: int, preflight: bool = True) -> list[str]:
    """The batch command; the preflight (tests/test_grader_errors.py) runs in the first batch of the class only."""
    return [
        sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out),
        "--workers", str(workers), "--exercises", *EXERCISES, "--timeout", TIMEOUT_S, "--budget", BUDGET_S, "--profile", "smoke",
        *([] if preflight else ["--no-preflight"]),
    ]  # fmt: skip


def run_batch(
    submissions: Path, out: Path, workers: int, env: dict[str, str], preflight: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(batch_command(submissions, out, workers, preflight), cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def read_grades(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open(encoding="utf-8", newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def assert_grades(out: Path, expected: dict[str, dict[str, float]]) -> None:
    grades = read_grades(out)
    assert sorted(grades) == sorted(expected)
    wrong = {
        name: {e: (grades[name][e], want[e]) for e in EXERCISES if float(grades[name][e]) != pytest.approx(want[e])}
        for name, want in expected.items()
    }
    wrong = {name: diff for name, diff in wrong.items() if diff}
    assert not wrong, f"(got, expected) per exercise: {wrong}"
    for name, row in grades.items():
        assert float(row["total"]) == pytest.approx(sum(expected[name].values()))
        assert float(row["max"]) == sum(FULL.values())


@pytest.fixture(scope="session")  # not "module": built once even when xdist interleaves other modules
def classroom(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, float]], dict[str, str]]:
    root = tmp_path_factory.mktemp("class")
    submissions = root / "submissions"
    expected = build_class(submissions)
    trap = root / "out_dir_trap"  # where write_files.py tries to write
    trap.mkdir()
    env = {**os.environ, "HOSTILE_TARGET": str(trap)}
    return submissions, expected, env


@pytest.fixture(scope="session")  # not "module": built once even when xdist interleaves other modules
def two_workers(classroom, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    submissions, _, env = classroom
    out = tmp_path_factory.mktemp("two_workers")
    return out, run_batch(submissions, out, 2, env)


@CLASS_BATCH
def test_class_of_thirty_gets_the_expected_grades(classroom, two_workers) -> None:
    submissions, expected, env = classroom
    out, proc = two_workers
    assert len(expected) >= 30
    assert_grades(out, expected)
    # printed "PASSED" lines and score tables from the submissions reach no output
    for text in (proc.stdout, proc.stderr, (out / "hostile_fake_passed" / "feedback.txt").read_text(encoding="utf-8")):
        assert "18 / 18\n合計" not in text and "PASSED ex1" not in text
    assert not any(Path(env["HOSTILE_TARGET"]).iterdir()), "a submission wrote into the output folder"
    flags = read_grades(out)
    assert "ex1:forbidden" in flags["hostile_import_reference"]["flags"]
    assert "ex1:timeout" in flags["hostile_infinite_loop"]["flags"]
    assert "ex1:load_error" in flags["hostile_syntax_error"]["flags"]
    assert flags["correct_both"]["flags"] == ""


@CLASS_BATCH
@pytest.mark.parametrize("source", of_exercise(files(HOSTILE), "ex1_last_token"), ids=lambda p: p.stem)
def test_hostile_submission_gains_nothing(source: Path, two_workers) -> None:
    """Its score is what it earns honestly; a forbidden attempt is recorded (and costs the exercise)."""
    out, _ = two_workers
    results = json.loads((out / f"hostile_{source.stem}" / "results.json").read_text(encoding="utf-8"))
    exercise = results["exercises"][source.parent.name]
    failures = "\n".join(t["output"] for t in results["tests"] if t["score"] < t["max_score"])
    assert exercise["score"] == pytest.approx(expected_score(source)), failures
    assert bool(exercise["violations"]) == bool(constants(source, "FORBIDDEN").get("FORBIDDEN", False))


#: The part of the class the 1-worker run grades: both runs' grades of these students must be the same
#: bytes. Honest, wrong and missing work, and the submissions that attack a class's grading: those that
#: write, fork, outlive their turn, rewrite the grader, hog the CPU or never return.
KILLED_HALF_WAY = {
    "correct_both", "stubs", "empty_folder", "variant_cumsum_index", "variant_incremental_state",
    "mutant_contiguous_run", "mutant_detached", "hostile_syntax_error", "hostile_fake_passed", "hostile_write_files",
    "hostile_overwrite_classmates", "hostile_survivor_process", "hostile_fork", "hostile_patch_grader",
    "hostile_cpu_hog", "hostile_infinite_loop",
}  # fmt: skip


@CLASS_BATCH  # compares with the 2-worker run above, so it shares its xdist worker
def test_one_worker_killed_half_way_then_rerun_gives_the_same_grades(classroom, two_workers, tmp_path: Path) -> None:
    """``kill -9`` of a 1-worker batch half way, then a rerun: it grades only what is missing, and its
    grades.csv holds, byte for byte, the 2-worker run's rows (a resumed run and the worker count change
    nothing). It grades :data:`KILLED_HALF_WAY`, a part of the class: the whole class graded once more
    would double this test's time and show nothing new."""
    whole_class, class_expected, env = classroom
    assert KILLED_HALF_WAY <= {p.name for p in whole_class.iterdir()}
    submissions = tmp_path / "submissions"
    for name in KILLED_HALF_WAY:
        shutil.copytree(whole_class / name, submissions / name)
    expected = {name: scores for name, scores in class_expected.items() if name in KILLED_HALF_WAY}
    two_worker_lines = (two_workers[0] / "grades.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    same_rows = "".join(two_worker_lines[:1] + [line for line in two_worker_lines[1:] if line.split(",")[0] in KILLED_HALF_WAY])
    out = tmp_path / "out"
    proc = subprocess.Popen(
        batch_command(submissions, out, 1, preflight=False), cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while len(list(out.glob("*/results.json"))) < len(expected) // 2:
            assert proc.poll() is None, "the batch finished before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the batch, its pool and its workers, mid-write if need be
        proc.wait()
    done_before = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    partial = read_grades(out)  # whole, never half-written: every row it has is a finished student
    assert set(partial) <= set(done_before) and partial
    run_batch(submissions, out, 1, env, preflight=False)
    assert (out / "grades.csv").read_text(encoding="utf-8") == same_rows
    regraded = [name for name, mtime in done_before.items() if (out / name / "results.json").stat().st_mtime_ns != mtime]
    assert regraded == [], f"students graded again after the rerun: {regraded}"
    # a changed file is graded again (the class's own folder is left as it was: these are copies)
    shutil.copy(ROOT / "solutions" / "ex1_last_token.py", submissions / "stubs" / "ex1_last_token.py")
    run_batch(submissions, out, 1, env, preflight=False)
    assert float(read_grades(out)["stubs"]["ex1_last_token"]) == 18.0


@pytest.mark.xdist_group("batch_dask")
def test_dask_cluster_gives_the_same_grades(tmp_path: Path) -> None:
    """``--dask-scheduler`` runs the same work on a Dask cluster (here a LocalCluster of two processes)."""
    from distributed import LocalCluster

    submissions = tmp_path / "submissions"
    for name, source in {
        "correct": ROOT / "solutions" / "ex1_last_token.py",
        "stub": ROOT / "exercises" / "ex1_last_token.py",
        "off_by_one": MUTANTS / "ex1_last_token" / "off_by_one.py",
    }.items():
        (submissions / name).mkdir(parents=True)
        (submissions / name / "ex1_last_token.py").write_text(student_source(source), encoding="utf-8")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        command = [
            sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(tmp_path / "out"),
            "--exercises", "ex1", "--dask-scheduler", cluster.scheduler_address,
        ]  # fmt: skip
        proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    grades = read_grades(tmp_path / "out")
    off_by_one = expected_score(MUTANTS / "ex1_last_token" / "off_by_one.py")
    assert {name: float(row["ex1_last_token"]) for name, row in grades.items()} == {
        "correct": 18.0, "stub": 0.0, "off_by_one": off_by_one,
    }  # fmt: skip
