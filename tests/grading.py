"""Grade a folder the way an instructor would (the CLI, grading profile) and read back the JSON."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "tests" / "mutants"
VARIANTS = ROOT / "tests" / "variants"


@dataclass
class Graded:
    """One exercise's outcome: check name -> (score, max_score), and the raw JSON."""

    checks: dict[str, tuple[float, float]]
    raw: dict

    @property
    def failed(self) -> set[str]:
        return {name for name, (score, top) in self.checks.items() if score < top}

    def output(self, check: str) -> str:
        return next(t["output"] for t in self.raw["tests"] if t["tags"][2] == check)


def grade(target: Path, exercises: list[str], profile: str = "grading", timeout: float = 600) -> dict:
    """Run ``python -m grader check`` on ``target`` and return its results.json."""
    out = target / "results.json"
    cmd = [sys.executable, "-m", "grader", "check", *exercises, "--target", str(target), "--json", str(out)]
    proc = subprocess.run(
        [*cmd, "--profile", profile], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"grader failed to run ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return json.loads(out.read_text(encoding="utf-8"))


def by_exercise(raw: dict, exercise_id: str) -> Graded:
    checks = {t["tags"][2]: (t["score"], t["max_score"]) for t in raw["tests"] if t["tags"][0] == exercise_id}
    return Graded(checks, raw)


def grade_file(tmp_path: Path, exercise_id: str, source: Path, profile: str = "grading") -> Graded:
    """Grade one exercise file (a mutant or a variant) as if it were a student's submission."""
    shutil.copy(source, tmp_path / f"{exercise_id}.py")
    return by_exercise(grade(tmp_path, [exercise_id], profile), exercise_id)


def expected_failures(source: Path) -> set[str]:
    """The ``EXPECTED_FAILURES`` set a mutant file declares (read without importing it)."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "EXPECTED_FAILURES" for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError(f"{source} declares no EXPECTED_FAILURES")


def files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*/*.py") if not p.name.startswith("_"))
