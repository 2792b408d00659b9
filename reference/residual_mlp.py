"""A depth-variable residual MLP with dropout, for chapter problem 3.

The model reads like its diagram::

    x ── input_proj ──┬─► block 1 ─► ... ─► block depth ─► norm ─► output_proj ─► y
                      │
    block(x) = x + dropout(fc2(activation(fc1(norm(x)))))      (pre-norm residual)

Every block has its own LayerNorm, Linear layers, activation instance and Dropout, so
a learnable activation gets one parameter set per block.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import torch
from torch import nn

#: What ``activation`` must be: a module class (or any factory) called once per block.
ActivationFactory = Callable[[], nn.Module]


class ResidualBlock(nn.Module):
    """``x + dropout(fc2(activation(fc1(norm(x)))))``: shape (..., hidden) in and out."""

    def __init__(self, hidden_features: int, dropout: float, activation: ActivationFactory) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden_features)
        self.fc1 = nn.Linear(hidden_features, hidden_features)
        self.activation = activation()
        self.fc2 = nn.Linear(hidden_features, hidden_features)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch = self.fc2(self.activation(self.fc1(self.norm(x))))
        return x + self.dropout(branch)


class ResidualMLP(nn.Module):
    """Maps (..., in_features) to (..., out_features) through ``depth`` pre-norm residual blocks.

    ``depth=0`` is allowed (no blocks: input_proj, norm, output_proj). Raises ``ValueError``
    for a negative depth, a non-positive size, or ``dropout`` outside [0, 1).
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int,
        out_features: int,
        depth: int,
        dropout: float = 0.1,
        activation: ActivationFactory = nn.ReLU,
    ) -> None:
        super().__init__()
        for name, size in (("in_features", in_features), ("hidden_features", hidden_features), ("out_features", out_features)):
            if not _is_int(size) or size < 1:
                raise ValueError(f"{name} must be a positive integer, got {size!r}")
        if not _is_int(depth) or depth < 0:
            raise ValueError(f"depth must be a non-negative integer (0 means no blocks), got {depth!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        if not callable(activation):
            raise ValueError(f"activation must be a module class such as nn.ReLU, got {activation!r}")
        self.input_proj = nn.Linear(in_features, hidden_features)
        self.blocks = nn.ModuleList(ResidualBlock(hidden_features, float(dropout), activation) for _ in range(depth))
        self.norm = nn.LayerNorm(hidden_features)
        self.output_proj = nn.Linear(hidden_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input_proj(x)  # (..., hidden)
        for block in self.blocks:
            x = block(x)  # (..., hidden)
        return self.output_proj(self.norm(x))  # (..., out)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
