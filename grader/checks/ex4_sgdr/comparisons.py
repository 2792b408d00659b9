"""Exercise 4's comparisons of learning rates: the student's against the reference's (or the student's own sgdr_lr)."""

from __future__ import annotations

from grader import strategies as S
from grader.checks.ex4_sgdr.drivers import own_sgdr_lrs, sgdr_lrs
from grader.checks.ex4_sgdr.oracles import reference_lrs
from grader.compare import assert_matches
from grader.feedback import CheckFailure


def assert_lrs(student, steps, base_lr: float, config: S.SGDRConfig) -> None:
    """The student's sgdr_lr(step, base_lr, ...) equals the reference's at every step (one round trip)."""
    steps = list(steps)
    kwargs = config.kwargs()
    expected = reference_lrs(steps, [base_lr], config)
    for step, actual, (want,) in zip(steps, student.run(sgdr_lrs, steps, base_lr, config), expected):
        assert_matches(
            actual,
            want,
            what=f"sgdr_lr({step}, {base_lr}, ...)",
            example=dict(step=step, base_lr=base_lr, **kwargs),
        )


def assert_follows_schedule(student, seen: list[list[object]], lrs: list[float], config: S.SGDRConfig, example: dict) -> None:
    """``seen[t][g]``, group g's lr after t steps, is sgdr_lr(t, lrs[g]): the reference's, or the student's own.

    The student's own rates are fetched (in one round trip) only when a rate differs
    from the reference's.
    """
    own = None
    table = reference_lrs(list(range(len(seen))), list(lrs), config)
    for t, actual_lrs in enumerate(seen):
        for g, (actual, base_lr) in enumerate(zip(actual_lrs, lrs)):
            expected = table[t][g]
            if matches(actual, expected):
                continue
            if own is None:
                own = student.run(own_sgdr_lrs, list(range(len(seen))), lrs, config)
            mine = own[t][g]
            if mine is not None and matches(actual, mine):
                continue
            context = {**example, "step": t, "group": g}
            if mine is not None and not matches(mine, expected):
                context["your_sgdr_lr"] = mine  # neither this nor the reference: say so
            assert_matches(actual, expected, what=f"param_groups[{g}]['lr'] after {t} step(s)", example=context)


def matches(actual: object, expected: float) -> bool:
    """Whether ``actual`` is the rate ``expected``, as grader.compare judges it."""
    try:
        assert_matches(actual, expected, what="lr")
    except CheckFailure:
        return False
    return True
