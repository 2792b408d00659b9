"""Hypothesis profiles: quick feedback for students, reproducible grades for instructors."""

from __future__ import annotations

import hypothesis.core
from hypothesis import HealthCheck, Phase, settings
from hypothesis.internal.conjecture import providers
from hypothesis.internal.constants_ast import Constants

from grader import oracle

STUDENT = "student"
GRADING = "grading"
SMOKE = "smoke"
RELEASE = "release"
PROFILES = (STUDENT, GRADING, SMOKE, RELEASE)

#: The seed of the release profile's examples (see RELEASE below).
RELEASE_SEED = 0x5EED_2026

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


# The examples of a student release, drawn the same way every time but not the grading
# profile's: its recorded oracle bank (grader/bank.py) must not be a table of the examples
# students are graded on. "grading" seeds each check by a digest of its source and pytest
# id (derandomize); this profile draws from one fixed seed instead (hypothesis's own
# --hypothesis-seed mechanism, set in load()), the same for every case of a check, so a
# CUDA case draws exactly its CPU twin's recorded examples.
settings.register_profile(
    RELEASE,
    max_examples=40,
    derandomize=False,
    database=None,
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    **_COMMON,
)


def load(name: str) -> None:
    """Make ``name`` the active profile for every check.

    In a student release (no ``reference/``, a recorded bank) the release profile is used
    whatever ``name`` says: only the recorded examples can be graded there.
    """
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    if oracle.replaying():
        name = RELEASE
    settings.load_profile(name)
    _seed_alone(name == RELEASE)


_LOCAL_CONSTANTS = providers._get_local_constants  # noqa: SLF001


def _seed_alone(on: bool) -> None:
    """Make (``on``) or stop making the examples a function of the release seed alone.

    Hypothesis now and then draws a constant found in the source of a loaded local module
    (the grader's, the reference's, the student's own file). Where the reference is
    missing (a release) or another student's file is loaded, the same seed would then draw
    other examples than the ones recorded; so the release profile draws without them.
    (Private hypothesis names: the release pins hypothesis's version exactly.)
    """
    if on:
        hypothesis.core.global_force_seed = RELEASE_SEED
        providers._get_local_constants = Constants  # noqa: SLF001 - no local constants
    else:
        if hypothesis.core.global_force_seed == RELEASE_SEED:
            hypothesis.core.global_force_seed = None  # a release run earlier in this process
        providers._get_local_constants = _LOCAL_CONSTANTS  # noqa: SLF001
    providers.CONSTANTS_CACHE.cache.clear()
