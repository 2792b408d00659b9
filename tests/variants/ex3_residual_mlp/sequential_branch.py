"""Correct, written differently: each block is an nn.Sequential of named layers (the branch); the model adds x."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn


def branch(width: int, p: float, activation) -> nn.Sequential:
    return nn.Sequential(
        OrderedDict(
            norm=nn.LayerNorm(width),
            fc1=nn.Linear(width, width),
            activation=activation(),
            fc2=nn.Linear(width, width),
            dropout=nn.Dropout(p),
        )
    )


class ResidualMLP(nn.Module):
    def __init__(self, in_features, hidden_features, out_features, depth, dropout=0.1, activation=nn.ReLU):
        super().__init__()
        problems = []
        if min(in_features, hidden_features, out_features) < 1:
            problems.append(f"sizes must be >= 1 (got {in_features}, {hidden_features}, {out_features})")
        if depth < 0:
            problems.append(f"depth must be >= 0 (got {depth})")
        if not (0.0 <= dropout < 1.0):
            problems.append(f"dropout must be in [0, 1) (got {dropout})")
        if problems:
            raise ValueError("; ".join(problems))
        self.input_proj = nn.Linear(in_features, hidden_features)
        self.blocks = nn.ModuleList([branch(hidden_features, dropout, activation) for _ in range(depth)])
        self.norm = nn.LayerNorm(hidden_features)
        self.output_proj = nn.Linear(hidden_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.input_proj(x)
        for f in self.blocks:
            h = h + f(h)  # the Sequential is the branch: norm -> fc1 -> activation -> fc2 -> dropout
        return self.output_proj(self.norm(h))
