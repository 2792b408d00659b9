"""EfficientNet-PyTorch's memory-efficient Swish: x * sigmoid(x) as a custom Function that saves only x, with no beta at all.

Source: lukemelas/EfficientNet-PyTorch, efficientnet_pytorch/utils.py, commit
761ac94cdbecffca2eecec8cc51ac99afce2025e, ``SwishImplementation`` and ``MemoryEfficientSwish``.
Edits (interface only): ``SwishFunction`` names ``SwishImplementation``; ``swish(x, beta)``
applies it and, as the original has no beta, leaves beta out; ``Swish(beta, learnable)``
keeps beta as the contract says (a float, or a 0-dim nn.Parameter) and its forward is
``MemoryEfficientSwish``'s; re-written in our words, the same operations.
Kept: forward i * sigmoid(i), save_for_backward(i), backward
grad * (s * (1 + i * (1 - s))) with s recomputed; beta = 1 whatever beta is.

Decided before grading: right, stable and memory-efficient for beta = 1 (so gradcheck,
gradgradcheck, odd layouts, which compare the code with itself, and the parameters
check pass); wrong values, gradients and module outputs for every other beta, and no
gradient for beta; the structural checks are believed only with right values.
"""

import torch
from torch import nn

EXPECTED_FAILURES = {
    "test_forward_values",
    "test_backward_values",
    "test_beta_gradient",
    "test_uses_custom_function",
    "test_saves_only_input",
    "test_input_unchanged",
    "test_large_inputs",
    "test_module_values",
    "test_module_beta_gradient",
}


class SwishImplementation(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        ctx.save_for_backward(i)
        return i * torch.sigmoid(i)

    @staticmethod
    def backward(ctx, grad_output):
        (i,) = ctx.saved_tensors
        sigmoid_i = torch.sigmoid(i)
        return grad_output * (sigmoid_i * (1 + i * (1 - sigmoid_i)))


SwishFunction = SwishImplementation


def swish(x, beta=1.0):
    return SwishImplementation.apply(x)  # the original has no beta


class Swish(nn.Module):
    def __init__(self, beta=1.0, learnable=False):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta))) if learnable else float(beta)

    def forward(self, x):
        return swish(x, self.beta)
