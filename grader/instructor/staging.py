"""Stage a student's files before anyone runs them: a copy the grading process owns.

The batch (:mod:`grader.instructor.batch`) never hands a student's own folder to a pool
process or a worker, and never opens it for writing. It copies each exercise file into a
staging folder of its own (under ``OUT_DIR/.staging/``), and grades and hashes that copy:

- a link is refused, not followed (flag ``exN:symlink``): a link could point at another
  student's work, the kit's answers, or loop; the exercise scores 0 and says why;
- a file larger than :data:`MAX_BYTES` is refused (flag ``exN:too_large``);
- anything that is not a plain file (a folder, a FIFO) counts as missing, as before.

Student ids are checked too (:func:`check_id`), and each student's results get a folder
that cannot collide with the kit's own output files (:func:`student_dir`).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.registry import Exercise, find

#: The largest exercise file staged (a notebook with outputs included).
MAX_BYTES = 16 * 1024 * 1024
#: Where the staged copies live, inside OUT_DIR (a dot name: no valid student id starts with a dot).
STAGING = ".staging"
#: Where students whose id is one of the kit's own top-level output names get their folder.
RESERVED_HOME = ".students"
SYMLINK = "symlink"
TOO_LARGE = "too_large"
SUFFIXES = (".py", ".ipynb")  # in grader.loader.find_source's order


@dataclass(frozen=True)
class Refusal:
    """An exercise file that was not staged, and why (a flag name and a bilingual message)."""

    flag: str
    message: str


@dataclass
class Staged:
    """A student's staged copy: the folder a pool process grades, and what it holds."""

    folder: Path
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # exercise id -> (suffix, content)
    refused: dict[str, Refusal] = field(default_factory=dict)  # exercise id -> why it was not staged

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def check_id(student: str) -> str | None:
    """Why ``student`` cannot be a student id (a folder name in OUT_DIR), or None when it can."""
    if not student or student.strip() != student:
        return "空、または前後に空白があります / it is empty or has leading or trailing spaces"
    if student.startswith("."):
        return "ドットで始まります / it starts with a dot"
    if any(c in student for c in "/\\\0") or any(ord(c) < 32 for c in student):
        return "パス区切りか制御文字を含みます / it holds a path separator or a control character"
    return None


def student_dir(out: Path, student: str, reserved: frozenset[str]) -> Path:
    """The folder of ``student``'s results.json and feedback.txt: ``OUT_DIR/<id>/`` unless that name is
    one of the kit's own (``reserved``, compared case-insensitively), then ``OUT_DIR/.students/<id>/``."""
    if student.casefold() in {name.casefold() for name in reserved}:
        return out / RESERVED_HOME / student
    return out / student


def stage(folder: Path, exercises: list[Exercise], root: Path) -> Staged:
    """Copy each exercise file of ``folder`` into a new folder under ``root``; never follows a link.

    Raises OSError only when ``root`` itself cannot be written (the kit's problem, not the student's).
    """
    root.mkdir(parents=True, exist_ok=True)
    staged = Staged(Path(tempfile.mkdtemp(dir=root, prefix="s-")))
    try:
        if _is_link(folder):
            for exercise in exercises:
                staged.refused[exercise.id] = _link_refusal(folder.name)
            return staged
        for exercise in exercises:
            _stage_one(folder, exercise, staged)
    except BaseException:
        staged.remove()
        raise
    return staged


def with_refusals(graded: dict[str, Any], staged: Staged) -> dict[str, Any]:
    """A graded student's results with each refused exercise file (a link, too large) said so, and flagged."""
    if not staged.refused:
        return graded
    results = json.loads(json.dumps(graded["results"]))
    flags_, notes = list(graded["flags"]), []
    for exercise_id, refusal in staged.refused.items():
        short = find(exercise_id).short
        flags_ = [f for f in flags_ if f != f"{short}:load_error"] + [f"{short}:{refusal.flag}"]
        results.get("exercises", {}).setdefault(exercise_id, {})["refused"] = refusal.message
        for test in results.get("tests", []):
            if exercise_id in test.get("tags", []):
                test["output"] = refusal.message
        notes.append(f"{exercise_id}: {refusal.message}")
    return {"results": results, "flags": flags_, "feedback": "\n".join(notes) + "\n\n" + graded["feedback"]}


def _stage_one(folder: Path, exercise: Exercise, staged: Staged) -> None:
    for suffix in SUFFIXES:
        source = folder / f"{exercise.id}{suffix}"
        try:
            info = os.lstat(source)
        except OSError:
            continue  # missing (or the folder cannot be read): as before, the next suffix, then "not found"
        if stat.S_ISLNK(info.st_mode):
            staged.refused[exercise.id] = _link_refusal(source.name)
            return
        if not stat.S_ISREG(info.st_mode):
            continue
        try:
            content = _read_no_follow(source)
        except OSError as err:
            if err.errno == errno.ELOOP:  # swapped for a link since lstat
                staged.refused[exercise.id] = _link_refusal(source.name)
                return
            raise
        if content is None:
            staged.refused[exercise.id] = Refusal(
                TOO_LARGE,
                f"{source.name} は {MAX_BYTES // (1024 * 1024)} MiB を超えるため採点しません / {source.name} is larger "
                f"than {MAX_BYTES // (1024 * 1024)} MiB and was not graded (0 points)",
            )
            return
        (staged.folder / source.name).write_bytes(content)
        staged.files[exercise.id] = (suffix, content)
        return


def _read_no_follow(path: Path) -> bytes | None:
    """The file's bytes, or None when it holds more than :data:`MAX_BYTES`; refuses a link (ELOOP)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(errno.EINVAL, f"not a plain file: {path}")
        content = f.read(MAX_BYTES + 1)
    return None if len(content) > MAX_BYTES else content


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def _link_refusal(name: str) -> Refusal:
    return Refusal(
        SYMLINK,
        f"{name} はリンク (シンボリックリンク) なので採点しません。ファイルそのものを提出してください / {name} is a "
        "link (symlink), which the grader does not follow: it was not graded (0 points). Hand in the file itself.",
    )
