"""gradcheck through grader/gradients.py: a wrong gradient is caught, and the input it concerns is named."""

from __future__ import annotations

import pytest
import torch
from torch.autograd.gradcheck import GradcheckError

from grader.gradients import gradcheck_jointly


class ScaledProduct(torch.autograd.Function):
    """``a * b``, with the gradient for ``b`` scaled by ``wrong`` (1.0 is the true derivative)."""

    @staticmethod
    def forward(ctx, a: torch.Tensor, b: torch.Tensor, wrong: float) -> torch.Tensor:
        ctx.save_for_backward(a, b)
        ctx.wrong = wrong
        return a * b

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        a, b = ctx.saved_tensors
        return grad * b, grad * a * ctx.wrong, None


def inputs() -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(0)
    make = lambda *shape: torch.randn(*shape, dtype=torch.float64, generator=generator).requires_grad_(True)  # noqa: E731
    return make(3, 2), make(3, 2)


def test_a_true_gradient_passes() -> None:
    gradcheck_jointly(lambda a, b: ScaledProduct.apply(a, b, 1.0), inputs())


@pytest.mark.parametrize("wrong", [0.0, 1.01, -1.0])
def test_a_wrong_gradient_fails_naming_its_input(wrong: float) -> None:
    with pytest.raises(GradcheckError, match="with respect to input 1"):
        gradcheck_jointly(lambda a, b: ScaledProduct.apply(a, b, wrong), inputs())
