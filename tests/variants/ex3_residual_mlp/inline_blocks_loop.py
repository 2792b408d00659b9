"""Correct, written differently: blocks are plain nn.Module containers and the model's forward loops over them."""

from __future__ import annotations

import torch
from torch import nn


class ResidualMLP(nn.Module):
    def __init__(self, in_features, hidden_features, out_features, depth, dropout=0.1, activation=nn.ReLU):
        super().__init__()
        if in_features <= 0 or hidden_features <= 0 or out_features <= 0:
            raise ValueError("every size must be positive")
        if depth < 0:
            raise ValueError("depth must not be negative")
        if dropout < 0 or dropout >= 1:
            raise ValueError("dropout must lie in [0, 1)")
        self.input_proj = nn.Linear(in_features, hidden_features)
        self.blocks = nn.ModuleList()
        for _ in range(depth):
            block = nn.Module()  # a container only: the loop below does the computing
            block.norm = nn.LayerNorm(hidden_features)
            block.fc1 = nn.Linear(hidden_features, hidden_features)
            block.activation = activation()
            block.fc2 = nn.Linear(hidden_features, hidden_features)
            block.dropout = nn.Dropout(dropout)
            self.blocks.append(block)
        self.norm = nn.LayerNorm(hidden_features)
        self.output_proj = nn.Linear(hidden_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input_proj(x)
        for b in self.blocks:
            residual = x
            x = b.norm(x)
            x = b.fc1(x)
            x = b.activation(x)
            x = b.fc2(x)
            x = b.dropout(x)
            x = residual + x
        x = self.norm(x)
        return self.output_proj(x)
