"""演習問題 3 の模範解答 / Model answer to exercise 3 (a Block module per layer, validation up front)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class Block(nn.Module):
    """Pre-norm residual block: x + dropout(fc2(activation(fc1(norm(x)))))."""

    def __init__(self, hidden: int, p: float, activation: Callable[[], nn.Module]) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.activation = activation()  # a fresh instance per block
        self.fc2 = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        h = self.fc1(h)
        h = self.activation(h)
        h = self.fc2(h)
        return x + self.dropout(h)  # dropout on the branch only, then the residual sum


class ResidualMLP(nn.Module):
    """input_proj -> depth x Block -> norm -> output_proj."""

    def __init__(
        self,
        in_features: int,
        hidden_features: int,
        out_features: int,
        depth: int,
        dropout: float = 0.1,
        activation: Callable[[], nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        if min(in_features, hidden_features, out_features) <= 0:
            raise ValueError(
                f"sizes must be positive, got in={in_features}, hidden={hidden_features}, out={out_features}"
            )
        if depth < 0:
            raise ValueError(f"depth must be >= 0, got {depth}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.input_proj = nn.Linear(in_features, hidden_features)
        self.blocks = nn.ModuleList([Block(hidden_features, dropout, activation) for _ in range(depth)])
        self.norm = nn.LayerNorm(hidden_features)
        self.output_proj = nn.Linear(hidden_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.input_proj(x)  # (..., hidden)
        for block in self.blocks:
            h = block(h)  # (..., hidden)
        return self.output_proj(self.norm(h))  # (..., out)
