"""Chainer's Swish (F.swish): a differentiable beta, a tanh-based sigmoid, and its own double backward.

Source: chainer/chainer, chainer/functions/activation/swish.py, commit
2bdc4959439d050c9180056220e5007e652a79a5: ``Swish`` and ``SwishGrad`` (CPU paths),
``_sigmoid``; the module as ``chainer.links.Swish`` (a learnable beta).
Edits (interface only): Chainer's FunctionNodes become torch.autograd.Functions (retained
inputs -> save_for_backward, ``apply`` the same); beta is a scalar here, so Chainer's
reshape of beta to (1, *beta.shape, 1, ...) and its per-channel reduction axes become
plain broadcasting and a sum over every element; a float beta travels as a 0-dim tensor
(no gradient returned for it); ``Swish(beta, learnable)`` holds a float or a 0-dim
nn.Parameter; re-written in our words, the same formulas.
Kept: sigmoid(z) = tanh(z / 2) / 2 + 1 / 2; y = x * sigmoid(beta x); gx = gy (by + s (1 - by))
with by = beta y; gb = sum(gy y (x - y)); the second derivatives of SwishGrad.backward.

Decided before grading: every formula is the exact derivative, saturates to exact 0 / 1
for large |x| and keeps only x and beta for backward: correct.
"""

import torch
from torch import nn

EXPECTED_FAILURES = set()


def _sigmoid(x):
    return torch.tanh(x * 0.5) * 0.5 + 0.5


class SwishGrad(torch.autograd.Function):
    """(gx, gb) of swish for the upstream gy; differentiable once more (Chainer's SwishGrad)."""

    @staticmethod
    def forward(ctx, x, beta, gy):
        ctx.save_for_backward(x, beta, gy)
        sig = _sigmoid(beta * x)
        y = x * sig
        by = beta * y
        gx = gy * (by + sig * (1 - by))
        gb = (gy * y * (x - y)).sum()
        return gx, gb

    @staticmethod
    def backward(ctx, ggx, ggb):
        x, beta, gy = ctx.saved_tensors
        sig = _sigmoid(beta * x)
        y = x * sig
        by = beta * y
        one_minus_sig = 1 - sig
        sig_one_minus_by = sig * (1 - by)
        y_x_minus_y = y * (x - y)
        x_minus_2y = x - 2 * y
        common = gy * y * (2 + beta * x_minus_2y) * one_minus_sig
        gx = ggx * gy * beta * one_minus_sig * (by + 2 * sig_one_minus_by) + ggb * common
        gb = (ggx * common + ggb * gy * y_x_minus_y * x_minus_2y).sum()
        ggy = ggx * (by + sig_one_minus_by) + ggb * y_x_minus_y
        return gx, gb, ggy


class SwishFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta):
        ctx.beta_is_tensor = isinstance(beta, torch.Tensor)
        b = beta if ctx.beta_is_tensor else torch.tensor(float(beta), dtype=x.dtype, device=x.device)
        ctx.save_for_backward(x, b)
        return x * _sigmoid(b * x)

    @staticmethod
    def backward(ctx, gy):
        x, b = ctx.saved_tensors
        gx, gb = SwishGrad.apply(x, b, gy)
        return gx, (gb.reshape(b.shape) if ctx.beta_is_tensor else None)


def swish(x, beta=1.0):
    return SwishFunction.apply(x, beta)


class Swish(nn.Module):
    def __init__(self, beta=1.0, learnable=False):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta))) if learnable else float(beta)

    def forward(self, x):
        return swish(x, self.beta)
