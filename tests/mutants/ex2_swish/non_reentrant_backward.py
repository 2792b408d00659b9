"""backward negates a beta kept on ctx in place (1 - s as sigmoid(-beta x)): right once, wrong on a second backward of the same graph."""

import torch
from torch import nn

# torch.autograd.gradcheck runs backward twice on one graph ("Backward is not reentrant");
# double backward differentiates through the negated beta too
EXPECTED_FAILURES = {"test_gradcheck", "test_gradgradcheck"}


class SwishFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta):
        if isinstance(beta, torch.Tensor):
            ctx.save_for_backward(x, beta)
            ctx.beta = None
        else:
            ctx.save_for_backward(x)
            ctx.beta = torch.tensor(float(beta), dtype=x.dtype, device=x.device)  # a 0-dim tensor, for tensor maths
        return x * torch.sigmoid(beta * x)

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.beta is None:
            x, beta = ctx.saved_tensors
            bx = beta * x
            s = torch.sigmoid(bx)
            ds = s * (1 - s)
        else:
            (x,) = ctx.saved_tensors
            beta = ctx.beta
            bx = beta * x
            s = torch.sigmoid(bx)
            ds = s * torch.sigmoid(beta.neg_() * x)  # s * (1 - s) = sigmoid(bx) * sigmoid(-bx), no subtraction
        grad_x = grad_beta = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_output * (s + bx * ds)
        if ctx.needs_input_grad[1]:
            grad_beta = (grad_output * x * ds * x).sum().reshape(beta.shape)
        return grad_x, grad_beta


def swish(x, beta=1.0):
    return SwishFunction.apply(x, beta)


class Swish(nn.Module):
    """A fixed beta is a plain float; learnable=True makes it a 0-dim nn.Parameter."""

    def __init__(self, beta=1.0, learnable=False):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta))) if learnable else float(beta)

    def forward(self, x):
        return swish(x, self.beta)
