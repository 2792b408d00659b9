"""Correct, written differently: -inf fill, then nan_to_num turns the NaN of a fully masked row into zeros."""

import math

import torch
import torch.nn.functional as F
from torch import nn


def scaled_dot_product_attention(q, k, v, mask=None, dropout_p=0.0, training=False):
    scores = q @ k.transpose(-2, -1) / math.sqrt(k.size(-1))
    if mask is not None:
        scores = scores.masked_fill(mask == 0, float("-inf"))
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)  # a row of -inf gives NaN: make it zeros
    weights = F.dropout(weights, p=dropout_p, training=training)
    return weights @ v, weights


def causal_mask(L, S=None, device=None):
    S = L if S is None else S
    return ~torch.ones(L, S, dtype=torch.bool, device=device).triu(diagonal=1)


class AttentionHead(nn.Module):
    def __init__(self, d_model, d_k):
        super().__init__()
        self.d_k = d_k
        self.W_q = nn.Linear(d_model, d_k, bias=False)
        self.W_k = nn.Linear(d_model, d_k, bias=False)
        self.W_v = nn.Linear(d_model, d_k, bias=False)

    def forward(self, query, key, value, mask=None):
        return scaled_dot_product_attention(self.W_q(query), self.W_k(key), self.W_v(value), mask)


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads, dropout=0.0, bias=True):
        super().__init__()
        if d_model % num_heads != 0:
            raise ValueError(f"{d_model=} is not a multiple of {num_heads=}")
        self.num_heads, self.d_k, self.p = num_heads, d_model // num_heads, dropout
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, query, key, value, mask=None):
        B, L, D = query.shape
        heads = lambda t: t.reshape(B, -1, self.num_heads, self.d_k).permute(0, 2, 1, 3)  # noqa: E731
        context, _ = scaled_dot_product_attention(
            heads(self.W_q(query)), heads(self.W_k(key)), heads(self.W_v(value)), mask, self.p, self.training
        )
        return self.W_o(context.permute(0, 2, 1, 3).reshape(B, L, D))


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=5000, dropout=0.0):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        pe = torch.zeros(max_len, d_model)
        pos = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        for i in range(0, d_model, 2):  # a loop over columns is fine here: it runs once, at construction
            angle = pos[:, 0] / (10000 ** (i / d_model))
            pe[:, i] = torch.sin(angle)
            if i + 1 < d_model:
                pe[:, i + 1] = torch.cos(angle)
        self.register_buffer("pe", pe)

    def forward(self, x):
        if x.size(1) > len(self.pe):
            raise ValueError("sequence too long for this PositionalEncoding")
        return self.drop(x + self.pe[: x.size(1), :])


class TransformerBlock(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        self.norm_first = norm_first
        self.attention = MultiHeadAttention(d_model, num_heads)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.feed_forward = nn.Sequential(
            nn.Linear(d_model, d_ff), nn.ReLU(), nn.Dropout(dropout), nn.Linear(d_ff, d_model)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask=None):
        if not self.norm_first:
            x = self.norm1(x + self.dropout(self.attention(x, x, x, mask)))
            return self.norm2(x + self.dropout(self.feed_forward(x)))
        y = self.norm1(x)
        x = x + self.dropout(self.attention(y, y, y, mask))
        return x + self.dropout(self.feed_forward(self.norm2(x)))
