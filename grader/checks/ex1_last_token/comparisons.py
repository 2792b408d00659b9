"""Exercise 1's assertions that several checks share: operator counts believed with values, gradient routing."""

from __future__ import annotations

import torch

from grader.checks.ex1_last_token.drivers import op_counts
from grader.compare import assert_credited_with_values, assert_matches, assert_true
from grader.feedback import fail


def counted(
    student, name: str, hidden: torch.Tensor, index: torch.Tensor, *, expected: torch.Tensor, values_check: tuple[str, str]
) -> int:
    """How many aten operators ``student.<name>(hidden, index)`` dispatched, provided its result is right.

    The count is taken where the student's code runs, so it is only believed together
    with a correct value, compared here; ``values_check`` (ja, en) names the check of that value.
    """
    [(out, ops)] = student.run(op_counts, name, [(hidden, index)])
    example = dict(hidden=hidden, index=index)
    assert_credited_with_values(out, expected, what=f"{name}(...)", values_check=values_check, example=example, exact=True)
    return ops


def assert_gradient_routed(
    result: dict, hidden: torch.Tensor, upstream: torch.Tensor, *, what: str, example: dict
) -> None:
    """d(out)/d(hidden) is the identity from each output row to the one hidden row it equals.

    ``result`` is what :func:`grader.drivers.vjp` gave back for ``upstream``. The positions
    are the ones the student's own output came from, so a wrong choice of position costs
    the values check, not this one.
    """
    out = result["out"]
    assert_true(
        isinstance(out, torch.Tensor) and out.shape == hidden.shape[::2] and result["connected"],
        f"{what} の結果が hidden とつながっていません / the result of {what} is not connected to hidden "
        "(requires_grad=False, or the wrong shape)",
        example=example,
    )
    (grad,) = result["grads"]
    if grad is None:
        raise fail(f"{what} から hidden へ勾配が流れません / no gradient flows from {what} to hidden", example=example)
    expected = torch.zeros_like(hidden)
    for b in range(hidden.shape[0]):
        same = (hidden[b] == out[b]).all(dim=-1).nonzero().flatten().tolist()
        if not same:
            raise fail(f"{what} の行 {b} が hidden のどの位置とも一致しません / row {b} of {what} is none of hidden's rows", example=example)
        # if hidden repeats a row, the gradient may go to any one copy of it
        t = next((t for t in same if grad[b, t].abs().sum() > 0), same[-1])
        expected[b, t] = upstream[b]
    assert_matches(grad, expected, what=f"d {what} / d hidden", example=example, exact=True)
