"""forward and backward flatten x with .view(-1), which fails on non-contiguous tensors."""

import torch
from torch import nn

EXPECTED_FAILURES = {"test_empty_and_noncontiguous"}


class SwishFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta):
        flat = x.view(-1)
        if isinstance(beta, torch.Tensor):
            ctx.save_for_backward(x, beta)
            ctx.beta = None
        else:
            ctx.save_for_backward(x)
            ctx.beta = beta
        return (flat * torch.sigmoid(beta * flat)).view(x.shape)

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.saved_tensors[0]
        beta = ctx.saved_tensors[1] if ctx.beta is None else ctx.beta
        flat, g = x.view(-1), grad_output.reshape(-1)
        s = torch.sigmoid(beta * flat)
        grad_x = (g * s * (1 + beta * flat * (1 - s))).view(x.shape)
        grad_beta = None
        if ctx.needs_input_grad[1]:
            grad_beta = (g * flat * (flat * s * (1 - s))).sum()
        return grad_x, grad_beta


def swish(x, beta=1.0):
    return SwishFunction.apply(x, beta)


class Swish(nn.Module):
    def __init__(self, beta=1.0, learnable=False):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta))) if learnable else float(beta)

    def forward(self, x):
        return swish(x, self.beta)
