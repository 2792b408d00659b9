"""MultiHeadAttention loops over the heads in Python: right values, but not vectorised."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

EXPECTED_FAILURES = {"test_mha_vectorized_heads"}


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    training: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q kᵀ / √d_k) v and the weights used: (..., L, d_v), (..., L, S)."""
    d_k = q.size(-1)
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(d_k)  # (..., L, S)
    if mask is not None:
        allowed = mask != 0
        # the lowest finite value, not -inf: a row with no key stays finite (uniform), zeroed below
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
    weights = torch.softmax(scores, dim=-1)  # (..., L, S)
    if mask is not None:
        weights = weights.masked_fill(~allowed.any(dim=-1, keepdim=True), 0.0)
    weights = F.dropout(weights, dropout_p, training=training)
    return torch.matmul(weights, v), weights  # (..., L, d_v), (..., L, S)


def causal_mask(L: int, S: int | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """True where key j <= query i."""
    if S is None:
        S = L
    i = torch.arange(L, device=device).unsqueeze(1)  # (L, 1)
    j = torch.arange(S, device=device).unsqueeze(0)  # (1, S)
    return j <= i  # (L, S)


class AttentionHead(nn.Module):
    """One head, exactly the chapter's, with the masking rule of scaled_dot_product_attention."""

    def __init__(self, d_model: int, d_k: int) -> None:
        super().__init__()
        self.d_k = d_k
        self.W_q = nn.Linear(d_model, d_k, bias=False)
        self.W_k = nn.Linear(d_model, d_k, bias=False)
        self.W_v = nn.Linear(d_model, d_k, bias=False)

    def forward(self, query, key, value, mask=None):
        Q = self.W_q(query)  # (B, L, d_k)
        K = self.W_k(key)  # (B, S, d_k)
        V = self.W_v(value)  # (B, S, d_k)
        context, attention_weights = scaled_dot_product_attention(Q, K, V, mask)  # (B, L, d_k), (B, L, S)
        return context, attention_weights


class MultiHeadAttention(nn.Module):
    """The chapter's heads side by side in one Linear each, split with view + transpose."""

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        if d_model % num_heads != 0:
            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
        self.num_heads = num_heads
        self.d_k = d_model // num_heads
        self.dropout = dropout
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, T, d_model = x.shape
        return x.view(B, T, self.num_heads, self.d_k).transpose(1, 2)  # (B, num_heads, T, d_k)

    def forward(self, query, key, value, mask=None):
        B, L, d_model = query.shape
        Q, K, V = self.W_q(query), self.W_k(key), self.W_v(value)
        if mask is not None and mask.dim() == 4:
            mask = mask.expand(-1, self.num_heads, -1, -1)
        head_outputs = []
        for h in range(self.num_heads):
            part = slice(h * self.d_k, (h + 1) * self.d_k)
            head_mask = mask[:, h] if mask is not None and mask.dim() == 4 else mask
            context, _ = scaled_dot_product_attention(
                Q[..., part], K[..., part], V[..., part], head_mask, self.dropout, self.training
            )
            head_outputs.append(context)
        concatenated = torch.cat(head_outputs, dim=-1)  # (B, L, d_model)
        return self.W_o(concatenated)


class PositionalEncoding(nn.Module):
    """PyTorch tutorial's table, batch first and for odd d_model too."""

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)  # (max_len, 1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))  # (ceil(d_model/2),)
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term[: d_model // 2])
        self.register_buffer("pe", pe)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        L = x.size(1)
        if L > self.pe.size(0):
            raise ValueError(f"sequence of length {L} is longer than max_len={self.pe.size(0)}")
        return self.dropout(x + self.pe[:L])  # (B, L, d_model)


class TransformerBlock(nn.Module):
    """The chapter's block, post-norm by default, pre-norm with norm_first=True."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, norm_first: bool = False) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.attention = MultiHeadAttention(d_model, num_heads)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.feed_forward = nn.Sequential(
            nn.Linear(d_model, d_ff),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(d_ff, d_model),
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask=None):
        if self.norm_first:
            h = self.norm1(x)
            x = x + self.dropout(self.attention(h, h, h, mask))
            x = x + self.dropout(self.feed_forward(self.norm2(x)))
        else:
            attn_output = self.attention(x, x, x, mask)
            x = self.norm1(x + self.dropout(attn_output))
            ff_output = self.feed_forward(x)
            x = self.norm2(x + self.dropout(ff_output))
        return x
