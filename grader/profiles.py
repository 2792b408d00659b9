"""Hypothesis profiles: quick feedback for students, reproducible grades for instructors."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import hypothesis.core
import torch
from hypothesis import HealthCheck, Phase, register_random, settings
from hypothesis.internal.conjecture import providers

try:
    from hypothesis.internal.constants_ast import Constants
except ImportError:  # a hypothesis from before local constants
    Constants = None  # type: ignore[assignment,misc]

from grader import oracle
from grader.options import GRADING, PROFILES, RELEASE, SMOKE, STUDENT  # noqa: F401 - the names live there, light for command lines

class _TorchGlobalGenerator:
    """torch's global CPU generator, shaped as hypothesis manages random generators.

    Registered, it is seeded afresh before every example and restored after it, as
    hypothesis does for ``random`` and numpy. Without that, ``torch.randn`` in a check drew
    from wherever earlier checks (in batch grading: earlier students) had left the
    generator, so the same example could differ between runs and between workers.
    """

    def seed(self, seed: int) -> None:
        torch.random.default_generator.manual_seed(seed)  # the CPU generator alone: no lazy CUDA seeding

    def getstate(self) -> torch.Tensor:
        return torch.random.default_generator.get_state()

    def setstate(self, state: torch.Tensor) -> None:
        torch.random.default_generator.set_state(state)


#: Held here: hypothesis keeps only a weak reference to what it manages.
TORCH_GENERATOR = _TorchGlobalGenerator()
register_random(TORCH_GENERATOR)

#: The seed of the release profile's examples (see RELEASE below).
RELEASE_SEED = 0x5EED_2026

_COMMON = dict(
    deadline=None,  # no timing flakiness: slow machines must not fail a correct answer
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=False,
    report_multiple_bugs=False,  # one failure per check: the smallest example of the first bug found
)

#: What every reproducible profile shares: no example database, no replay of remembered failures.
_REPRODUCIBLE = dict(database=None, phases=(Phase.explicit, Phase.generate, Phase.shrink), **_COMMON)

# Quick: few examples, randomised, failures remembered in .hypothesis/ and replayed first.
# (No "explain" phase: its notes never reach the student, since failures are reported our way.)
settings.register_profile(
    STUDENT, max_examples=12, phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink), **_COMMON
)

# Defensible: every student gets the same examples (derandomize, and no constants taken
# from their own file: see _draw_local_constants), more of them, and nothing from an
# example database can change a grade between reruns.
settings.register_profile(GRADING, max_examples=40, derandomize=True, **_REPRODUCIBLE)


# Grading with a quarter of the examples: deterministic like "grading", for trying out a
# grading set-up (and the kit's own batch tests) quickly. Grade for real with "grading".
settings.register_profile(SMOKE, max_examples=10, derandomize=True, **_REPRODUCIBLE)


# The examples of a student release, drawn the same way every time but not the grading
# profile's: its recorded oracle bank (grader/bank.py) must not be a table of the examples
# students are graded on. "grading" seeds each check by a digest of its source and pytest
# id (derandomize); this profile draws from one fixed seed instead (hypothesis's own
# --hypothesis-seed mechanism, set in load()), the same for every case of a check, so a
# CUDA case draws exactly its CPU twin's recorded examples.
settings.register_profile(RELEASE, max_examples=40, derandomize=False, **_REPRODUCIBLE)


#: The share of the profile's drawn examples that a CUDA case runs (every explicit example runs
#: in full). A CUDA case checks the device and half-precision paths; the CPU cases check the
#: values with every example. Measured on an H200: with every example, the CUDA cases more
#: than doubled a grading run (README, "CUDA").
CUDA_EXAMPLES_SHARE = 0.25


@contextlib.contextmanager
def applied(test: Callable[..., Any], *, on_cuda: bool) -> Iterator[None]:
    """While ``test`` (a check) runs, it draws under the profile loaded now, fewer examples ``on_cuda``.

    ``@given`` binds a test to the profile that was loaded when its module was imported. A
    process that grades several sessions (a batch's pool process runs the smoke-profile
    preflight, then grades students with the grading profile) would otherwise grade
    everyone with the first session's profile.
    """
    if not hasattr(test, "_hypothesis_internal_use_settings"):  # not a hypothesis test (where @given keeps its settings)
        yield
        return
    bound = test._hypothesis_internal_use_settings
    current = settings.default
    test._hypothesis_internal_use_settings = (
        settings(current, max_examples=max(1, round(current.max_examples * CUDA_EXAMPLES_SHARE))) if on_cuda else current
    )
    try:
        yield
    finally:
        test._hypothesis_internal_use_settings = bound


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
    _use_release_seed(name == RELEASE)
    _draw_local_constants(name == STUDENT)


def _use_release_seed(on: bool) -> None:
    """Draw every check's examples from :data:`RELEASE_SEED` (``on``), or as the profile says."""
    if on:
        hypothesis.core.global_force_seed = RELEASE_SEED
    elif hypothesis.core.global_force_seed == RELEASE_SEED:
        hypothesis.core.global_force_seed = None  # a release run earlier in this process


_LOCAL_CONSTANTS = getattr(providers, "_get_local_constants", None) if Constants is not None else None


def _draw_local_constants(on: bool) -> None:
    """Let hypothesis draw constants found in loaded local modules (``on``), or not.

    Hypothesis now and then draws a constant found in the source of a loaded local module:
    the grader's, the reference's, and the student's own file when it is graded in this
    process. Then two students (or a release without the reference) would not get the same
    examples from the same seed. So only the student profile draws them; the deterministic
    profiles draw from their seed alone. (Private hypothesis names, looked up with care: a
    hypothesis without them has no local constants to turn off.)
    """
    if _LOCAL_CONSTANTS is None:
        return
    providers._get_local_constants = _LOCAL_CONSTANTS if on else Constants  # noqa: SLF001
    providers.CONSTANTS_CACHE.cache.clear()
