"""演習問題 2 の模範解答 / Model answer to exercise 2.

The derivative is written with sigmoid's own derivative ds = s * (1 - s), and every
operation in backward is an ordinary (differentiable) tensor operation, so double
backward works without any extra code.
"""

from __future__ import annotations

import torch
from torch import nn


class SwishFunction(torch.autograd.Function):
    """swish(x, beta) = x * sigmoid(beta * x); beta is a float or a 0-dim tensor."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, beta: float | torch.Tensor) -> torch.Tensor:
        if isinstance(beta, torch.Tensor):
            ctx.save_for_backward(x, beta)
        else:
            ctx.save_for_backward(x)
            ctx.beta = beta
        return x * torch.sigmoid(beta * x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if len(ctx.saved_tensors) == 2:
            x, beta = ctx.saved_tensors
        else:
            (x,) = ctx.saved_tensors
            beta = ctx.beta
        bx = beta * x
        s = torch.sigmoid(bx)  # recomputed: cheaper in memory than saving it
        ds = s * (1 - s)  # sigmoid'(bx); exactly 0 far out on both tails, never nan
        grad_x = grad_beta = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_output * (s + bx * ds)
        if ctx.needs_input_grad[1]:
            # x * ds before the second x: in float16, x * x overflows for |x| > 256
            grad_beta = (grad_output * x * ds * x).sum().reshape(beta.shape)
        return grad_x, grad_beta


def swish(x: torch.Tensor, beta: float | torch.Tensor = 1.0) -> torch.Tensor:
    """x * sigmoid(beta * x), differentiable in x and in a tensor beta."""
    return SwishFunction.apply(x, beta)


class Swish(nn.Module):
    """Swish activation. A fixed beta is a plain Python float attribute (no parameter,
    no buffer); with learnable=True, beta is a 0-dim nn.Parameter."""

    def __init__(self, beta: float = 1.0, learnable: bool = False) -> None:
        super().__init__()
        if learnable:
            self.beta = nn.Parameter(torch.tensor(float(beta)))
        else:
            self.beta = float(beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return swish(x, self.beta)
