"""Swish for chapter problem 2: ``x * sigmoid(beta * x)`` as a custom autograd Function.

Only the input ``x`` (and ``beta`` when it is a tensor) is saved for backward; the
sigmoid is recomputed there, so the memory kept between forward and backward is the
same as ``F.silu``'s. The backward is written with differentiable tensor operations
when a graph is being built (``create_graph=True``), so double backward works.
"""

from __future__ import annotations

import numbers

import torch
from torch import nn

Beta = float | torch.Tensor


class SwishFunction(torch.autograd.Function):
    """``swish(x, beta) = x * sigmoid(beta * x)``; ``beta`` is a float or a 0-dim tensor.

    d/dx    = s * (1 + beta * x * (1 - s))   with s = sigmoid(beta * x)
    d/dbeta = sum(grad * x**2 * s * (1 - s))
    Both stay finite for any finite ``x``: ``sigmoid`` saturates to exactly 0 or 1.
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
        s = torch.sigmoid(x if _is_one(beta) else x * beta)
        return s.mul_(x)  # s is a fresh tensor: reuse its memory for the output

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:  # type: ignore[override]
        if ctx.beta is None:
            x, beta = ctx.saved_tensors
        else:
            (x,) = ctx.saved_tensors
            beta = ctx.beta
        want_x, want_beta = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        if torch.is_grad_enabled():  # create_graph=True: every op must be differentiable
            grad_x, grad_beta = _backward_differentiable(grad, x, beta, want_beta)
        else:
            grad_x, grad_beta = _backward_fast(grad, x, beta, want_beta)
        if grad_beta is not None:
            assert isinstance(beta, torch.Tensor)
            grad_beta = grad_beta.reshape(beta.shape).to(dtype=beta.dtype, device=beta.device)
        return (grad_x if want_x else None), grad_beta


def _backward_differentiable(
    grad: torch.Tensor, x: torch.Tensor, beta: Beta, want_beta: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    bx = x if _is_one(beta) else x * beta
    s = torch.sigmoid(bx)
    one_minus_s = 1 - s
    grad_x = grad * s * (1 + bx * one_minus_s)
    grad_beta = (grad * x * (x * s * one_minus_s)).sum() if want_beta else None
    return grad_x, grad_beta


def _backward_fast(
    grad: torch.Tensor, x: torch.Tensor, beta: Beta, want_beta: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Same formulas as :func:`_backward_differentiable`, in place on fresh buffers (no graph needed)."""
    bx = x.clone() if _is_one(beta) else x * beta
    s = torch.sigmoid(bx)
    grad_beta = None
    if want_beta:  # x**2 * s * (1 - s), ordered so that x * s * (1 - s) underflows to 0 before the last * x
        t = torch.addcmul(s, s, s, value=-1).mul_(x).mul_(x).mul_(grad)
        grad_beta = t.sum()
    bx.addcmul_(bx, s, value=-1).add_(1).mul_(s).mul_(grad)  # bx := s * (1 + bx * (1 - s)) * grad
    return bx, grad_beta


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
