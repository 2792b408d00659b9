"""Driving a real nbgrader course from tests and benchmarks: the CLI, submissions, the gradebook."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from grader.loader import is_autograder_test

# nbformat is imported where it is used: importing it costs 1.7 s (jsonschema's format checkers
# build a grammar), which every xdist worker would pay when it collects tests/test_nbgrader.py.

ROOT = Path(__file__).resolve().parent.parent
TIMESTAMP = "2026-11-20 09:00:00.000000 UTC"


def environment(profile: str = "smoke") -> dict[str, str]:
    """The environment nbgrader runs in: this venv first on PATH (nbgrader calls ``alembic``), a grading profile."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, "GRADER_PROFILE": profile}


def nbgrader(course: Path, *args: str, profile: str = "smoke", timeout: float = 900) -> subprocess.CompletedProcess:
    """``nbgrader ARGS`` in ``course``; fails on a non-zero exit or a config file nbgrader could not load."""
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=environment(profile),
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    log = f"nbgrader {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    assert proc.returncode == 0, log
    assert "Exception while loading config" not in proc.stderr, log  # nbgrader goes on without its config
    return proc


def grader(*args: str, profile: str = "smoke", timeout: float = 900) -> subprocess.CompletedProcess:
    """``python -m grader ARGS`` from the kit's folder."""
    proc = subprocess.run(
        [sys.executable, "-m", "grader", *args], cwd=ROOT, env=environment(profile),
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert proc.returncode == 0, f"grader {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def submit(course: Path, assignment: str, student: str, exercise_id: str, code: str | None, *,
           edit_tests: str | None = None) -> Path:  # fmt: skip
    """Place a submission where nbgrader expects it: the released notebook with ``code`` as its solution cell.

    ``code=None`` hands in the release untouched; ``edit_tests`` replaces every test cell's source.
    """
    import nbformat

    notebook = nbformat.read(course / "release" / assignment / f"{exercise_id}.ipynb", as_version=4)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and code is not None:
            cell.source = code
        elif is_autograder_test(cell) and edit_tests is not None:
            cell.source = edit_tests
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timestamp.txt").write_text(TIMESTAMP + "\n", encoding="utf-8")
    path = folder / f"{exercise_id}.ipynb"
    nbformat.write(notebook, path)
    return path


def grades(course: Path, assignment: str) -> dict[tuple[str, str, str], float | None]:
    """Every grade in the course's gradebook: ``(student, notebook, grade_id) -> score``."""
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for submission in gb.assignment_submissions(assignment):
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    found[(submission.student.id, notebook.name, grade.name)] = grade.score
    return found


def cell_outputs(path: Path) -> dict[str, list[dict]]:
    """The outputs of each nbgrader cell of an (autograded) notebook, by grade id."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: list(cell.get("outputs", []))
        for cell in notebook.cells
        if cell.cell_type == "code" and "grade_id" in cell.metadata.get("nbgrader", {})
    }
