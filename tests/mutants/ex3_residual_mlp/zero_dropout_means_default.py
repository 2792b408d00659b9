"""Mistake: `dropout or 0.1` turns dropout=0 into the default 0.1."""

from __future__ import annotations

import torch
from torch import nn

EXPECTED_FAILURES = {"test_train_without_dropout_equals_eval"}


class ResidualBlock(nn.Module):
    def __init__(self, hidden: int, dropout: float, activation) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.activation = activation()
        self.fc2 = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout or 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.dropout(self.fc2(self.activation(self.fc1(self.norm(x)))))


class ResidualMLP(nn.Module):
    def __init__(self, in_features, hidden_features, out_features, depth, dropout=0.1, activation=nn.ReLU) -> None:
        super().__init__()
        if min(in_features, hidden_features, out_features) < 1:
            raise ValueError("sizes must be positive")
        if depth < 0:
            raise ValueError("depth must be >= 0")
        if not 0 <= dropout < 1:
            raise ValueError("dropout must be in [0, 1)")
        self.input_proj = nn.Linear(in_features, hidden_features)
        self.blocks = nn.ModuleList([ResidualBlock(hidden_features, dropout, activation) for _ in range(depth)])
        self.norm = nn.LayerNorm(hidden_features)
        self.output_proj = nn.Linear(hidden_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input_proj(x)
        for block in self.blocks:
            x = block(x)
        return self.output_proj(self.norm(x))
