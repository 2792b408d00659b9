"""Exercise 4's reference side (grading process only): ``reference/sgdr.py``, reached through oracle calls."""

from __future__ import annotations

from grader import strategies as S
from grader.oracle import oracle, reference

ref = reference("sgdr")


@oracle
def reference_lrs(steps: list[int], base_lrs: list[float], config: S.SGDRConfig) -> list[list[float]]:
    """The reference's ``sgdr_lr(t, base_lr, **config)`` for each step t and each base_lr (one oracle call)."""
    return [[ref.sgdr_lr(t, base_lr, **config.kwargs()) for base_lr in base_lrs] for t in steps]
