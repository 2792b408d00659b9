"""Swish for chapter problem 2: ``x * sigmoid(beta * x)`` as a custom autograd Function.

Only the input ``x`` (and ``beta`` when it is a tensor) is saved for backward; the
sigmoid is recomputed there, so the memory kept between forward and backward is the
same as ``F.silu``'s. The forward never calls ``silu``: it is ``sigmoid`` then one
multiplication, in place on the fresh sigmoid buffer.

The backward has two routes with the same formulas:

- building a graph (``create_graph=True``): plain differentiable tensor operations,
  so double backward works;
- otherwise (the usual case): for the input gradient, the fused kernel
  ``aten.silu_backward(grad, beta * x)``, since d/dx [x sigmoid(beta x)] = silu'(beta x).
  One pass over memory instead of five keeps forward + backward near ``F.silu``'s time
  (see tests/benchmarks/bench_swish.py); that kernel has no derivative of its own, hence
  the first route.
"""

from __future__ import annotations

import numbers

import torch
from torch import nn

Beta = float | torch.Tensor


class SwishFunction(torch.autograd.Function):
    """``swish(x, beta) = x * sigmoid(beta * x)``; ``beta`` is a float or a 0-dim tensor.

    With s = sigmoid(beta * x):
    d/dx    = s * (1 + beta * x * (1 - s))
    d/dbeta = sum(grad * x**2 * s * (1 - s))   (only when ``beta`` is a tensor that requires grad)
    Both stay finite for any finite ``x``: ``sigmoid`` saturates to exactly 0 or 1, and
    ``x * s * (1 - s)`` is formed before the last ``* x``, so it underflows to 0 first.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, beta: Beta) -> torch.Tensor:  # type: ignore[override]
        _check_args(x, beta)
        if isinstance(beta, torch.Tensor):
            ctx.save_for_backward(x, beta)
            ctx.beta = None
        else:
            ctx.save_for_backward(x)
            ctx.beta = float(beta)
        s = torch.sigmoid(x) if _is_one(beta) else torch.mul(x, beta).sigmoid_()
        return s.mul_(x)  # s is a fresh tensor: its memory becomes the output

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:  # type: ignore[override]
        if ctx.beta is None:
            x, beta = ctx.saved_tensors
        else:
            (x,) = ctx.saved_tensors
            beta = ctx.beta
        want_x, want_beta = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        bx = x if _is_one(beta) else x * beta
        if torch.is_grad_enabled():  # create_graph=True: every operation must be differentiable
            s = torch.sigmoid(bx)
            one_minus_s = 1 - s
            grad_x = grad * s * (1 + bx * one_minus_s) if want_x else None
            grad_beta = (grad * x * (x * s * one_minus_s)).sum() if want_beta else None
        else:
            grad_beta = None
            if want_beta:
                s = torch.sigmoid(bx)
                grad_beta = s.addcmul_(s, s, value=-1).mul_(x).mul_(x).mul_(grad).sum()  # grad * x * x * s * (1 - s)
            grad_x = None
            if want_x:  # written over bx when bx is a fresh buffer of our own (beta != 1)
                out = torch.empty_like(x) if bx is x else bx
                grad_x = torch.ops.aten.silu_backward.grad_input(grad, bx, grad_input=out)
        if grad_beta is not None:
            assert isinstance(beta, torch.Tensor)
            grad_beta = grad_beta.reshape(beta.shape).to(dtype=beta.dtype, device=beta.device)
        return grad_x, grad_beta


def swish(x: torch.Tensor, beta: Beta = 1.0) -> torch.Tensor:
    """``x * sigmoid(beta * x)`` through :class:`SwishFunction`; gradients flow to ``x`` and to a tensor ``beta``."""
    return SwishFunction.apply(x, beta)


class Swish(nn.Module):
    """Swish activation ``x * sigmoid(beta * x)``.

    ``learnable=False``: ``beta`` is kept as a plain Python float (no parameter, no buffer).
    ``learnable=True``: ``beta`` is a 0-dim ``nn.Parameter`` named ``beta``, trained with the model.
    """

    beta: Beta

    def __init__(self, beta: float = 1.0, learnable: bool = False) -> None:
        super().__init__()
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real | torch.Tensor):
            raise ValueError(f"beta must be a real number, got {type(beta).__name__}")
        if isinstance(beta, torch.Tensor) and beta.numel() != 1:
            raise ValueError(f"beta must be a single number, got a tensor of shape {tuple(beta.shape)}")
        if learnable:
            self.beta = nn.Parameter(torch.tensor(float(beta)))
        else:
            self.beta = float(beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return swish(x, self.beta)

    def extra_repr(self) -> str:
        if isinstance(self.beta, torch.Tensor):
            return f"beta={self.beta.item():g}, learnable={isinstance(self.beta, nn.Parameter)}"
        return f"beta={self.beta:g}, learnable=False"


def _is_one(beta: Beta) -> bool:
    return not isinstance(beta, torch.Tensor) and beta == 1.0


def _check_args(x: torch.Tensor, beta: Beta) -> None:
    if not isinstance(x, torch.Tensor) or not x.dtype.is_floating_point:
        got = f"dtype {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a floating-point tensor, got {got}")
    if isinstance(beta, torch.Tensor):
        if beta.dim() != 0:
            raise ValueError(f"beta must be a float or a 0-dim tensor, got a tensor of shape {tuple(beta.shape)}")
        if not beta.dtype.is_floating_point:
            raise ValueError(f"beta must be a floating-point tensor, got dtype {beta.dtype}")
    elif isinstance(beta, bool) or not isinstance(beta, numbers.Real):
        raise ValueError(f"beta must be a float or a 0-dim tensor, got {type(beta).__name__}")
