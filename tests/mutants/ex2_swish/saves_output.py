"""forward also saves its output, to write d/dx as s + beta * out * (1 - s): twice F.silu's memory."""

import torch
from torch import nn

EXPECTED_FAILURES = {"test_saves_only_input"}


class SwishFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta):
        out = x * torch.sigmoid(beta * x)
        if isinstance(beta, torch.Tensor):
            ctx.save_for_backward(x, beta, out)
            ctx.beta = None
        else:
            ctx.save_for_backward(x, out)
            ctx.beta = beta
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.saved_tensors[0]
        beta = ctx.saved_tensors[1] if ctx.beta is None else ctx.beta
        out = ctx.saved_tensors[-1]
        s = torch.sigmoid(beta * x)
        grad_x = grad_output * (s + beta * out * (1 - s))
        grad_beta = None
        if ctx.needs_input_grad[1]:
            grad_beta = (grad_output * x * (out * (1 - s))).sum()
        return grad_x, grad_beta


def swish(x, beta=1.0):
    return SwishFunction.apply(x, beta)


class Swish(nn.Module):
    def __init__(self, beta=1.0, learnable=False):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta))) if learnable else float(beta)

    def forward(self, x):
        return swish(x, self.beta)
