"""``python -m grader release OUT_DIR``: the folder handed to students, with no answers in it.

A release holds the stubs (``exercises/``), the public grader (``grader/``: the engine
and its isolation layer, never ``grader/instructor/``), a recorded oracle bank
(``grader/oracle_bank.pt``, see grader/bank.py), a README for students and a
pyproject.toml whose pytest configuration makes a bare ``pytest`` grade ``exercises/``.
It holds no ``solutions/``, no ``reference/`` and no ``tests/`` (mutants are answers
with one mistake).

The bank is recorded here: the checks grade ``solutions/`` in this process, with the
reference present, under the "release" hypothesis profile (fixed seed, examples other
than the grading profile's), and every oracle call's result is kept by its key.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import torch
from rich.console import Console

from grader import bank, oracle, profiles, registry

KIT_ROOT = Path(__file__).resolve().parents[2]
GRADER_DIR = KIT_ROOT / "grader"
INSTRUCTOR_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = INSTRUCTOR_DIR / "release_template"


class ReleaseError(RuntimeError):
    """The release cannot be built (a folder in the way, the model answers not at full marks, ...)."""


@dataclass
class Recorder:
    """An oracle listener that keeps every call's result by its bank key, and which check cases made calls."""

    entries: dict[str, object] = field(default_factory=dict)
    cases: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    calls: Counter = field(default_factory=Counter)  # exercise id -> oracle calls
    keys: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # exercise id -> keys
    devices: set[str] = field(default_factory=lambda: {"cpu"})  # device types results were computed on

    def __call__(self, call: oracle.Call) -> None:
        key = bank.key(call.name, call.arguments)
        self.devices.add((bank.device_of(call.arguments) or torch.device("cpu")).type)
        self.entries[key] = bank.moved(call.result, None)
        exercise = _exercise_of(call.check)
        self.calls[exercise] += 1
        self.keys[exercise].add(key)
        if call.check is not None:
            found = self.cases[call.check]
            if call.case is not None:
                found.add(call.case)


def _exercise_of(check: str | None) -> str:
    """``ex1_last_token::test_x`` -> ``ex1_last_token``."""
    if check is None:
        return "?"
    return check.split("::", 1)[0]


@dataclass
class Summary:
    """What a release holds: its folder, its bank's size, and the bank's calls and entries per exercise."""

    out: Path
    bank_bytes: int
    calls: dict[str, int]
    entries: dict[str, int]
    files: list[str]


def build(out: Path) -> Summary:
    """Build the student release in ``out`` (which must be new or empty)."""
    from grader.session import grade

    out = out.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ReleaseError(f"{out} が空ではありません / {out} is not empty: give a new or empty folder")
    if oracle.replaying() or importlib.util.find_spec("reference") is None:
        raise ReleaseError(
            "参照実装がありません (これは配布用のフォルダですか?) / no reference here (is this a release?): "
            "build a release from the kit itself"
        )
    recorder = Recorder()
    with oracle.listening(recorder):
        results = grade(list(registry.EXERCISES), KIT_ROOT / "solutions", profiles.RELEASE)
    if results.score != results.max_score:
        failed = [f"{c.exercise.id}::{c.name}" for e in results.exercises for c in e.checks if c.score < c.max_score]
        raise ReleaseError("模範解答が満点になりません / the model answers do not get full marks: " + ", ".join(failed))

    out.mkdir(parents=True, exist_ok=True)
    files = [*_copy_exercises(out), *_copy_grader(out), *_write_templates(out)]
    bank_path = out / "grader" / bank.BANK_PATH.name
    profile = {"name": profiles.RELEASE, "seed": profiles.RELEASE_SEED}
    bank.save(bank_path, recorder.entries, recorder.cases, profile, recorder.devices)
    files.append(str(bank_path.relative_to(out)))
    return Summary(
        out,
        bank_path.stat().st_size,
        dict(sorted(recorder.calls.items())),
        {ex: len(keys) for ex, keys in sorted(recorder.keys.items())},
        sorted(files),
    )


def _copy_exercises(out: Path) -> list[str]:
    """The stubs, exactly as in the kit."""
    copied = []
    for ex in registry.EXERCISES:
        target = out / "exercises" / ex.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(KIT_ROOT / "exercises" / ex.filename, target)
        copied.append(str(target.relative_to(out)))
    return copied


def _copy_grader(out: Path) -> list[str]:
    """The public grader: every module of ``grader/`` except the instructor's tools (``grader/instructor/``)."""
    copied = []
    for source in sorted(GRADER_DIR.rglob("*.py")):
        if INSTRUCTOR_DIR in source.parents or "__pycache__" in source.parts:
            continue
        target = out / "grader" / source.relative_to(GRADER_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(str(target.relative_to(out)))
    return copied


def _write_templates(out: Path) -> list[str]:
    """README.md and pyproject.toml for students, with the versions that replay the bank filled in."""
    pins = bank.versions()
    written = []
    for template in sorted(TEMPLATE_DIR.iterdir()):
        if template.is_file():
            text = template.read_text(encoding="utf-8")
            for name, version in pins.items():
                text = text.replace("{" + name + "_version}", version)
            (out / template.name).write_text(text, encoding="utf-8")
            written.append(template.name)
    return written


def describe(summary: Summary) -> str:
    """A few lines for the instructor: where the release is and what its bank holds."""
    lines = [
        f"release: {summary.out}",
        f"oracle bank: grader/{bank.BANK_PATH.name}, {summary.bank_bytes / 1e6:.2f} MB",
    ]
    for ex, calls in summary.calls.items():
        lines.append(f"  {ex}: {calls} oracle calls, {summary.entries.get(ex, 0)} recorded results")
    return "\n".join(lines)


def main(out: Path, console: Console) -> int:
    """``python -m grader release OUT_DIR``: build, then say what was built (exit 2 if it cannot be)."""
    try:
        summary = build(out)
    except ReleaseError as err:
        console.print(f"[red]{err}[/red]")
        return 2
    console.print(describe(summary))
    return 0
