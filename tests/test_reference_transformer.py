"""reference.transformer against PyTorch's own modules and slow, obviously-correct loops.

Mask conventions differ, and each comparison converts explicitly:
- ours and ``F.scaled_dot_product_attention``: bool True = may attend;
- ``nn.MultiheadAttention`` and ``nn.TransformerEncoderLayer``: bool True = masked out.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from grader import strategies as S
from grader.probes import aten_ops
from reference.transformer import (
    AttentionHead,
    MultiHeadAttention,
    PositionalEncoding,
    TransformerBlock,
    causal_mask,
    scaled_dot_product_attention,
    sinusoidal_table,
)

SETTINGS = settings(max_examples=40, deadline=None)
DTYPES = st.sampled_from([torch.float32, torch.float64])


def seeded(fn, seed: int):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return fn()


def loop_attention(q, k, v, allowed):
    """One query row at a time: softmax over the keys it may see; the others weigh nothing."""
    *lead, L, d_k = q.shape
    S_ = k.shape[-2]
    weights = torch.zeros(*lead, L, S_, dtype=q.dtype)
    for batch in itertools.product(*map(range, lead)):
        for i in range(L):
            seen = [j for j in range(S_) if allowed[(*batch, i, j)]]
            if seen:
                scores = torch.stack([q[(*batch, i)] @ k[(*batch, j)] for j in seen]) / math.sqrt(d_k)
                weights[(*batch, i)][seen] = torch.softmax(scores, dim=0)
    return weights @ v, weights


def to_torch_mha(ours: MultiHeadAttention) -> nn.MultiheadAttention:
    """An ``nn.MultiheadAttention`` with our weights: W_q, W_k, W_v stacked into in_proj, W_o as out_proj."""
    bias = ours.W_q.bias is not None
    theirs = nn.MultiheadAttention(ours.d_model, ours.num_heads, bias=bias, batch_first=True)
    theirs = theirs.to(ours.W_q.weight.dtype)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.cat([ours.W_q.weight, ours.W_k.weight, ours.W_v.weight]))
        theirs.out_proj.weight.copy_(ours.W_o.weight)
        if bias:
            theirs.in_proj_bias.copy_(torch.cat([ours.W_q.bias, ours.W_k.bias, ours.W_v.bias]))
            theirs.out_proj.bias.copy_(ours.W_o.bias)
    return theirs


def random_allowed(shape, seed, *, full_rows=True):
    """A bool mask, True = may attend; with ``full_rows`` every row (last dim) keeps at least one key."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        allowed = torch.rand(shape) < 0.6
        if full_rows and shape[-1]:
            pick = torch.randint(shape[-1], shape[:-1]).unsqueeze(-1)
            allowed.scatter_(-1, pick, True)
    return allowed


# -- scaled_dot_product_attention and causal_mask -------------------------------------------


@SETTINGS
@given(
    lead=st.sampled_from([(), (2,), (2, 3)]),
    L=S.sizes(1, 5),
    S_=S.sizes(1, 5),
    d_k=S.sizes(1, 4),
    d_v=S.sizes(1, 4),
    seed=S.SEEDS,
    dtype=DTYPES,
    mask_kind=st.sampled_from(["none", "full", "broadcast", "int", "float"]),
)
def test_attention_matches_sdpa_and_loop(lead, L, S_, d_k, d_v, seed, dtype, mask_kind):
    q = S.make((*lead, L, d_k), dtype, "cpu", seed)
    k = S.make((*lead, S_, d_k), dtype, "cpu", seed + 1)
    v = S.make((*lead, S_, d_v), dtype, "cpu", seed + 2)
    allowed = torch.ones(L, S_, dtype=torch.bool)
    mask = None
    if mask_kind != "none":
        allowed = random_allowed((*lead, L, S_) if mask_kind == "full" else (L, S_), seed)
        mask = {"int": allowed.long(), "float": allowed.to(dtype)}.get(mask_kind, allowed)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=allowed))
    expected_out, expected_weights = loop_attention(q, k, v, allowed.expand(*lead, L, S_))
    torch.testing.assert_close(weights, expected_weights)
    torch.testing.assert_close(out, expected_out)


@SETTINGS
@given(L=S.sizes(1, 6), S_=S.sizes(1, 6))
def test_causal_mask_aligns_like_sdpa_is_causal(L, S_):
    mask = causal_mask(L, S_)
    assert mask.dtype == torch.bool and mask.shape == (L, S_)
    assert mask.tolist() == [[j <= i for j in range(S_)] for i in range(L)]
    q, k, v = torch.randn(2, L, 3), torch.randn(2, S_, 3), torch.randn(2, S_, 3)
    torch.testing.assert_close(
        scaled_dot_product_attention(q, k, v, mask)[0], F.scaled_dot_product_attention(q, k, v, is_causal=True)
    )


def test_causal_mask_defaults_to_square():
    assert torch.equal(causal_mask(4), causal_mask(4, 4))


def test_fully_masked_rows_give_zeros_and_finite_gradients():
    q = torch.randn(2, 3, 4, requires_grad=True)
    k = torch.randn(2, 5, 4, requires_grad=True)
    v = torch.randn(2, 5, 4, requires_grad=True)
    allowed = torch.ones(2, 3, 5, dtype=torch.bool)
    allowed[0, 1] = False
    allowed[1] = False
    out, weights = scaled_dot_product_attention(q, k, v, allowed)
    assert torch.equal(out[0, 1], torch.zeros(4)) and torch.equal(out[1], torch.zeros(3, 4))
    assert torch.equal(weights[0, 1], torch.zeros(5)) and torch.equal(weights[1], torch.zeros(3, 5))
    torch.testing.assert_close(out[0, [0, 2]], scaled_dot_product_attention(q[0], k[0], v[0])[0][[0, 2]])
    out.sum().backward()
    for t in (q, k, v):
        assert torch.isfinite(t.grad).all()
    assert torch.equal(q.grad[1], torch.zeros(3, 4))


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_acts_on_the_returned_weights(p):
    torch.manual_seed(0)
    q, k, v = torch.randn(8, 16, 4), torch.randn(8, 16, 4), torch.randn(8, 16, 3)
    _, plain = scaled_dot_product_attention(q, k, v)
    out, dropped = scaled_dot_product_attention(q, k, v, dropout_p=p, training=True)
    torch.testing.assert_close(out, dropped @ v)
    kept = dropped != 0
    torch.testing.assert_close(dropped[kept], plain[kept] / (1 - p))
    assert abs((~kept).float().mean().item() - p) < 0.05
    out_eval, weights_eval = scaled_dot_product_attention(q, k, v, dropout_p=p, training=False)
    torch.testing.assert_close(weights_eval, plain)


# -- AttentionHead and MultiHeadAttention ------------------------------------------------------


@SETTINGS
@given(B=S.sizes(1, 3), L=S.sizes(1, 5), S_=S.sizes(1, 5), d_model=S.sizes(1, 6), d_k=S.sizes(1, 4), seed=S.SEEDS)
def test_attention_head_is_the_chapters_formula(B, L, S_, d_model, d_k, seed):
    head = seeded(lambda: AttentionHead(d_model, d_k), seed).double()
    query, key, value = (S.make((B, n, d_model), torch.float64, "cpu", seed + i) for i, n in enumerate((L, S_, S_)))
    allowed = random_allowed((B, L, S_), seed)
    Q, K, V = query @ head.W_q.weight.T, key @ head.W_k.weight.T, value @ head.W_v.weight.T
    weights = torch.softmax((Q @ K.transpose(1, 2) / math.sqrt(d_k)).masked_fill(~allowed, -math.inf), dim=-1)
    context, actual_weights = head(query, key, value, allowed)
    torch.testing.assert_close(actual_weights, weights)
    torch.testing.assert_close(context, weights @ V)
    assert not any(name.endswith("bias") for name, _ in head.named_parameters())


MASK_SHAPES = ["none", "(L, S)", "(B, 1, 1, S)", "(B, 1, L, S)", "(B, H, L, S)"]


def torch_masks(allowed: torch.Tensor, kind: str, B: int, H: int, L: int, S_: int) -> dict:
    """Our mask (True = attend) as nn.MultiheadAttention's keyword arguments (True = masked out)."""
    if kind == "none":
        return {}
    if kind == "(L, S)":
        return {"attn_mask": ~allowed}
    if kind == "(B, 1, 1, S)":
        return {"key_padding_mask": ~allowed.reshape(B, S_)}
    return {"attn_mask": ~allowed.expand(B, H, L, S_).reshape(B * H, L, S_)}


def mask_for(kind: str, B: int, H: int, L: int, S_: int, seed: int) -> torch.Tensor | None:
    shape = {
        "none": None,
        "(L, S)": (L, S_),
        "(B, 1, 1, S)": (B, 1, 1, S_),
        "(B, 1, L, S)": (B, 1, L, S_),
        "(B, H, L, S)": (B, H, L, S_),
    }[kind]
    return None if shape is None else random_allowed(shape, seed)


@SETTINGS
@given(
    B=S.sizes(1, 3),
    L=S.sizes(1, 5),
    S_=S.sizes(1, 5),
    H=S.sizes(1, 4),
    d_k=S.sizes(1, 4),
    bias=st.booleans(),
    kind=st.sampled_from(MASK_SHAPES),
    self_attention=st.booleans(),
    seed=S.SEEDS,
    dtype=DTYPES,
)
def test_multi_head_attention_matches_torch(B, L, S_, H, d_k, bias, kind, self_attention, seed, dtype):
    if self_attention:
        S_ = L
    ours = seeded(lambda: MultiHeadAttention(H * d_k, H, bias=bias), seed).to(dtype).eval()
    theirs = to_torch_mha(ours).eval()
    query = S.make((B, L, H * d_k), dtype, "cpu", seed)
    key = query if self_attention else S.make((B, S_, H * d_k), dtype, "cpu", seed + 1)
    value = query if self_attention else S.make((B, S_, H * d_k), dtype, "cpu", seed + 2)
    allowed = mask_for(kind, B, H, L, S_, seed)
    expected, _ = theirs(query, key, value, need_weights=False, **torch_masks(allowed, kind, B, H, L, S_))
    torch.testing.assert_close(ours(query, key, value, allowed), expected)
    if allowed is not None:
        for as_numbers in (allowed.long(), allowed.to(dtype)):
            torch.testing.assert_close(ours(query, key, value, as_numbers), expected)


def test_multi_head_attention_fully_masked_rows_give_the_output_bias():
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2)
    x = torch.randn(3, 4, 8, requires_grad=True)
    padding = torch.ones(3, 1, 1, 4, dtype=torch.bool)
    padding[1] = False
    rows = torch.ones(4, 4, dtype=torch.bool)
    rows[2] = False
    for mask in (padding, rows):
        out = mha(x, x, x, mask)
        assert torch.isfinite(out).all()
        empty = out[1] if mask is padding else out[:, 2]
        torch.testing.assert_close(empty, mha.W_o.bias.expand_as(empty).detach())
        grads = torch.autograd.grad(out.sum(), [x, *mha.parameters()])
        assert all(torch.isfinite(g).all() for g in grads)


def test_multi_head_attention_rejects_indivisible_heads():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(6, 4)


def test_multi_head_attention_op_count_does_not_depend_on_heads():
    x = torch.randn(2, 3, 64)

    def count(H: int, mask) -> int:
        mha = MultiHeadAttention(64, H)
        return len(aten_ops(lambda: mha(x, x, x, mask))[1])

    # not num_heads=1: a (B, 1, L, d_k) tensor is contiguous even when transposed, so
    # .reshape/.contiguous() skip a copy there that they need at every other num_heads
    for mask in (None, causal_mask(3)):
        assert count(2, mask) == count(8, mask)


# -- PositionalEncoding ----------------------------------------------------------------------


def paper_formula(max_len: int, d_model: int) -> torch.Tensor:
    """Vaswani et al. (2017), §3.5, one entry at a time with Python's math (float64)."""
    return torch.tensor(
        [
            [
                (math.sin if j % 2 == 0 else math.cos)(pos / 10000 ** (2 * (j // 2) / d_model))
                for j in range(d_model)
            ]
            for pos in range(max_len)
        ],
        dtype=torch.float64,
    )


@pytest.mark.parametrize("d_model", [1, 2, 3, 7, 8, 16])
def test_positional_encoding_is_the_papers_formula(d_model):
    torch.testing.assert_close(sinusoidal_table(300, d_model), paper_formula(300, d_model), rtol=0, atol=1e-12)
    pe = PositionalEncoding(d_model, max_len=300)
    assert pe.pe.shape == (300, d_model) and pe.pe.dtype == torch.float32
    assert "pe" in dict(pe.named_buffers()) and "pe" in pe.state_dict()
    torch.testing.assert_close(pe.pe, paper_formula(300, d_model).float())


def test_positional_encoding_default_table_is_close_to_the_formula_far_out():
    pe = PositionalEncoding(16)
    assert pe.pe.shape == (5000, 16)
    far = paper_formula(5000, 16)[4000:]
    torch.testing.assert_close(pe.pe[4000:].double(), far, rtol=0, atol=1e-6)


@SETTINGS
@given(B=S.sizes(1, 3), L=S.sizes(1, 6), d_model=S.sizes(1, 6), seed=S.SEEDS, dtype=DTYPES)
def test_positional_encoding_adds_the_table(B, L, d_model, seed, dtype):
    pe = PositionalEncoding(d_model, max_len=6).to(dtype).eval()
    x = S.make((B, L, d_model), dtype, "cpu", seed)
    torch.testing.assert_close(pe(x), x + paper_formula(L, d_model).float().to(dtype))


def test_positional_encoding_dropout_and_length_limit():
    pe = PositionalEncoding(8, max_len=64, dropout=0.5).train()
    x = torch.randn(4, 64, 8)
    out = pe(x)
    kept = out != 0
    torch.testing.assert_close(out[kept], ((x + pe.pe) / 0.5)[kept])
    assert 0.4 < (~kept).float().mean().item() < 0.6
    with pytest.raises(ValueError, match="max_len"):
        pe(torch.randn(1, 65, 8))


# -- TransformerBlock --------------------------------------------------------------------------


def to_torch_layer(ours: TransformerBlock, dropout: float) -> nn.TransformerEncoderLayer:
    attention = ours.attention
    d_model = attention.d_model
    theirs = nn.TransformerEncoderLayer(
        d_model,
        attention.num_heads,
        dim_feedforward=ours.feed_forward[0].out_features,
        dropout=dropout,
        activation="relu",
        batch_first=True,
        norm_first=ours.norm_first,
    ).to(attention.W_q.weight.dtype)
    theirs.self_attn.load_state_dict(to_torch_mha(attention).state_dict())
    theirs.linear1.load_state_dict(ours.feed_forward[0].state_dict())
    theirs.linear2.load_state_dict(ours.feed_forward[3].state_dict())
    theirs.norm1.load_state_dict(ours.norm1.state_dict())
    theirs.norm2.load_state_dict(ours.norm2.state_dict())
    return theirs


@SETTINGS
@given(
    B=S.sizes(1, 3),
    L=S.sizes(1, 5),
    H=S.sizes(1, 3),
    d_k=S.sizes(1, 3),
    d_ff=S.sizes(1, 8),
    norm_first=st.booleans(),
    kind=st.sampled_from(["none", "(L, S)", "(B, 1, 1, S)"]),
    seed=S.SEEDS,
    dtype=DTYPES,
)
def test_transformer_block_matches_encoder_layer(B, L, H, d_k, d_ff, norm_first, kind, seed, dtype):
    d_model = H * d_k
    ours = seeded(lambda: TransformerBlock(d_model, H, d_ff, dropout=0.1, norm_first=norm_first), seed).to(dtype)
    with torch.no_grad():  # LayerNorm's affine parameters at random, so norm1 and norm2 differ
        for norm in (ours.norm1, ours.norm2):
            norm.weight.copy_(S.make((d_model,), dtype, "cpu", seed + 3, low=0.5, high=1.5))
            norm.bias.copy_(S.make((d_model,), dtype, "cpu", seed + 4, low=-0.5, high=0.5))
            seed += 2
    ours.eval()
    theirs = to_torch_layer(ours, 0.1).eval()
    x = S.make((B, L, d_model), dtype, "cpu", seed)
    allowed = mask_for(kind, B, H, L, L, seed)
    kwargs = {}
    if kind == "(L, S)":
        kwargs["src_mask"] = ~allowed
    elif kind == "(B, 1, 1, S)":
        kwargs["src_key_padding_mask"] = ~allowed.reshape(B, L)
    with torch.no_grad():  # the encoder layer's fast path may run only without autograd
        expected = theirs(x, **kwargs)
        torch.testing.assert_close(ours(x, allowed), expected)
    torch.testing.assert_close(ours(x, allowed), expected)


def test_transformer_block_names_match_the_chapter():
    block = TransformerBlock(8, 2, 16)
    assert set(block.state_dict()) == {
        *(f"attention.{w}.{p}" for w in ("W_q", "W_k", "W_v", "W_o") for p in ("weight", "bias")),
        "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
        "feed_forward.0.weight", "feed_forward.0.bias", "feed_forward.3.weight", "feed_forward.3.bias",
    }
    assert isinstance(block.feed_forward[2], nn.Dropout) and isinstance(block.dropout, nn.Dropout)


def test_transformer_block_is_causal_under_a_causal_mask():
    torch.manual_seed(0)
    block = TransformerBlock(8, 2, 16).eval()
    x = torch.randn(2, 6, 8)
    y = x.clone()
    y[:, 4:] = torch.randn(2, 2, 8)
    torch.testing.assert_close(block(x, causal_mask(6))[:, :4], block(y, causal_mask(6))[:, :4])
