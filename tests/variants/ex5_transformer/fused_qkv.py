"""Correct, written differently: self-attention computes Q, K, V in one fused matmul over the W_q, W_k, W_v weights."""

import math

import torch
import torch.nn.functional as F
from torch import nn


def scaled_dot_product_attention(q, k, v, mask=None, dropout_p=0.0, training=False):
    scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
    if mask is not None:
        blocked = mask == 0
        scores = scores.masked_fill(blocked, -torch.inf)
        nothing = blocked.all(dim=-1, keepdim=True)
        scores = scores.masked_fill(nothing, 0.0)  # any finite row; zeroed below
        weights = torch.softmax(scores, dim=-1).masked_fill(nothing, 0.0)
    else:
        weights = torch.softmax(scores, dim=-1)
    weights = F.dropout(weights, dropout_p, training)
    return torch.matmul(weights, v), weights


def causal_mask(L, S=None, device=None):
    S = L if S is None else S
    return torch.arange(S, device=device)[None, :] <= torch.arange(L, device=device)[:, None]


class AttentionHead(nn.Module):
    def __init__(self, d_model, d_k):
        super().__init__()
        self.W_q = nn.Linear(d_model, d_k, bias=False)
        self.W_k = nn.Linear(d_model, d_k, bias=False)
        self.W_v = nn.Linear(d_model, d_k, bias=False)

    def forward(self, query, key, value, mask=None):
        Q, K, V = self.W_q(query), self.W_k(key), self.W_v(value)
        return scaled_dot_product_attention(Q, K, V, mask)


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads, dropout=0.0, bias=True):
        super().__init__()
        if d_model % num_heads:
            raise ValueError("d_model must be divisible by num_heads")
        self.num_heads, self.dropout = num_heads, dropout
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)

    def qkv(self, query, key, value):
        if query is key and key is value:  # self-attention: one matmul for all three
            weight = torch.cat([self.W_q.weight, self.W_k.weight, self.W_v.weight])
            bias = None if self.W_q.bias is None else torch.cat([self.W_q.bias, self.W_k.bias, self.W_v.bias])
            return F.linear(query, weight, bias).chunk(3, dim=-1)
        return self.W_q(query), self.W_k(key), self.W_v(value)

    def forward(self, query, key, value, mask=None):
        B, L, d_model = query.shape
        split = lambda t: t.unflatten(-1, (self.num_heads, -1)).transpose(1, 2)  # noqa: E731
        Q, K, V = map(split, self.qkv(query, key, value))
        context, _ = scaled_dot_product_attention(Q, K, V, mask, self.dropout, self.training)
        return self.W_o(context.transpose(1, 2).flatten(2))


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=5000, dropout=0.0):
        super().__init__()
        self.max_len = max_len
        self.dropout = nn.Dropout(dropout)
        pos = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
        j = torch.arange(d_model)
        angle = pos / torch.pow(10000.0, (2 * (j // 2)).float() / d_model)
        self.register_buffer("pe", torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle)))

    def forward(self, x):
        if x.size(1) > self.max_len:
            raise ValueError(f"L={x.size(1)} > max_len={self.max_len}")
        return self.dropout(x + self.pe[: x.size(1)])


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
        h = self.norm1(x) if self.norm_first else x
        a = self.dropout(self.attention(h, h, h, mask))
        x = x + a if self.norm_first else self.norm1(x + a)
        f = self.dropout(self.feed_forward(self.norm2(x) if self.norm_first else x))
        return x + f if self.norm_first else self.norm2(x + f)
