"""Grade a whole class: every student's folder, isolated, on every core, resumably.

``python -m grader batch SUBMISSIONS_DIR --out OUT_DIR`` grades
``SUBMISSIONS_DIR/<student_id>/`` (that student's ``.py`` or ``.ipynb`` exercise files)
and writes, for each student, ``OUT_DIR/<student_id>/results.json`` (Gradescope format)
and ``feedback.txt``, then ``OUT_DIR/grades.csv`` for the class.

- Each submission is graded by :func:`grade_submission` in a pool process that
  imported torch once; its code runs in isolated workers (:mod:`grader.isolation.runner`).
- The executor is a parameter: a local process pool by default, or a Dask cluster
  (``--dask-scheduler``) through ``distributed.Client.get_executor()``.
- Each student's files are staged first (:mod:`.staging`: links refused, sizes bounded);
  pool processes and workers get, and the hash reads, the staged copy only. One student
  never stops the class: what goes wrong with one (staging, hashing, grading, rendering,
  writing) is their grader error, and a broken pool is replaced (:mod:`.pool`).
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
import hashlib
import io
import json
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import loader, registry
from grader.instructor import grades, pool, staging
from grader.instructor.grades import csv_cell, grader_errors  # noqa: F401 - the batch's API (cli.py, tests)
from grader.options import Limits

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
    sandbox: bool = True  # False only where the instructor said --unsafe-no-sandbox


@dataclass(frozen=True, eq=False)
class Job:
    student: str
    staged: staging.Staged
    digest: str

#: The kit's own names at the top of OUT_DIR: a student with one of these ids gets ``OUT_DIR/.students/<id>/``.
RESERVED = frozenset({GRADES})


def student_dir(out: Path, student: str) -> Path:
    """The folder of a student's results.json and feedback.txt (``OUT_DIR/<student_id>/`` but for :data:`RESERVED` ids)."""
    return staging.student_dir(out, student, RESERVED)


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
    # a link to a folder, or a dangling or looping link, is a student too: staging refuses it (flag symlink)
    found = sorted((p.name, p) for p in submissions.iterdir() if (p.is_dir() or p.is_symlink()) and not p.name.startswith("."))
    if not found:
        raise BatchError(
            f"{submissions} に学生のフォルダがありません / {submissions} holds no student folders: expected "
            "SUBMISSIONS_DIR/<student_id>/ex1_last_token.py (or .ipynb), ..."
        )
    check_ids(found)
    return found


def check_ids(everyone: Sequence[tuple[str, Path]]) -> None:
    """Refuse, before anyone is graded, a student id that cannot name a folder of OUT_DIR (:func:`staging.check_id`)."""
    bad = [f"{student!r}: {why}" for student, _ in everyone if (why := staging.check_id(student))]
    if bad:
        raise BatchError(
            "使えない学生 ID があります (フォルダ名を変えてください) / these student ids cannot be used (rename their "
            "folders; no one was graded):\n" + "\n".join(bad)
        )


def content_hash(staged: staging.Staged, settings: Settings) -> str:
    """A digest of everything the grade depends on: the staged files, the grader and reference sources, the settings."""
    digest = hashlib.sha256()
    digest.update(json.dumps([settings.exercises, settings.profile, vars(settings.limits), settings.sandbox]).encode())
    digest.update(_kit_digest().encode())
    for exercise_id in settings.exercises:
        if exercise_id in staged.files:
            suffix, content = staged.files[exercise_id]
            digest.update(exercise_id.encode() + b"\0" + suffix.encode() + b"\0" + content)
        elif exercise_id in staged.refused:
            digest.update(exercise_id.encode() + b"\0refused:" + staged.refused[exercise_id].flag.encode())
        else:
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
    limits, sandbox = settings.limits, "on" if settings.sandbox else "off"
    extra = ["--isolate", "--call-timeout", str(limits.call_timeout_s), "--worker-memory", str(limits.memory_mb),
             "--budget", str(limits.budget_s), "--sandbox", sandbox]  # fmt: skip
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
    jobs = [Settings((exercise,), PREFLIGHT_PROFILE, settings.limits, settings.sandbox) for exercise in settings.exercises]
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
    "load_error": loader.LOAD_ERROR_PHRASES,
    "timeout": ("did not finish within",),
    "crashed": ("the process running your code ended",),
    "over_budget": ("used up its time budget",),
}
#: The flag of an exercise the kit could not grade (it has no score).
GRADER_ERROR = grades.GRADER_ERROR


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
    replace: Callable[[], concurrent.futures.Executor] | None = None,
) -> Path:
    """Grade every student folder not already graded with the same content hash; return grades.csv's path.

    The folders are ``submissions/<student_id>/``, or ``everyone``'s ``(student_id, folder)``
    pairs when given (nbgrader keeps them as ``submitted/<student_id>/<assignment>/``).
    ``check_first`` runs the :func:`preflight` before the first student (when any is left
    to grade). A student whose grading broke (the kit's or the machine's fault) gets
    grader errors, not scores, and grading goes on with the others. ``replace`` makes a
    fresh executor when a process pool breaks (:mod:`grader.instructor.pool`).
    """
    everyone = list(everyone) if everyone is not None else students(submissions, out)
    check_ids(everyone)
    ids = [s for s, _ in everyone]
    exercises = [registry.find(e) for e in settings.exercises]
    staging_root = out / staging.STAGING
    shutil.rmtree(staging_root, ignore_errors=True)  # what a killed run left
    unwritten: dict[str, dict[str, Any]] = {}  # results that could not be written, still in grades.csv
    jobs, broken = [], []
    for student, folder in everyone:
        try:
            staged = staging.stage(folder, exercises, staging_root)
            try:
                digest = content_hash(staged, settings)
            except BaseException:
                staged.remove()
                raise
        except Exception as err:  # noqa: BLE001 - the kit could not stage this student: no score, and go on
            broken.append((student, f"staging: {type(err).__name__}: {err}"))
            continue
        if _recorded_hash(student_dir(out, student) / RESULTS) == digest:
            staged.remove()
        else:
            jobs.append(Job(student, staged, digest))
    done = len(everyone) - len(jobs) - len(broken)
    try:
        if (jobs or broken) and check_first:
            if progress:
                progress(0, len(everyone), "事前確認 / preflight")
            preflight(settings, executor)
        for student, why in broken:
            _record(out, student, None, _not_graded(settings, why), unwritten, settings)
            done += 1
        if broken:
            _write_csv(out, ids, settings, unwritten)
        if progress:
            progress(done, len(everyone), "")

        def finished(job: Job, graded: dict[str, Any] | None, error: BaseException | None) -> None:
            nonlocal done
            try:
                if error is not None:
                    graded = _not_graded(settings, f"{type(error).__name__}: {error}")
                else:
                    graded = staging.with_refusals(graded, job.staged)
                _record(out, job.student, job.digest, graded, unwritten, settings)
            except Exception as err:  # noqa: BLE001 - e.g. a result that cannot be written: no score, and go on
                _record(out, job.student, None, _not_graded(settings, f"{type(err).__name__}: {err}"), unwritten, settings)
            finally:
                job.staged.remove()
            _write_csv(out, ids, settings, unwritten)
            done += 1
            if progress:
                progress(done, len(everyone), job.student)

        workers = pool.Pool(executor, replace)
        try:
            pool.run_jobs(workers, jobs, lambda ex, job: ex.submit(grade_submission, str(job.staged.folder), settings), finished)
        finally:
            workers.close()
    finally:
        for job in jobs:
            job.staged.remove()
        shutil.rmtree(staging_root, ignore_errors=True)
    write_grades_csv(out, ids, settings, unwritten)
    return out / GRADES


def _record(
    out: Path, student: str, digest: str | None, graded: dict[str, Any], unwritten: dict[str, dict[str, Any]], settings: Settings
) -> None:
    """Write one student's feedback.txt, then results.json (its content hash marks the student as done).

    A student whose files cannot be written is kept in ``unwritten`` (no content hash), so
    grades.csv still has their row, and the next run grades them again.
    """
    from grader.report import write_text_atomic

    results = dict(graded["results"])
    complete = results.get("complete", True)
    # no content hash unless complete: the next run grades an unfinished student again
    results["extra_data"] = {"student_id": student, "content_hash": digest if complete else None, "flags": graded["flags"]}
    home = student_dir(out, student)
    try:
        write_text_atomic(home / FEEDBACK, graded["feedback"])
        write_text_atomic(home / RESULTS, json.dumps(results, ensure_ascii=False, indent=2) + "\n")
        unwritten.pop(student, None)
    except Exception as err:  # noqa: BLE001 - the student still gets a row (a grader error) in grades.csv
        why = f"writing {home}: {type(err).__name__}: {err}"
        failed = _not_graded(settings, why)
        unwritten[student] = {**failed["results"], "extra_data": {"student_id": student, "content_hash": None, "flags": failed["flags"]}}


def _not_graded(settings: Settings, why: str) -> dict[str, Any]:
    """What :func:`grade_submission` would return for a student the kit failed to grade at all."""
    from grader.errors import NOT_YOUR_CODE

    exercises = {e: {"score": None, "max_score": None, "violations": [], "grader_errors": [why]} for e in settings.exercises}
    results = {"score": None, "max_score": None, "complete": False, "tests": [], "exercises": exercises}
    flags_ = [f"{registry.find(e).short}:{GRADER_ERROR}" for e in settings.exercises]
    return {"results": results, "flags": flags_, "feedback": f"{NOT_YOUR_CODE}:\n{why}\n"}


def _write_csv(out: Path, ids: list[str], settings: Settings, unwritten: dict[str, dict[str, Any]]) -> None:
    """grades.csv after each student; a failure here is not the student's (the final write reports it)."""
    try:
        write_grades_csv(out, ids, settings, unwritten)
    except Exception:  # noqa: BLE001, S110 - written again after the last student, where an error is raised
        pass


def write_grades_csv(
    out: Path, student_ids: Sequence[str], settings: Settings, unwritten: dict[str, dict[str, Any]] | None = None
) -> None:
    """grades.csv from the results.json files written so far, or ``unwritten``'s results (atomically)."""

    def results_of(student: str) -> dict[str, Any] | None:
        return (unwritten or {}).get(student) or _read(student_dir(out, student) / RESULTS)

    grades.write(out / GRADES, student_ids, settings.exercises, results_of)


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
