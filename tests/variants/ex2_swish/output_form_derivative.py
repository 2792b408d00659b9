"""A correct variant: backward writes d/dx as s + beta * out * (1 - s) with out = x * s recomputed from the saved x,
and flattens with .reshape (which copies only when it must)."""

import torch
from torch import nn


class SwishFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta):
        beta_is_tensor = isinstance(beta, torch.Tensor)
        ctx.save_for_backward(*((x, beta) if beta_is_tensor else (x,)))
        ctx.beta = None if beta_is_tensor else beta
        flat = x.reshape(-1)
        return (flat * torch.sigmoid(beta * flat)).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_output):
        x, *rest = ctx.saved_tensors
        beta = rest[0] if rest else ctx.beta
        s = torch.sigmoid(beta * x)
        out = x * s
        one_minus_s = 1 - s
        grad_x = grad_output * (s + beta * out * one_minus_s) if ctx.needs_input_grad[0] else None
        grad_beta = None
        if ctx.needs_input_grad[1]:
            grad_beta = torch.sum(grad_output * x * (out * one_minus_s))
        return grad_x, grad_beta


def swish(x, beta=1.0):
    return SwishFunction.apply(x, beta)


class Swish(nn.Module):
    """A fixed beta is a plain float attribute; learnable=True makes it a 0-dim nn.Parameter."""

    def __init__(self, beta=1.0, learnable=False):
        super().__init__()
        if learnable:
            self.beta = nn.Parameter(torch.tensor(float(beta)))
        else:
            self.beta = float(beta)

    def forward(self, x):
        return swish(x, self.beta)
