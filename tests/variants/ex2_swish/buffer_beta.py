"""A correct variant: beta always travels as a 0-dim tensor (a float is converted), the Swish module keeps
a fixed beta as a buffer, and backward builds beta's gradient whenever autograd asks for it."""

import torch
from torch import nn


class SwishFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta):
        beta = torch.as_tensor(beta, dtype=x.dtype, device=x.device)
        ctx.save_for_backward(x, beta)  # a 0-dim beta: 1 element beside x
        return x * torch.sigmoid(beta * x)

    @staticmethod
    def backward(ctx, grad_output):
        x, beta = ctx.saved_tensors
        s = torch.sigmoid(beta * x)
        ds = s - s * s  # sigmoid'(beta * x)
        grad_x = grad_output * (s + beta * x * ds)
        grad_beta = (grad_output * x * ds * x).sum() if ctx.needs_input_grad[1] else None
        return grad_x, grad_beta


def swish(x, beta=1.0):
    return SwishFunction.apply(x, beta)


class Swish(nn.Module):
    """A fixed beta is a 0-dim buffer (moves with .to(), no gradient, not a parameter);
    learnable=True makes it a 0-dim nn.Parameter."""

    def __init__(self, beta=1.0, learnable=False):
        super().__init__()
        if learnable:
            self.beta = nn.Parameter(torch.tensor(float(beta)))
        else:
            self.register_buffer("beta", torch.tensor(float(beta)))

    def forward(self, x):
        return swish(x, self.beta)
