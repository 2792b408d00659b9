"""Correct, written differently: MultiHeadAttention calls F.scaled_dot_product_attention, guarding fully masked rows."""

import math

import torch
import torch.nn.functional as F
from torch import nn


def scaled_dot_product_attention(q, k, v, mask=None, dropout_p=0.0, training=False):
    scores = q.matmul(k.mT).div(math.sqrt(q.size(-1)))
    if mask is None:
        weights = scores.softmax(-1)
    else:
        allowed = mask.to(torch.bool)
        # softmax over the allowed keys only: exp of the shifted scores, zero where masked
        shifted = scores - scores.masked_fill(~allowed, -math.inf).amax(-1, keepdim=True).nan_to_num(0.0)
        e = shifted.exp().masked_fill(~allowed, 0.0)
        total = e.sum(-1, keepdim=True)
        weights = e / torch.where(total > 0, total, torch.ones_like(total))
    if training:
        weights = F.dropout(weights, dropout_p)
    return weights.matmul(v), weights


def causal_mask(L, S=None, device=None):
    return torch.tril(torch.ones(L, L if S is None else S, device=device)).bool()


class AttentionHead(nn.Module):
    def __init__(self, d_model, d_k):
        super().__init__()
        self.W_q, self.W_k, self.W_v = (nn.Linear(d_model, d_k, bias=False) for _ in range(3))

    def forward(self, query, key, value, mask=None):
        return scaled_dot_product_attention(self.W_q(query), self.W_k(key), self.W_v(value), mask)


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads, dropout=0.0, bias=True):
        super().__init__()
        if d_model % num_heads != 0:
            raise ValueError("d_model % num_heads != 0")
        self.num_heads, self.dropout = num_heads, dropout
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, query, key, value, mask=None):
        B, L, d_model = query.shape
        q = self.W_q(query).view(B, L, self.num_heads, -1).transpose(1, 2)
        k = self.W_k(key).view(B, key.size(1), self.num_heads, -1).transpose(1, 2)
        v = self.W_v(value).view(B, value.size(1), self.num_heads, -1).transpose(1, 2)
        attn_mask = empty = None
        if mask is not None:
            attn_mask = mask != 0
            empty = ~attn_mask.any(-1, keepdim=True)
            attn_mask = attn_mask | empty  # SDPA's own answer for such a row is not guaranteed: zero it below
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=self.dropout if self.training else 0.0)
        if empty is not None:
            out = out.masked_fill(empty, 0.0)
        return self.W_o(out.transpose(1, 2).reshape(B, L, d_model))


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=5000, dropout=0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        div = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
        angle = torch.arange(max_len, dtype=torch.float64)[:, None] * div
        pe = torch.stack([angle.sin(), angle.cos()], dim=-1).flatten(1)[:, :d_model]  # sin, cos, sin, cos, ...
        self.register_buffer("pe", pe.to(torch.float32), persistent=False)

    def forward(self, x):
        L = x.shape[-2]
        if L > self.pe.shape[0]:
            raise ValueError(f"got {L} positions, max_len is {self.pe.shape[0]}")
        return self.dropout(x + self.pe[:L])


class TransformerBlock(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        self.norm_first = norm_first
        self.attention = MultiHeadAttention(d_model, num_heads)  # no dropout of its own (unlike nn.TransformerEncoderLayer)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.feed_forward = nn.Sequential(
            nn.Linear(d_model, d_ff), nn.ReLU(), nn.Dropout(dropout), nn.Linear(d_ff, d_model)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask=None):
        if self.norm_first:
            h = self.norm1(x)
            x = x + self.dropout(self.attention(h, h, h, mask))
            return x + self.dropout(self.feed_forward(self.norm2(x)))
        x = self.norm1(x + self.dropout(self.attention(x, x, x, mask)))
        return self.norm2(x + self.dropout(self.feed_forward(x)))
