"""What a grading run can be asked for on a command line: its hypothesis profile and the isolated worker's limits.

Only names and numbers, importable without torch or hypothesis: the command lines
(:mod:`grader.cli`, :mod:`grader.instructor.cli`) parse their arguments, and refuse a typo,
before anything heavy loads, and a batch's coordinating process never imports torch at all.
The profiles themselves are defined in :mod:`grader.profiles`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Quick feedback while working, examples remembered and replayed (``grader check``'s default).
STUDENT = "student"
#: Reproducible grades: the same examples for every student, more of them (``batch``'s default).
GRADING = "grading"
#: The grading profile with a quarter of the examples, for trying a set-up quickly.
SMOKE = "smoke"
#: A student release's examples: the ones its recorded bank holds.
RELEASE = "release"
PROFILES = (STUDENT, GRADING, SMOKE, RELEASE)


@dataclass(frozen=True)
class Limits:
    """What the student's code may use when it runs isolated (see grader/isolation/).

    ``call_timeout_s``: wall-clock seconds per request; ``memory_mb``: memory on top of
    what torch itself takes; ``cpu_s``: CPU seconds of one worker (all its threads);
    ``budget_s``: wall-clock seconds of the student's code across all the checks of one
    grading run, after which the remaining checks fail at once.
    """

    call_timeout_s: float = 20.0
    memory_mb: int = 2048
    cpu_s: float = 300.0
    budget_s: float = 600.0
