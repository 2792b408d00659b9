"""torch-toolbox's SwishOP: x / (1 + exp(-beta x)) with a backward written with exp, and no gradient for beta.

Source: PistonY/torch-toolbox, torchtoolbox/nn/operators.py (``SwishOP``) and
torchtoolbox/nn/functional.py (``swish``), commit a3c66152cc77359c70337003ce9db77ec2e777b9;
the ``Swish`` module of torchtoolbox/nn/activation.py.
Edits (interface only): ``SwishFunction`` names ``SwishOP``; ``Swish`` takes the contract's
``learnable`` (a 0-dim nn.Parameter when True; the original keeps beta as given); re-written
in our words, the same operations.
Kept: forward x / (1 + exp(-beta x)); backward
grad * (exp(-beta x) * (1 + beta x) + 1) / (1 + exp(-beta x))**2, None for beta.

Decided before grading: right values and x-gradients for moderate x; for large negative
beta x the backward is inf / inf = nan; beta never gets a gradient (function or module).
"""

import torch
from torch import nn
from torch.autograd import Function

EXPECTED_FAILURES = {"test_beta_gradient", "test_large_inputs", "test_module_beta_gradient"}


class SwishOP(Function):
    @staticmethod
    def forward(ctx, tensor, beta=1.0):
        ctx.save_for_backward(tensor)
        ctx.beta = beta
        return tensor / (1 + torch.exp(-beta * tensor))

    @staticmethod
    def backward(ctx, grad_outputs):
        (tensor,) = ctx.saved_tensors
        beta = ctx.beta
        e = torch.exp(-beta * tensor)
        grad_swish = (e * (1 + beta * tensor) + 1) / (1 + e) ** 2
        return grad_outputs * grad_swish, None


SwishFunction = SwishOP


def swish(x, beta=1.0):
    return SwishOP.apply(x, beta)


class Swish(nn.Module):
    def __init__(self, beta=1.0, learnable=False):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta))) if learnable else beta

    def forward(self, x):
        return swish(x, self.beta)
