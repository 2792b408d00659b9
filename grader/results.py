"""What a grading run found: cases -> checks -> exercises, and the points they earn.

A check's points are shared equally among its cases that ran (skipped CUDA cases do
not count), so a machine without a GPU grades out of the same maximum. A case the kit
could not grade (a :class:`~grader.errors.GraderError`) is an ``error``: its exercise
gets no score at all rather than a score the student did not earn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.registry import Exercise
from grader.spec import CheckInfo

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
#: The kit or the machine failed on this case: no score for its exercise (see grader/errors.py).
ERROR = "error"


@dataclass
class CaseResult:
    case: str  # e.g. "cpu-float32", or "" for an unparametrised check
    outcome: str  # PASSED, FAILED, SKIPPED or ERROR
    message: str = ""
    hint: str = ""  # a failure's own hint, replacing the check's (see grader.feedback.CheckFailure)
    seconds: float = 0.0  # how long the case ran (where grading time goes, e.g. on a GPU)


@dataclass
class CheckResult:
    exercise: Exercise
    name: str  # the check function's name, e.g. "test_values"
    info: CheckInfo
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def ran(self) -> list[CaseResult]:
        return [c for c in self.cases if c.outcome != SKIPPED]

    @property
    def errors(self) -> list[CaseResult]:
        """Cases the kit could not grade."""
        return [c for c in self.cases if c.outcome == ERROR]

    @property
    def failures(self) -> list[CaseResult]:
        return [c for c in self.cases if c.outcome == FAILED]

    @property
    def max_score(self) -> float:
        return self.info.points

    @property
    def score(self) -> float:
        ran = self.ran
        if not ran:
            return 0.0
        passed = sum(c.outcome == PASSED for c in ran)
        return round(self.info.points * passed / len(ran), 4)

    @property
    def status(self) -> str:
        if self.errors:
            return ERROR
        return PASSED if self.ran and not self.failures else FAILED


@dataclass
class ExerciseResult:
    exercise: Exercise
    checks: list[CheckResult] = field(default_factory=list)
    #: Forbidden actions the submission attempted (see grader/isolation/guard.py); any one scores the exercise 0.
    violations: list[str] = field(default_factory=list)

    @property
    def grader_errors(self) -> list[str]:
        """Why the kit could not grade this exercise (each distinct message once); empty when it could."""
        found: list[str] = []
        for check in self.checks:
            found += [c.message for c in check.errors if c.message not in found]
        return found

    @property
    def graded(self) -> bool:
        """Whether the exercise has a score: no grader error, or a forbidden action (which scores 0 anyway)."""
        return bool(self.violations) or not self.grader_errors

    @property
    def score(self) -> float:
        """The exercise's points; 0 for a forbidden action. Meaningless unless :attr:`graded`."""
        if self.violations:
            return 0.0
        return round(sum(c.score for c in self.checks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 4)


@dataclass
class Results:
    exercises: list[ExerciseResult] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every exercise has a score (no grader error anywhere)."""
        return all(e.graded for e in self.exercises)

    @property
    def score(self) -> float:
        """The points of the exercises that have a score (see :attr:`complete`)."""
        return round(sum(e.score for e in self.exercises if e.graded), 4)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 4)

    def exercise(self, exercise_id: str) -> ExerciseResult:
        for e in self.exercises:
            if e.exercise.id == exercise_id:
                return e
        raise KeyError(exercise_id)


class Collector:
    """Gathers case outcomes as pytest reports them, in collection order."""

    def __init__(self) -> None:
        self._checks: dict[tuple[str, str], CheckResult] = {}
        self._exercises: dict[str, ExerciseResult] = {}

    def declare(self, exercise: Exercise, name: str, info: CheckInfo) -> CheckResult:
        key = (exercise.id, name)
        if key not in self._checks:
            check = CheckResult(exercise, name, info)
            self._checks[key] = check
            self._exercises.setdefault(exercise.id, ExerciseResult(exercise)).checks.append(check)
        return self._checks[key]

    def record(self, exercise: Exercise, name: str, info: CheckInfo, case: CaseResult) -> None:
        self.declare(exercise, name, info).cases.append(case)

    def forfeit(self, exercise: Exercise, violations: list[str]) -> None:
        """The submission attempted something forbidden while ``exercise`` was graded: it scores 0."""
        result = self._exercises.setdefault(exercise.id, ExerciseResult(exercise))
        result.violations.extend(v for v in violations if v not in result.violations)

    def results(self) -> Results:
        return Results(list(self._exercises.values()))
