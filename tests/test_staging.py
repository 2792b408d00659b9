"""Staging, student ids, grades.csv cells and a broken pool, without grading anyone (fast).

What grading a real class with these cases does is in tests/test_batch_safety.py.
"""

from __future__ import annotations

import concurrent.futures
import csv
import json
import multiprocessing
import os
from pathlib import Path

import pytest

from grader import registry
from grader.instructor import batch, pool, staging
from tests.grading import ROOT

EX1, EX4 = registry.find("ex1"), registry.find("ex4")
SOLUTION = ROOT / "solutions" / "ex1_last_token.py"


def _student(root: Path, name: str, text: str = "x = 1\n") -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / f"{EX1.id}.py").write_text(text, encoding="utf-8")
    return folder


# --- staging -------------------------------------------------------------------------------


def test_a_plain_file_is_copied_and_the_student_folder_is_left_alone(tmp_path: Path) -> None:
    folder = _student(tmp_path / "sub", "alice", "print('hi')\n")
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    staged = staging.stage(folder, [EX1, EX4], tmp_path / "out" / staging.STAGING)
    assert staged.folder.parent == tmp_path / "out" / staging.STAGING
    assert (staged.folder / f"{EX1.id}.py").read_text() == "print('hi')\n"
    assert staged.files == {EX1.id: (".py", b"print('hi')\n")} and staged.refused == {}
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before
    staged.remove()
    assert not staged.folder.exists()


def test_a_link_is_refused_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "sub" / "mallory"
    folder.mkdir(parents=True)
    (folder / f"{EX1.id}.py").symlink_to(SOLUTION)  # another's work (here the model answer)
    staged = staging.stage(folder, [EX1], tmp_path / "staging")
    assert staged.refused[EX1.id].flag == staging.SYMLINK and EX1.id not in staged.files
    assert "symlink" in staged.refused[EX1.id].message
    assert list(staged.folder.iterdir()) == []


def test_a_link_in_py_is_not_replaced_by_the_notebook(tmp_path: Path) -> None:
    folder = tmp_path / "sub" / "mallory"
    folder.mkdir(parents=True)
    (folder / f"{EX1.id}.py").symlink_to(SOLUTION)
    (folder / f"{EX1.id}.ipynb").write_text("{}")
    assert staging.stage(folder, [EX1], tmp_path / "staging").refused[EX1.id].flag == staging.SYMLINK


def test_a_symlink_loop_is_refused_and_crashes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "sub" / "loop"
    folder.mkdir(parents=True)
    (folder / f"{EX1.id}.py").symlink_to(folder / f"{EX1.id}.py")
    staged = staging.stage(folder, [EX1], tmp_path / "staging")
    assert staged.refused[EX1.id].flag == staging.SYMLINK


def test_a_student_folder_that_is_a_link_or_a_loop_is_refused(tmp_path: Path) -> None:
    submissions = tmp_path / "sub"
    _student(submissions, "honest")
    (submissions / "linked").symlink_to(ROOT / "solutions")
    (submissions / "looped").symlink_to(submissions / "looped")
    found = dict(batch.students(submissions, tmp_path / "out"))
    assert set(found) == {"honest", "linked", "looped"}
    for name in ("linked", "looped"):
        staged = staging.stage(found[name], [EX1, EX4], tmp_path / "staging")
        assert {e: r.flag for e, r in staged.refused.items()} == {EX1.id: "symlink", EX4.id: "symlink"}, name
        assert staged.files == {}


def test_a_file_too_large_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staging, "MAX_BYTES", 10)
    folder = _student(tmp_path / "sub", "big", "x" * 11)
    staged = staging.stage(folder, [EX1], tmp_path / "staging")
    assert staged.refused[EX1.id].flag == staging.TOO_LARGE
    folder = _student(tmp_path / "sub", "small", "x" * 10)
    assert staging.stage(folder, [EX1], tmp_path / "staging").files[EX1.id] == (".py", b"x" * 10)


def test_a_fifo_counts_as_missing_and_never_blocks(tmp_path: Path) -> None:
    folder = tmp_path / "sub" / "fifo"
    folder.mkdir(parents=True)
    os.mkfifo(folder / f"{EX1.id}.py")
    staged = staging.stage(folder, [EX1], tmp_path / "staging")
    assert staged.files == {} and staged.refused == {}


def test_the_hash_is_of_the_staged_copy(tmp_path: Path) -> None:
    settings = batch.Settings((EX1.id,), "smoke")
    a = staging.stage(_student(tmp_path / "sub", "a", "x = 1\n"), [EX1], tmp_path / "s")
    b = staging.stage(_student(tmp_path / "sub", "b", "x = 1\n"), [EX1], tmp_path / "s")
    c = staging.stage(_student(tmp_path / "sub", "c", "x = 2\n"), [EX1], tmp_path / "s")
    link = tmp_path / "sub" / "d"
    link.mkdir()
    (link / f"{EX1.id}.py").symlink_to(tmp_path / "sub" / "a" / f"{EX1.id}.py")
    d = staging.stage(link, [EX1], tmp_path / "s")
    hashes = [batch.content_hash(s, settings) for s in (a, b, c, d)]
    assert hashes[0] == hashes[1] and len(set(hashes)) == 3


# --- student ids and output folders ---------------------------------------------------------


@pytest.mark.parametrize("bad", ["", ".", "..", ".hidden", "a\\b", "a/b", " a", "a\nb", "a\0b"])
def test_bad_student_ids_are_refused(bad: str) -> None:
    assert staging.check_id(bad) is not None
    with pytest.raises(batch.BatchError, match="student ids"):
        batch.check_ids([("ok", Path()), (bad, Path())])


@pytest.mark.parametrize("good", ["alice", "s12345", "=cmd", "grades.csv", "山田", "a.b"])
def test_good_student_ids_are_kept(good: str) -> None:
    assert staging.check_id(good) is None


def test_an_id_that_is_an_output_file_gets_a_folder_of_its_own(tmp_path: Path) -> None:
    assert batch.student_dir(tmp_path, "alice") == tmp_path / "alice"
    for name in ("grades.csv", "GRADES.CSV"):
        home = batch.student_dir(tmp_path, name)
        assert home == tmp_path / staging.RESERVED_HOME / name and home.parent.name.startswith(".")


# --- grades.csv ---------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "=HYPERLINK(\"http://x\")", "\tx", "-inf"])
def test_a_cell_a_spreadsheet_would_run_is_escaped(cell: str) -> None:
    assert batch.csv_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["alice", "18", "0", "-1", "2.5", "ex1:symlink;ex4:timeout", ""])
def test_an_ordinary_cell_is_kept(cell: str) -> None:
    assert batch.csv_cell(cell) == cell


# --- run(), with a stand-in for grading (threads, no torch) --------------------------------


def _fake_results(score: float) -> dict:
    return {
        "results": {
            "score": score, "max_score": 18.0, "complete": True,
            "tests": [{"name": "ex1: t", "score": score, "max_score": 18.0, "status": "passed", "output": "", "tags": [EX1.id]}],
            "exercises": {EX1.id: {"score": score, "max_score": 18.0, "violations": []}},
        },
        "flags": [],
        "feedback": "ok\n",
    }  # fmt: skip


def fake_grade(folder: str, settings: batch.Settings) -> dict:
    """Scores 18 when the staged ex1 file says so; raises, or ends the process, when it asks to."""
    assert f"{os.sep}{staging.STAGING}{os.sep}" in folder, f"not a staged copy: {folder}"
    path = Path(folder) / f"{EX1.id}.py"
    text = path.read_text() if path.exists() else ""
    if "RAISE" in text:
        raise RuntimeError("rendering broke")
    if "EXIT" in text:
        os._exit(3)  # the pool process dies: BrokenProcessPool
    return _fake_results(18.0 if "full" in text else 0.0)


def _grades(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open(encoding="utf-8", newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def _run(submissions: Path, out: Path, executor: concurrent.futures.Executor, **kwargs) -> dict[str, dict[str, str]]:
    batch.run(submissions, out, batch.Settings((EX1.id,), "smoke"), executor, check_first=False, **kwargs)
    return _grades(out)


def test_one_student_never_stops_the_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "grade_submission", fake_grade)
    submissions, out = tmp_path / "sub", tmp_path / "out"
    _student(submissions, "good", "full")
    _student(submissions, "raises", "RAISE")
    _student(submissions, "stage_breaks", "full")
    _student(submissions, "unwritable", "full")
    _student(submissions, "grades.csv", "full")  # an honest student with the name of an output file
    _student(submissions, "=cmd()", "full")
    (out / "unwritable").mkdir(parents=True)
    (out / "unwritable" / "results.json").mkdir()  # results.json cannot be written there
    real_stage = staging.stage

    def stage(folder: Path, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if folder.name == "stage_breaks":
            raise OSError("disk full")
        return real_stage(folder, *args, **kwargs)

    monkeypatch.setattr(staging, "stage", stage)
    with concurrent.futures.ThreadPoolExecutor(2) as executor:
        grades = _run(submissions, out, executor)
    assert set(grades) == {"good", "raises", "stage_breaks", "unwritable", "grades.csv", "'=cmd()"}
    assert grades["good"]["ex1_last_token"] == grades["grades.csv"]["ex1_last_token"] == "18"
    assert grades["'=cmd()"]["ex1_last_token"] == "18"
    for name, why in {"raises": "rendering broke", "stage_breaks": "disk full", "unwritable": "writing"}.items():
        assert grades[name]["ex1_last_token"] == "" and grades[name]["flags"] == "ex1:grader_error", name
    assert "rendering broke" in (out / "raises" / "feedback.txt").read_text()
    assert "disk full" in (out / "stage_breaks" / "feedback.txt").read_text()
    assert json.loads((out / ".students" / "grades.csv" / "results.json").read_text())["score"] == 18
    assert (out / "grades.csv").is_file() and not (out / staging.STAGING).exists()
    assert batch.grader_errors(out / "grades.csv") == ["raises", "stage_breaks", "unwritable"]


def test_a_refused_link_scores_zero_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "grade_submission", fake_grade)
    submissions, out = tmp_path / "sub", tmp_path / "out"
    _student(submissions, "honest", "full")
    (submissions / "copier").mkdir()
    (submissions / "copier" / f"{EX1.id}.py").symlink_to(submissions / "honest" / f"{EX1.id}.py")
    (submissions / "loop").mkdir()
    (submissions / "loop" / f"{EX1.id}.py").symlink_to(submissions / "loop" / f"{EX1.id}.py")
    with concurrent.futures.ThreadPoolExecutor(2) as executor:
        grades = _run(submissions, out, executor)
    assert grades["honest"]["ex1_last_token"] == "18"
    for name in ("copier", "loop"):
        assert grades[name]["ex1_last_token"] == "0" and grades[name]["flags"] == "ex1:symlink", name
        results = json.loads((out / name / "results.json").read_text())
        assert "symlink" in results["exercises"][EX1.id]["refused"]
        assert all("symlink" in t["output"] for t in results["tests"])
        assert "symlink" in (out / name / "feedback.txt").read_text()
        assert results["extra_data"]["content_hash"]  # a refusal is a grade: not graded again


def test_a_rerun_grades_only_what_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting(folder: str, settings: batch.Settings) -> dict:
        calls.append(Path(folder, f"{EX1.id}.py").read_text())
        return fake_grade(folder, settings)

    monkeypatch.setattr(batch, "grade_submission", counting)
    submissions, out = tmp_path / "sub", tmp_path / "out"
    _student(submissions, "a", "full 1")
    _student(submissions, "b", "zero 2")
    with concurrent.futures.ThreadPoolExecutor(2) as executor:
        _run(submissions, out, executor)
        assert sorted(calls) == ["full 1", "zero 2"]
        (submissions / "b" / f"{EX1.id}.py").write_text("full 3")
        grades = _run(submissions, out, executor)
    assert sorted(calls) == ["full 1", "full 3", "zero 2"]
    assert grades["b"]["ex1_last_token"] == "18"


def _fork_pool() -> concurrent.futures.ProcessPoolExecutor:
    return concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))


def test_a_broken_pool_is_replaced_and_the_others_are_graded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "grade_submission", fake_grade)
    submissions, out = tmp_path / "sub", tmp_path / "out"
    for i in range(4):
        _student(submissions, f"s{i}", "full")
    _student(submissions, "s2_killer", "EXIT")
    made: list[concurrent.futures.Executor] = []

    def replace() -> concurrent.futures.Executor:
        made.append(_fork_pool())
        return made[-1]

    first = _fork_pool()
    try:
        grades = _run(submissions, out, first, replace=replace)
    finally:
        first.shutdown()
    assert made, "the broken pool was not replaced"
    assert {name: row["ex1_last_token"] for name, row in grades.items()} == {
        "s0": "18", "s1": "18", "s2": "18", "s2_killer": "", "s3": "18",
    }  # fmt: skip
    assert grades["s2_killer"]["flags"] == "ex1:grader_error"
    assert "BrokenProcessPool" in (out / "s2_killer" / "feedback.txt").read_text()


def test_without_replace_a_broken_pool_is_each_pending_students_grader_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "grade_submission", fake_grade)
    submissions, out = tmp_path / "sub", tmp_path / "out"
    _student(submissions, "killer", "EXIT")
    _student(submissions, "other", "full")
    executor = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    try:
        grades = _run(submissions, out, executor)
    finally:
        executor.shutdown()
    assert grades["killer"]["flags"] == "ex1:grader_error"  # and no exception: the class still gets its grades.csv
    assert set(grades) == {"killer", "other"}


def _pool_job(n: int) -> int:
    if n < 0:
        os._exit(1)
    return n * 2


def test_run_jobs_finds_the_job_that_breaks_the_pool() -> None:
    results: dict[int, object] = {}
    executors = pool.Pool(_fork_pool(), _fork_pool)
    try:
        pool.run_jobs(
            executors, [1, 2, -1, 3, 4, -2, 5],
            lambda ex, n: ex.submit(_pool_job, n),
            lambda n, result, error: results.__setitem__(n, result if error is None else type(error).__name__),
        )  # fmt: skip
    finally:
        executors.executor.shutdown()
        executors.close()
    assert results == {1: 2, 2: 4, 3: 6, 4: 8, 5: 10, -1: "BrokenProcessPool", -2: "BrokenProcessPool"}


def test_the_batch_refuses_a_bad_student_id_before_grading_anyone(tmp_path: Path) -> None:
    import subprocess
    import sys

    submissions, out = tmp_path / "sub", tmp_path / "out"
    _student(submissions, "good", "full")
    _student(submissions, "a\\b", "full")  # a backslash: a path separator on Windows
    command = [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out), "--exercises", "ex1"]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "student ids" in proc.stdout and not (out / "grades.csv").exists()
