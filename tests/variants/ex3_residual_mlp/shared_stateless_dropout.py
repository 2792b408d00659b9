"""Correct, written differently: blocks share one nn.Dropout (it holds no state, so sharing is harmless), in-place sum."""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    def __init__(self, hidden: int, activation, dropout: nn.Dropout) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.activation = activation()
        self.fc2 = nn.Linear(hidden, hidden)
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.dropout(self.fc2(self.activation(self.fc1(self.norm(x)))))
        out += x  # out is a fresh tensor: adding in place is safe for autograd
        return out


class ResidualMLP(nn.Module):
    def __init__(
        self,
        in_features: int,
        hidden_features: int,
        out_features: int,
        depth: int,
        dropout: float = 0.1,
        activation=nn.ReLU,
    ) -> None:
        super().__init__()
        if any(n <= 0 for n in (in_features, hidden_features, out_features)):
            raise ValueError("in_features, hidden_features and out_features must be positive")
        if depth < 0:
            raise ValueError("depth must be non-negative")
        if not 0 <= dropout < 1:
            raise ValueError("dropout must be a probability below 1")
        shared_dropout = nn.Dropout(dropout)
        self.input_proj = nn.Linear(in_features, hidden_features)
        self.blocks = nn.ModuleList([ResidualBlock(hidden_features, activation, shared_dropout) for _ in range(depth)])
        self.norm = nn.LayerNorm(hidden_features)
        self.output_proj = nn.Linear(hidden_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input_proj(x)
        for block in self.blocks:
            x = block(x)
        return self.output_proj(self.norm(x))
