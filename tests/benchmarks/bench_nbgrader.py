"""``nbgrader autograde`` against ``python -m grader batch --nbgrader`` on the same submissions.

Builds an nbgrader course (``python -m grader nbgrader``, ``nbgrader generate_assignment``)
and N students' notebooks (model answers, correct variants, mutants and untouched
releases, drawn at random with a fixed seed), copies the course, then in one run on this
machine:

- ``nbgrader autograde ASSIGNMENT`` in the first copy (one kernel per notebook, one
  notebook after the other; the test cells run the checks in the kernel);
- ``python -m grader batch --nbgrader COPY --assignment ASSIGNMENT --workers W`` in the
  second (isolated workers on every core, scores written into nbgrader's gradebook).

Both use the same hypothesis profile (``--profile``, default ``grading``). It checks that
the two gradebooks hold the same score for every grade cell of every student, and prints
the wall times and the speed-up.

Usage: python tests/benchmarks/bench_nbgrader.py [--students 30] [--exercises ex1 ex4] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from grader import registry  # noqa: E402
from tests.grading import MUTANTS, VARIANTS, student_source  # noqa: E402
from tests.nbgrading import environment, grades, nbgrader, submit  # noqa: E402

ASSIGNMENT = "bench"


def build(course: Path, exercises: list[registry.Exercise], students: int, seed: int = 0) -> dict[str, int]:
    """The course, released, with ``students`` submissions; returns how many notebooks of each kind."""
    subprocess.run(
        [sys.executable, "-m", "grader", "nbgrader", str(course), "--assignment", ASSIGNMENT,
         "--exercises", *(e.short for e in exercises)],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    nbgrader(course, "generate_assignment", ASSIGNMENT)
    rng = random.Random(seed)
    kinds = {"answer": 0, "variant": 0, "mutant": 0, "release": 0}
    for i in range(students):
        for exercise in exercises:
            pool = [("answer", ROOT / "solutions" / exercise.filename)] * 3
            pool += [("variant", p) for p in sorted((VARIANTS / exercise.id).glob("*.py"))]
            pool += [("mutant", p) for p in sorted((MUTANTS / exercise.id).glob("*.py"))] + [("release", None)]
            kind, source = rng.choice(pool)
            kinds[kind] += 1
            code = None if source is None else (student_source(source) if kind != "answer" else source.read_text(encoding="utf-8"))
            submit(course, ASSIGNMENT, f"student{i:03d}", exercise.id, code)
    return kinds


def timed(cmd: list[str], cwd: Path, profile: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=environment(profile), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--exercises", nargs="+", default=["ex1", "ex4"])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--profile", default="grading")
    parser.add_argument("--keep", type=Path, help="leave both courses here")
    args = parser.parse_args()
    exercises = [registry.find(name) for name in args.exercises]
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        course, copy = base / "nbgrader_course", base / "batch_course"
        kinds = build(course, exercises, args.students)
        shutil.copytree(course, copy)
        notebooks = args.students * len(exercises)
        print(f"machine: {os.cpu_count()} cores; {args.students} students x {len(exercises)} notebooks "
              f"({', '.join(e.id for e in exercises)}) = {notebooks} notebooks {kinds}; profile {args.profile}")  # fmt: skip
        t_nbgrader = timed([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT], course, args.profile)
        print(f"nbgrader autograde: {t_nbgrader:.1f} s ({t_nbgrader / notebooks:.2f} s a notebook)")
        t_batch = timed(
            [sys.executable, "-m", "grader", "batch", "--nbgrader", str(copy), "--assignment", ASSIGNMENT,
             "--workers", str(args.workers), "--profile", args.profile],
            ROOT, args.profile,
        )  # fmt: skip
        print(f"grader batch --nbgrader --workers {args.workers}: {t_batch:.1f} s ({t_batch / notebooks:.2f} s a notebook)")
        ours, theirs = grades(copy, ASSIGNMENT), grades(course, ASSIGNMENT)
        differ = {k: (ours.get(k), theirs.get(k)) for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k)}
        totals = sum(v or 0 for v in theirs.values())
        verdict = "same scores in every grade cell" if not differ else f"DIFFERENT scores in {len(differ)} cells: {differ}"
        print(f"speed-up: {t_nbgrader / t_batch:.2f}x; {verdict} ({len(theirs)} grade cells, {totals:g} points in all)")


if __name__ == "__main__":
    main()
