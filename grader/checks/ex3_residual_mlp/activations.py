"""Exercise 3's activations: what the checks hand to the student's model as ``activation=``.

Each is a class called once per block. They are module-level classes (or torch's), so
that they travel to an isolated worker by reference, and they are defined here rather
than taken from ``reference``, because workers build models with them and must not hold
the reference.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class Swish(nn.Module):
    """``x * sigmoid(beta * x)`` in plain torch operations: an activation to hand to the student's model.

    Not exercise 2's answer (no custom autograd), and defined here rather than taken from
    ``reference``, because isolated workers build models with it and must not hold the reference.
    """

    def __init__(self, beta: float = 1.0, learnable: bool = False) -> None:
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta))) if learnable else beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.beta * x)


class LearnableSwish(Swish):
    """Swish with a learnable beta: one parameter per block, so blocks must not share it."""

    def __init__(self) -> None:
        super().__init__(beta=1.0, learnable=True)


#: Activations the model must accept as ``activation=``; each is a class called once per block.
#: (Module-level classes or torch's: they travel to a worker by reference.)
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "Swish": Swish,
    "Swish(learnable=True)": LearnableSwish,
    "nn.GELU": nn.GELU,
    "nn.PReLU": nn.PReLU,
}
