"""Grade a whole class: every student's folder, isolated, on every core, resumably.

``python -m grader batch SUBMISSIONS_DIR --out OUT_DIR`` grades
``SUBMISSIONS_DIR/<student_id>/`` (that student's ``.py`` or ``.ipynb`` exercise files)
and writes, for each student, ``OUT_DIR/<student_id>/results.json`` (Gradescope format)
and ``feedback.txt``, then ``OUT_DIR/grades.csv`` for the class.

- Each submission is graded by :func:`grade_submission` in a pool process that
  imported torch once; its code runs in isolated workers (:mod:`grader.isolation.runner`).
- The executor is a parameter: a local process pool by default, or a Dask cluster
  (``--dask-scheduler``) through ``distributed.Client.get_executor()``.
- Only this process writes into OUT_DIR, each file atomically. A student whose
  ``results.json`` records the same content hash (their files, the grader's source,
  the settings) is not graded again, so a rerun after Ctrl-C or ``kill -9`` grades only
  what is missing or changed. grades.csv is rewritten (atomically) after every student.
- Before the first student, a *preflight* grades the model answers (``solutions/``) the
  same way, isolated, through the same executor, under the quick ``smoke`` profile. Unless
  they get full marks the run refuses to start (:class:`PreflightFailed`): a broken
  environment (a torch the kit has not seen, a GPU that cannot be used from a worker, a
  bad install) then costs seconds, not a class's grades.
- A failure of the kit or the machine (see :mod:`grader.errors`) is never a student's
  score: the exercise gets no score and the flag ``ex1:grader_error``, its results.json
  records no content hash (so the next run grades it again), and the run says so.
"""

from __future__ import annotations

import concurrent.futures
import csv
import hashlib
import io
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import registry
from grader.loader import LoadError, find_source
from grader.runner import Limits

KIT_ROOT = Path(__file__).resolve().parents[2]
RESULTS = "results.json"
FEEDBACK = "feedback.txt"
GRADES = "grades.csv"

#: One grading session per process at a time: pytest and hypothesis are not thread-safe.
_session_lock = threading.Lock()


@dataclass(frozen=True)
class Settings:
    """What a grade depends on besides the student's files."""

    exercises: tuple[str, ...]  # exercise ids
    profile: str = "grading"
    limits: Limits = Limits()


@dataclass(frozen=True)
class Job:
    student: str
    folder: Path
    digest: str


class BatchError(Exception):
    """The batch cannot start (a bad folder, say); ``str()`` says what was expected."""


class PreflightFailed(BatchError):
    """The model answers did not get full marks here: the kit cannot grade on this set-up."""


#: The profile of the preflight: deterministic, and quick (what it catches is the set-up, not the answers).
PREFLIGHT_PROFILE = "smoke"


def students(submissions: Path, out: Path) -> list[tuple[str, Path]]:
    """``(student_id, folder)`` for each folder in ``submissions``, sorted; OUT_DIR must lie elsewhere."""
    submissions, out = submissions.resolve(), out.resolve()
    if not submissions.is_dir():
        raise BatchError(f"提出フォルダ {submissions} がありません / the submissions folder {submissions} does not exist")
    if out == submissions or submissions in out.parents:
        raise BatchError(
            f"出力フォルダ {out} を提出フォルダの中に置けません / the output folder {out} must not lie inside "
            f"the submissions folder {submissions} (it would be graded as a student)"
        )
    found = sorted((p.name, p) for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not found:
        raise BatchError(
            f"{submissions} に学生のフォルダがありません / {submissions} holds no student folders: expected "
            "SUBMISSIONS_DIR/<student_id>/ex1_last_token.py (or .ipynb), ..."
        )
    return found


def content_hash(folder: Path, settings: Settings) -> str:
    """A digest of everything the grade depends on: the files, the grader and reference sources, the settings."""
    digest = hashlib.sha256()
    digest.update(json.dumps([settings.exercises, settings.profile, settings.limits.call_timeout_s, settings.limits.memory_mb]).encode())
    digest.update(_kit_digest().encode())
    for exercise_id in settings.exercises:
        try:
            source = find_source(folder, registry.find(exercise_id))
            digest.update(exercise_id.encode() + b"\0" + source.suffix.encode() + b"\0" + source.read_bytes())
        except LoadError:
            digest.update(exercise_id.encode() + b"\0missing")
    return digest.hexdigest()


_kit: str | None = None


def _kit_digest() -> str:
    global _kit
    if _kit is None:
        digest = hashlib.sha256()
        for path in sorted([*KIT_ROOT.glob("grader/**/*.py"), *KIT_ROOT.glob("reference/**/*.py")]):
            digest.update(str(path.relative_to(KIT_ROOT)).encode() + b"\0" + path.read_bytes())
        _kit = digest.hexdigest()
    return _kit


def grade_submission(folder: str, settings: Settings) -> dict[str, Any]:
    """Grade one student's folder (isolated); returns the results.json content and the feedback text.

    Runs in a pool process (or on a Dask worker). It writes nothing: the caller does.
    """
    from rich.console import Console

    from grader import report
    from grader.session import grade

    exercises = [registry.find(e) for e in settings.exercises]
    extra = ["--isolate", "--call-timeout", str(settings.limits.call_timeout_s), "--worker-memory", str(settings.limits.memory_mb)]
    with _session_lock:
        results = grade(exercises, Path(folder), settings.profile, extra)
    text = io.StringIO()
    report.render(results, Console(file=text, width=110, no_color=True, force_terminal=False))
    return {"results": report.gradescope(results), "flags": flags(results), "feedback": text.getvalue()}


def preflight(settings: Settings, executor: concurrent.futures.Executor) -> None:
    """Grade the model answers as the students will be graded (isolated, same limits, same executor).

    One job per exercise, so the pool's processes share the work. Raises
    :class:`PreflightFailed`, naming each check that failed and why, unless every
    exercise gets full marks with no grader error.
    """
    answers = KIT_ROOT / "solutions"
    if not answers.is_dir():
        raise PreflightFailed(
            f"事前確認には模範解答 {answers} が必要です / the preflight grades the model answers, but {answers} "
            "does not exist (run from the kit's checkout, or pass --no-preflight)"
        )
    jobs = [Settings((exercise,), PREFLIGHT_PROFILE, settings.limits) for exercise in settings.exercises]
    futures = [executor.submit(grade_submission, str(answers), job) for job in jobs]
    problems = []
    for job, future in zip(jobs, futures):
        try:
            results = future.result()["results"]
        except Exception as err:  # noqa: BLE001 - the pool itself broke: that is what a preflight is for
            problems.append(f"{job.exercises[0]}: {type(err).__name__}: {err}")
            continue
        for test in results["tests"]:
            if test["status"] != "passed" or test["score"] != test["max_score"]:
                problems.append(f"{test['name']} [{test['status']}]:\n{_indent(str(test['output'])[:1500])}")
    if problems:
        raise PreflightFailed(
            "事前確認: 模範解答が満点になりません。この環境では採点できません (学生は採点していません) / "
            "preflight: the model answers do not get full marks here, so this set-up cannot grade "
            "(no student was graded). Fix the environment (torch, GPU, install), or pass --no-preflight "
            "to grade anyway:\n" + "\n".join(problems)
        )


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


#: Phrases in a failure that flag an exercise in grades.csv, so an instructor can look closer.
FLAG_PHRASES = {
    "load_error": ("could not be imported", "was not found in"),
    "timeout": ("did not finish within",),
    "crashed": ("the process running your code ended",),
}


#: The flag of an exercise the kit could not grade (it has no score).
GRADER_ERROR = "grader_error"


def flags(results: Any) -> list[str]:
    """Short tags such as ``ex2:forbidden`` or ``ex3:timeout`` for the CSV's flags column."""
    found = []
    for ex in results.exercises:
        if not ex.graded:
            found.append(f"{ex.exercise.short}:{GRADER_ERROR}")
            continue
        if ex.violations:
            found.append(f"{ex.exercise.short}:forbidden")
        messages = " ".join(c.message for check in ex.checks for c in check.cases)
        for flag, phrases in FLAG_PHRASES.items():
            if any(p in messages for p in phrases):
                found.append(f"{ex.exercise.short}:{flag}")
    return found


def run(
    submissions: Path,
    out: Path,
    settings: Settings,
    executor: concurrent.futures.Executor,
    progress: Callable[[int, int, str], None] | None = None,
    everyone: Sequence[tuple[str, Path]] | None = None,
    *,
    check_first: bool = True,
) -> Path:
    """Grade every student folder not already graded with the same content hash; return grades.csv's path.

    The folders are ``submissions/<student_id>/``, or ``everyone``'s ``(student_id, folder)``
    pairs when given (nbgrader keeps them as ``submitted/<student_id>/<assignment>/``).
    ``check_first`` runs the :func:`preflight` before the first student (when any is left
    to grade). A student whose grading broke (the kit's or the machine's fault) gets
    grader errors, not scores, and grading goes on with the others.
    """
    from grader.report import write_text_atomic

    everyone = list(everyone) if everyone is not None else students(submissions, out)
    jobs = []
    for student, folder in everyone:
        digest = content_hash(folder, settings)
        if _recorded_hash(out / student / RESULTS) != digest:
            jobs.append(Job(student, folder, digest))
    done = len(everyone) - len(jobs)
    if jobs and check_first:
        if progress:
            progress(0, len(everyone), "事前確認 / preflight")
        preflight(settings, executor)
    if progress:
        progress(done, len(everyone), "")
    futures = {executor.submit(grade_submission, str(job.folder), settings): job for job in jobs}
    try:
        for future in concurrent.futures.as_completed(futures):
            job = futures[future]
            try:
                graded = future.result()
            except Exception as err:  # noqa: BLE001 - the kit broke on this student: no score, and go on
                graded = _not_graded(settings, f"{type(err).__name__}: {err}")
            results = dict(graded["results"])
            complete = results.get("complete", True)
            # no content hash unless complete: the next run grades an unfinished student again
            results["extra_data"] = {"student_id": job.student, "content_hash": job.digest if complete else None, "flags": graded["flags"]}
            write_text_atomic(out / job.student / FEEDBACK, graded["feedback"])
            # results.json last: its content hash marks the student as done
            write_text_atomic(out / job.student / RESULTS, json.dumps(results, ensure_ascii=False, indent=2) + "\n")
            write_grades_csv(out, [s for s, _ in everyone], settings)
            done += 1
            if progress:
                progress(done, len(everyone), job.student)
    finally:
        for future in futures:
            future.cancel()
    write_grades_csv(out, [s for s, _ in everyone], settings)
    return out / GRADES


def _not_graded(settings: Settings, why: str) -> dict[str, Any]:
    """What :func:`grade_submission` would return for a student the kit failed to grade at all."""
    from grader.errors import NOT_YOUR_CODE

    exercises = {e: {"score": None, "max_score": None, "violations": [], "grader_errors": [why]} for e in settings.exercises}
    results = {"score": None, "max_score": None, "complete": False, "tests": [], "exercises": exercises}
    flags_ = [f"{registry.find(e).short}:{GRADER_ERROR}" for e in settings.exercises]
    return {"results": results, "flags": flags_, "feedback": f"{NOT_YOUR_CODE}:\n{why}\n"}


def grader_errors(grades_csv: Path) -> list[str]:
    """The students in grades.csv with an exercise the kit could not grade (flag ``exN:grader_error``)."""
    with Path(grades_csv).open(encoding="utf-8", newline="") as f:
        return [row["student_id"] for row in csv.DictReader(f) if f":{GRADER_ERROR}" in row.get("flags", "")]


def write_grades_csv(out: Path, student_ids: Sequence[str], settings: Settings) -> None:
    """grades.csv from the results.json files written so far (atomically: never half a file)."""
    from grader.report import write_text_atomic

    exercises = [registry.find(e) for e in settings.exercises]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["student_id", *(e.id for e in exercises), "total", "max", "flags"])
    for student in student_ids:
        results = _read(out / student / RESULTS)
        if results is None:
            continue
        scores = results.get("exercises", {})
        row = [_points(scores.get(e.id, {}).get("score", 0.0)) for e in exercises]
        flags_ = results.get("extra_data", {}).get("flags", [])
        writer.writerow([student, *row, _points(results["score"]), _points(results["max_score"]), ";".join(flags_)])
    write_text_atomic(out / GRADES, text.getvalue())


def _points(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _recorded_hash(path: Path) -> str | None:
    results = _read(path)
    return None if results is None else results.get("extra_data", {}).get("content_hash")


def local_executor(workers: int | None) -> concurrent.futures.Executor:
    """A process pool with ``workers`` processes (all cores by default), each importing torch once."""
    import multiprocessing

    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1, mp_context=multiprocessing.get_context("forkserver")
    )
