"""``python -m grader batch`` on a small class of awkward students: none of them stops the class.

A student named like the kit's own output (``grades.csv``), one whose id a spreadsheet
would run (``=HYPERLINK(...)``), one who hands in a link to the model answer, and one
whose exercise file is a link to itself (a loop). The batch exits 0, the honest ones get
their grades, the links score 0 with the flag ``ex1:symlink``, and no cell runs.
The same cases without grading (threads, a stand-in for the grader) are in tests/test_staging.py.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.grading import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("batch_safety")]

EX1 = "ex1_last_token"
FORMULA = '=HYPERLINK("example.com","x")'


def test_awkward_students_are_graded_and_stop_no_one(tmp_path: Path) -> None:
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    for name, source in {"grades.csv": ROOT / "solutions", FORMULA: ROOT / "exercises"}.items():
        (submissions / name).mkdir(parents=True)
        (submissions / name / f"{EX1}.py").write_text((source / f"{EX1}.py").read_text(encoding="utf-8"), encoding="utf-8")
    (submissions / "copier").mkdir()
    (submissions / "copier" / f"{EX1}.py").symlink_to(ROOT / "solutions" / f"{EX1}.py")
    (submissions / "loop").mkdir()
    (submissions / "loop" / f"{EX1}.py").symlink_to(submissions / "loop" / f"{EX1}.py")
    command = [
        sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out), "--exercises", "ex1",
        "--workers", "2", "--profile", "smoke", "--timeout", "5", "--no-preflight",
    ]  # fmt: skip
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with (out / "grades.csv").open(encoding="utf-8", newline="") as f:
        grades = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(grades) == {"grades.csv", "'" + FORMULA, "copier", "loop"}
    assert grades["grades.csv"][EX1] == "18" and grades["grades.csv"]["flags"] == ""
    assert grades["'" + FORMULA][EX1] == "0"
    for name in ("copier", "loop"):
        assert grades[name][EX1] == "0" and grades[name]["flags"] == "ex1:symlink", grades[name]
        assert "symlink" in (out / name / "feedback.txt").read_text(encoding="utf-8")
    results = json.loads((out / ".students" / "grades.csv" / "results.json").read_text(encoding="utf-8"))
    assert results["extra_data"]["student_id"] == "grades.csv" and results["score"] == 18
    assert json.loads((out / FORMULA / "results.json").read_text(encoding="utf-8"))["extra_data"]["student_id"] == FORMULA
    assert not (out / ".staging").exists(), "the staged copies were left behind"
    # a rerun grades no one again: the content hashes of the staged copies match
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("results.json")}
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("results.json")} == mtimes
