"""A correct variant: sigmoid built by hand with torch.where on exp(-|z|), which never overflows,
and the derivative written as sigmoid(z) * sigmoid(-z)."""

import torch
from torch import nn


def stable_sigmoid(z):
    e = torch.exp(-z.abs())  # in (0, 1]: no overflow for any z
    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))


class SwishFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta):
        if isinstance(beta, torch.Tensor):
            ctx.save_for_backward(x, beta)
            ctx.beta = None
        else:
            ctx.save_for_backward(x)
            ctx.beta = float(beta)
        return x * stable_sigmoid(beta * x)

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.beta is None:
            x, beta = ctx.saved_tensors
        else:
            (x,) = ctx.saved_tensors
            beta = ctx.beta
        z = beta * x
        s, s_neg = stable_sigmoid(z), stable_sigmoid(-z)  # s_neg = 1 - s, without cancellation
        grad_x = grad_output * (s + z * s * s_neg)
        grad_beta = None
        if ctx.needs_input_grad[1]:
            grad_beta = (grad_output * (x * s * s_neg) * x).sum().reshape(beta.shape)
        return grad_x, grad_beta


def swish(x, beta=1.0):
    return SwishFunction.apply(x, beta)


class Swish(nn.Module):
    """A fixed beta is a plain float attribute; learnable=True makes it a 0-dim nn.Parameter."""

    def __init__(self, beta=1.0, learnable=False):
        super().__init__()
        self.learnable = learnable
        if learnable:
            self.beta = nn.Parameter(torch.tensor(beta, dtype=torch.get_default_dtype()))
        else:
            self.beta = float(beta)

    def forward(self, x):
        return swish(x, self.beta)
