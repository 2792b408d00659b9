"""ex5 (Transformer blocks): attention configurations, inputs and masks."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from grader.strategies.common import SEEDS, sizes, tensors
from grader.strategies.sequences import MASK_DTYPES


@dataclass(frozen=True)
class AttentionConfig:
    """One attention example's sizes: batch B, L queries, S keys, num_heads heads of width d_k."""

    batch: int
    query_len: int
    key_len: int
    num_heads: int
    d_k: int
    bias: bool = True

    @property
    def d_model(self) -> int:
        return self.num_heads * self.d_k


@st.composite
def attention_configs(
    draw: st.DrawFn,
    *,
    cross: bool = False,
    min_len: int = 1,
    max_len: int = 5,
    max_heads: int = 4,
    max_d_k: int = 4,
    min_d_model: int = 1,
) -> AttentionConfig:
    """Small sizes; ``cross`` makes L != S (cross-attention), otherwise L == S (self-attention)."""
    num_heads = draw(sizes(1, max_heads))
    d_k = draw(sizes(-(-min_d_model // num_heads), max_d_k))  # d_model >= min_d_model
    L = draw(sizes(min_len, max_len))
    S = draw(sizes(min_len, max_len).filter(lambda s: s != L)) if cross else L
    return AttentionConfig(draw(sizes(1, 3)), L, S, num_heads, d_k, draw(st.booleans()))


def allowed_mask(shape: tuple[int, ...], seed: int, *, keep: float = 0.6) -> torch.Tensor:
    """A reproducible bool mask (True = may attend) in which every row (last dim) keeps at least one key."""
    with torch.random.fork_rng(devices=[]):
        # Seed only the CPU generator: torch.manual_seed also queues lazy CUDA/XPU seeding
        # with a formatted traceback on every call, a third of some exercises' check time.
        torch.random.default_generator.manual_seed(seed)
        allowed = torch.rand(shape) < keep
        if allowed.numel():
            pick = torch.randint(shape[-1], shape[:-1]).unsqueeze(-1)
            allowed.scatter_(-1, pick, True)
    return allowed


@st.composite
def attention_masks(
    draw: st.DrawFn, shape: tuple[int, ...], device: str, *, empty_rows: bool = False
) -> torch.Tensor:
    """A mask of ``shape`` in any accepted dtype (bool, 0/1 integers or floats), nonzero = may attend.

    Every row keeps at least one key, unless ``empty_rows``: then one or more rows may attend to nothing.
    """
    allowed = allowed_mask(shape, draw(SEEDS))
    if empty_rows:
        rows = allowed.view(-1, shape[-1])
        n = rows.shape[0]
        empty = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
        rows[empty] = False
    return allowed.to(draw(st.sampled_from(MASK_DTYPES))).to(device)


@st.composite
def attention_inputs(
    draw: st.DrawFn, device: str, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """q (..., L, d_k), k (..., S, d_k), v (..., S, d_v) and a mask: none, (L, S), (..., L, S) or (..., 1, S)."""
    lead = draw(st.sampled_from([(), (2,), (2, 3)]))
    L, S, d_k, d_v = draw(sizes(1, 5)), draw(sizes(1, 5)), draw(sizes(1, 4)), draw(sizes(1, 4))
    q = draw(tensors((*lead, L, d_k), dtype, device, noncontiguous=None))
    k = draw(tensors((*lead, S, d_k), dtype, device, noncontiguous=None))
    v = draw(tensors((*lead, S, d_v), dtype, device, noncontiguous=None))
    shape = draw(st.sampled_from([None, (L, S), (*lead, L, S), (*lead, 1, S)]))
    mask = None if shape is None else draw(attention_masks(shape, device))
    return q, k, v, mask


#: The mask shapes MultiHeadAttention accepts (each broadcast to (B, num_heads, L, S)).
MHA_MASK_SHAPES = ("(L, S)", "(B, 1, 1, S)", "(B, 1, L, S)", "(B, H, L, S)")


def mha_mask_shape(name: str, config: AttentionConfig) -> tuple[int, ...]:
    B, H, L, S = config.batch, config.num_heads, config.query_len, config.key_len
    return {"(L, S)": (L, S), "(B, 1, 1, S)": (B, 1, 1, S), "(B, 1, L, S)": (B, 1, L, S), "(B, H, L, S)": (B, H, L, S)}[name]


@st.composite
def hiding_masks(draw: st.DrawFn, name: str, config: AttentionConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """A bool mask of the named shape that hides some keys from every query and head, and those keys.

    Returns ``(allowed, hidden)``: hidden (B, S) bool marks the keys no query may see (the same
    keys in every batch row for an (L, S) mask); every query still sees at least one key. Needs S >= 2.
    """
    B, S = config.batch, config.key_len
    shape = mha_mask_shape(name, config)
    per_batch = 1 if name == "(L, S)" else B
    hidden = torch.zeros(per_batch, S, dtype=torch.bool)
    for b in range(per_batch):
        keys = draw(st.lists(st.integers(0, S - 1), min_size=1, max_size=S - 1, unique=True))
        hidden[b, keys] = True
    seed = draw(SEEDS)
    with torch.random.fork_rng(devices=[]):
        # Seed only the CPU generator: torch.manual_seed also queues lazy CUDA/XPU seeding
        # with a formatted traceback on every call, a third of some exercises' check time.
        torch.random.default_generator.manual_seed(seed)
        allowed = torch.rand(shape) < 0.6
        # a random visible key per batch row, seen by every query: no row is left without a key
        open_keys = torch.rand(per_batch, S).masked_fill(hidden, -1.0).argmax(dim=-1)  # (per_batch,)
    visible = ~hidden  # (per_batch, S)
    if name == "(L, S)":
        allowed = (allowed & visible).index_fill(-1, open_keys, True)
    else:
        visible = visible.view(B, 1, 1, S)
        allowed = allowed & visible
        rows = torch.arange(B)
        allowed[rows, :, :, open_keys] = True
    return allowed, hidden.expand(B, S)


#: Dropout probabilities for the train-mode checks: 1 / (1 - p) is exact in binary (1.25 and 2).
DROPOUT_PROBS = (0.2, 0.5)
