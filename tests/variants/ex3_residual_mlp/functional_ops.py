"""Correct, written differently: the block keeps its modules for the state_dict but computes with torch.nn.functional."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, width: int, p: float, activation) -> None:
        super().__init__()
        self.p = p
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, width)
        self.activation = activation()
        self.fc2 = nn.Linear(width, width)
        self.dropout = nn.Dropout(p)  # kept so the state_dict and structure follow the task; forward uses F.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.layer_norm(x, self.norm.normalized_shape, self.norm.weight, self.norm.bias, self.norm.eps)
        h = F.linear(h, self.fc1.weight, self.fc1.bias)
        h = self.activation(h)
        h = F.linear(h, self.fc2.weight, self.fc2.bias)
        return F.dropout(h, self.p, training=self.training) + x


class ResidualMLP(nn.Module):
    def __init__(self, in_features, hidden_features, out_features, depth, dropout=0.1, activation=nn.ReLU):
        super().__init__()
        for name, value in dict(in_features=in_features, hidden_features=hidden_features, out_features=out_features).items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if depth < 0:
            raise ValueError(f"depth must be at least 0, got {depth}")
        if math.isnan(dropout) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.input_proj = nn.Linear(in_features, hidden_features)
        self.blocks = nn.ModuleList(Block(hidden_features, dropout, activation) for _ in range(depth))
        self.norm = nn.LayerNorm(hidden_features)
        self.output_proj = nn.Linear(hidden_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.linear(x, self.input_proj.weight, self.input_proj.bias)
        for block in self.blocks:
            h = block(h)
        h = F.layer_norm(h, self.norm.normalized_shape, self.norm.weight, self.norm.bias, self.norm.eps)
        return F.linear(h, self.output_proj.weight, self.output_proj.bias)
