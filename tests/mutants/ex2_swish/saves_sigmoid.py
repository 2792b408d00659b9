"""forward also saves sigmoid(beta * x): twice F.silu's memory, and a saved constant that double backward cannot see through."""

import torch
from torch import nn

EXPECTED_FAILURES = {"test_gradgradcheck", "test_saves_only_input"}


class SwishFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta):
        s = torch.sigmoid(beta * x)
        if isinstance(beta, torch.Tensor):
            ctx.save_for_backward(x, beta, s)
            ctx.beta = None
        else:
            ctx.save_for_backward(x, s)
            ctx.beta = beta
        return x * s

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.saved_tensors[0]
        beta = ctx.saved_tensors[1] if ctx.beta is None else ctx.beta
        s = ctx.saved_tensors[-1]
        grad_x = grad_output * s * (1 + beta * x * (1 - s))
        grad_beta = None
        if ctx.needs_input_grad[1]:
            grad_beta = (grad_output * x * (x * s * (1 - s))).sum()
        return grad_x, grad_beta


def swish(x, beta=1.0):
    return SwishFunction.apply(x, beta)


class Swish(nn.Module):
    def __init__(self, beta=1.0, learnable=False):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta))) if learnable else float(beta)

    def forward(self, x):
        return swish(x, self.beta)
