"""The graded checks of an exercise, in file order, read from its check module (no pytest run)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from grader.registry import Exercise
from grader.spec import CheckInfo


@dataclass(frozen=True)
class Check:
    """One graded check: its function's name and what it declares."""

    exercise: Exercise
    name: str  # e.g. "test_last_token_values"
    info: CheckInfo

    @property
    def grade_id(self) -> str:
        """Its nbgrader grade id, unique in an assignment: ``ex1_test_last_token_values``."""
        return f"{self.exercise.short}_{self.name}"

    def pass_line(self, profile: str) -> str:
        """What a test cell prints when the check passes."""
        points = f"{self.info.points:g}"
        return f"✓ {points} / {points}  {self.info.title}  [{self.exercise.short}, {profile}]"


def checks(exercise: Exercise) -> list[Check]:
    """Every ``@check`` function of ``exercise``'s check module, in the order the file defines them."""
    module = importlib.import_module(exercise.check_module)
    found = []
    for name, value in vars(module).items():
        if not name.startswith("test_") or not callable(value):
            continue
        marks = [m for m in getattr(value, "pytestmark", []) if m.name == "check"]
        if marks:
            found.append(Check(exercise, name, marks[0].args[0]))
    return found
