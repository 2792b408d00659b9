"""Correct, written differently: einsum everywhere; heads come from viewing the weights, never the activations."""

import math

import torch
import torch.nn.functional as F
from torch import nn


def scaled_dot_product_attention(q, k, v, mask=None, dropout_p=0.0, training=False):
    scores = torch.einsum("...lk,...sk->...ls", q, k) / math.sqrt(q.shape[-1])
    if mask is not None:
        keep = mask.bool()
        scores = torch.where(keep, scores, torch.full_like(scores, torch.finfo(scores.dtype).min))
        weights = torch.softmax(scores, dim=-1) * keep.any(dim=-1, keepdim=True)
    else:
        weights = torch.softmax(scores, dim=-1)
    if training and dropout_p > 0:
        weights = F.dropout(weights, dropout_p, training=True)
    return torch.einsum("...ls,...sv->...lv", weights, v), weights


def causal_mask(L, S=None, device=None):
    S = L if S is None else S
    return torch.ones(L, S, dtype=torch.bool, device=device).tril()


class AttentionHead(nn.Module):
    def __init__(self, d_model, d_k):
        super().__init__()
        self.W_q = nn.Linear(d_model, d_k, bias=False)
        self.W_k = nn.Linear(d_model, d_k, bias=False)
        self.W_v = nn.Linear(d_model, d_k, bias=False)

    def forward(self, query, key, value, mask=None):
        return scaled_dot_product_attention(self.W_q(query), self.W_k(key), self.W_v(value), mask)


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads, dropout=0.0, bias=True):
        super().__init__()
        if num_heads <= 0 or d_model % num_heads:
            raise ValueError("num_heads must divide d_model")
        self.h, self.d_k = num_heads, d_model // num_heads
        self.attention_dropout = nn.Dropout(dropout)
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)

    def project(self, x, layer):
        """(B, T, d_model) -> (B, h, T, d_k) with the weight seen as (h, d_k, d_model)."""
        weight = layer.weight.view(self.h, self.d_k, -1)
        out = torch.einsum("btd,hkd->bhtk", x, weight)
        if layer.bias is not None:
            out = out + layer.bias.view(self.h, 1, self.d_k)
        return out

    def forward(self, query, key, value, mask=None):
        q, k, v = self.project(query, self.W_q), self.project(key, self.W_k), self.project(value, self.W_v)
        scores = torch.einsum("bhlk,bhsk->bhls", q, k) / math.sqrt(self.d_k)
        if mask is not None:
            keep = mask != 0
            scores = scores.masked_fill(~keep, torch.finfo(scores.dtype).min)
            weights = torch.softmax(scores, dim=-1).masked_fill(~keep.any(-1, keepdim=True), 0.0)
        else:
            weights = torch.softmax(scores, dim=-1)
        context = torch.einsum("bhls,bhsk->bhlk", self.attention_dropout(weights), v)
        out = torch.einsum("bhlk,dhk->bld", context, self.W_o.weight.view(-1, self.h, self.d_k))
        return out if self.W_o.bias is None else out + self.W_o.bias


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=5000, dropout=0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        pos = torch.arange(max_len, dtype=torch.float64)
        j = torch.arange(d_model)
        angle = torch.einsum("p,j->pj", pos, 10000.0 ** (-(2 * (j // 2)).double() / d_model))
        table = torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle))
        self.register_buffer("pe", table.float())

    def forward(self, x):
        if x.shape[1] > self.pe.shape[0]:
            raise ValueError("input longer than max_len")
        return self.dropout(x + self.pe[: x.shape[1]])


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

    def sublayer(self, x, norm, fn):
        """One residual step, in either order."""
        if self.norm_first:
            return x + self.dropout(fn(norm(x)))
        return norm(x + self.dropout(fn(x)))

    def forward(self, x, mask=None):
        x = self.sublayer(x, self.norm1, lambda h: self.attention(h, h, h, mask))
        return self.sublayer(x, self.norm2, self.feed_forward)
