"""Hypothesis profiles: quick feedback for students, reproducible grades for instructors."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

STUDENT = "student"
GRADING = "grading"
SMOKE = "smoke"
PROFILES = (STUDENT, GRADING, SMOKE)

_COMMON = dict(
    deadline=None,  # no timing flakiness: slow machines must not fail a correct answer
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=False,
    report_multiple_bugs=False,  # one failure per check: the smallest example of the first bug found
)

# Quick: few examples, randomised, failures remembered in .hypothesis/ and replayed first.
# (No "explain" phase: its notes never reach the student, since failures are reported our way.)
settings.register_profile(
    STUDENT, max_examples=12, phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink), **_COMMON
)

# Defensible: every student gets the same examples (derandomize), more of them, and
# nothing from an example database can change a grade between reruns.
settings.register_profile(
    GRADING,
    max_examples=40,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    **_COMMON,
)


# Grading with a quarter of the examples: deterministic like "grading", for trying out a
# grading set-up (and the kit's own batch tests) quickly. Grade for real with "grading".
settings.register_profile(
    SMOKE,
    max_examples=10,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    **_COMMON,
)


def load(name: str) -> None:
    """Make ``name`` the active profile for every check."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    settings.load_profile(name)
