"""Transformer building blocks for chapter problem 5, named after the chapter's diagrams.

::

    scaled_dot_product_attention:  softmax(Q Kᵀ / √d_k, masked) V
    AttentionHead:                 one head: W_q, W_k, W_v (d_model → d_k), then attention
    MultiHeadAttention:            all heads at once: W_q, W_k, W_v → split heads → attention
                                   → merge heads → W_o
    PositionalEncoding:            x + PE[:L], PE[pos, 2i] = sin(pos / 10000^(2i/d_model)),
                                               PE[pos, 2i+1] = cos(...)
    TransformerBlock (post-norm):  x = norm1(x + dropout(attention(x, x, x, mask)))
                                   x = norm2(x + dropout(feed_forward(x)))
    TransformerBlock (pre-norm):   x = x + dropout(attention(norm1(x), ...))
                                   x = x + dropout(feed_forward(norm2(x)))

Shapes: B batch, L query length, S key length, d_model model width, num_heads heads of
width d_k = d_model // num_heads. A mask is bool or 0/1, broadcastable to (..., L, S);
nonzero means "may attend". A query that may attend to no key gets zero weights and a
zero output (never NaN, never uniform attention).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    training: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``softmax(q kᵀ / √d_k) v`` and the attention weights, for q (..., L, d_k), k (..., S, d_k), v (..., S, d_v).

    Returns ``(out, weights)``: out (..., L, d_v), weights (..., L, S). Dropout (when
    ``training``) acts on the weights, and the weights returned are the ones applied, so
    ``out == weights @ v``.
    """
    if q.size(-1) != k.size(-1):
        raise ValueError(f"q and k must share their last dimension d_k, got {q.size(-1)} and {k.size(-1)}")
    if k.size(-2) != v.size(-2):
        raise ValueError(f"k and v must have the same length S, got {k.size(-2)} and {v.size(-2)}")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))  # (..., L, S)
    if mask is not None:
        allowed = _allowed(mask)
        no_key = ~allowed.any(dim=-1, keepdim=True)  # (..., L, 1): rows that may attend to nothing
        scores = scores.masked_fill(~allowed, float("-inf"))
        scores = scores.masked_fill(no_key, 0.0)  # keep those rows finite; they are zeroed below
    weights = torch.softmax(scores, dim=-1)  # (..., L, S)
    if mask is not None:
        weights = weights.masked_fill(no_key, 0.0)
    if training and dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p, training=True)
    return weights @ v, weights  # (..., L, d_v), (..., L, S)


def causal_mask(L: int, S: int | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """Bool (L, S), True where query i may attend to key j, i.e. j <= i (aligned to the upper left).

    The same alignment as ``F.scaled_dot_product_attention(..., is_causal=True)``.
    """
    S = L if S is None else S
    if L < 0 or S < 0:
        raise ValueError(f"L and S must be non-negative, got L={L}, S={S}")
    return torch.ones(L, S, dtype=torch.bool, device=device).tril()


class AttentionHead(nn.Module):
    """One attention head (the chapter's ``AttentionHead``): d_model → d_k, no bias."""

    def __init__(self, d_model: int, d_k: int) -> None:
        super().__init__()
        self.d_k = d_k
        self.W_q = nn.Linear(d_model, d_k, bias=False)
        self.W_k = nn.Linear(d_model, d_k, bias=False)
        self.W_v = nn.Linear(d_model, d_k, bias=False)

    def forward(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, L, d_model), key/value (B, S, d_model) → context (B, L, d_k), weights (B, L, S)."""
        Q = self.W_q(query)  # (B, L, d_k)
        K = self.W_k(key)  # (B, S, d_k)
        V = self.W_v(value)  # (B, S, d_k)
        return scaled_dot_product_attention(Q, K, V, mask)


class MultiHeadAttention(nn.Module):
    """All ``num_heads`` heads computed together, then mixed by ``W_o``.

    ``dropout`` acts on the attention weights in training mode, as in ``nn.MultiheadAttention``.
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        if num_heads < 1 or d_model % num_heads != 0:
            raise ValueError(f"d_model ({d_model}) must be divisible by num_heads ({num_heads})")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1], got {dropout}")
        self.d_model = d_model
        self.num_heads = num_heads
        self.d_k = d_model // num_heads
        self.dropout = dropout
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)

    def forward(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """query (B, L, d_model), key/value (B, S, d_model) → (B, L, d_model).

        ``mask`` broadcasts to (B, num_heads, L, S): (L, S), (B, 1, 1, S), (B, 1, L, S), ...
        """
        B, L, _ = query.shape
        S = key.size(1)
        q = self.W_q(query).view(B, L, self.num_heads, self.d_k).transpose(1, 2)  # (B, num_heads, L, d_k)
        k = self.W_k(key).view(B, S, self.num_heads, self.d_k).transpose(1, 2)  # (B, num_heads, S, d_k)
        v = self.W_v(value).view(B, S, self.num_heads, self.d_k).transpose(1, 2)  # (B, num_heads, S, d_k)
        attn_mask = no_key = None
        if mask is not None:
            allowed = _allowed(mask)
            no_key = ~allowed.any(dim=-1, keepdim=True)  # (..., L, 1)
            # A row with no key would be NaN (or worse) inside SDPA: let it see every key, zero it after.
            attn_mask = allowed | no_key
        p = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=p)  # (B, num_heads, L, d_k)
        if no_key is not None:
            out = out.masked_fill(no_key, 0.0)
        out = out.transpose(1, 2).reshape(B, L, self.d_model)  # (B, L, d_model): heads side by side
        return self.W_o(out)


class PositionalEncoding(nn.Module):
    """Adds the sinusoidal table of Vaswani et al. (2017, §3.5) to (B, L, d_model) inputs, then dropout."""

    pe: torch.Tensor

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0) -> None:
        super().__init__()
        self.max_len = max_len
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pe", sinusoidal_table(max_len, d_model).to(torch.get_default_dtype()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, L, d_model) → dropout(x + pe[:L]); raises ValueError when L > max_len."""
        L = x.size(-2)
        if L > self.max_len:
            raise ValueError(f"sequence length {L} exceeds max_len={self.max_len} of this PositionalEncoding")
        return self.dropout(x + self.pe[:L])  # (B, L, d_model)


def sinusoidal_table(max_len: int, d_model: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The (max_len, d_model) table: PE[pos, j] = sin(angle) for even j and cos(angle) for odd j,
    where angle = pos / 10000^(2⌊j/2⌋ / d_model).

    Computed in float64 (the angle's rounding error grows with pos), then cast to ``dtype``.
    """
    position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)  # (max_len, 1)
    even = torch.arange(0, d_model, 2, dtype=torch.float64)  # 2i for i = 0, 1, ...
    angle = position / 10000.0 ** (even / d_model)  # (max_len, ceil(d_model / 2))
    table = torch.empty(max_len, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle[:, : d_model // 2])  # odd d_model: one cosine column fewer
    return table.to(dtype)


class TransformerBlock(nn.Module):
    """Self-attention and a feed-forward network, each with a residual connection and LayerNorm.

    Post-norm (``norm_first=False``, the chapter's and the paper's) or pre-norm.
    """

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

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, L, d_model), mask broadcastable to (B, num_heads, L, L) → (B, L, d_model)."""
        if self.norm_first:
            x = x + self._attend(self.norm1(x), mask)
            x = x + self.dropout(self.feed_forward(self.norm2(x)))
        else:
            x = self.norm1(x + self._attend(x, mask))
            x = self.norm2(x + self.dropout(self.feed_forward(x)))
        return x  # (B, L, d_model)

    def _attend(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.dropout(self.attention(h, h, h, mask))


def _allowed(mask: torch.Tensor) -> torch.Tensor:
    """The mask as bool, True = may attend (bool masks as they are; numbers: nonzero)."""
    return mask if mask.dtype == torch.bool else mask != 0
