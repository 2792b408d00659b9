"""Exercise 5, PositionalEncoding: the table pe, x + pe[:L], and inputs longer than max_len."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from grader import strategies as S
from grader.checks.ex5_transformer.drivers import outputs, positional_encoding
from grader.checks.ex5_transformer.oracles import ref
from grader.checks.ex5_transformer.recipes import Recipe
from grader.compare import assert_matches, assert_raises, assert_true
from grader.devices import FULL, on_devices, on_each_device
from grader.spec import check


def pe_tolerance(positions: int) -> float:
    """How far a float32 table may be from the exact one in rows below ``positions``.

    A float32 angle pos * 10000^(-2i/d_model) carries a rounding error of a few ulp of the
    angle, so it grows with pos: at most 2 * pos * 2^-24 was measured for the tutorial's
    and other float32 routes (d_model up to 513, pos up to 5000); this allows four times that.
    """
    return 1e-6 + 8 * positions * 2.0**-24


@check(
    2,
    needs_reference=True,
    ja="PositionalEncoding のバッファ pe (max_len, d_model) が論文の式と一致する (sin と cos は列ごとに交互、d_model が奇数でも)",
    en="PositionalEncoding's buffer pe (max_len, d_model) follows the paper (sin and cos interleaved, odd d_model too)",
    hint_ja="pe[:, 0::2] = sin(pos * div)、pe[:, 1::2] = cos(pos * div[: d_model // 2])、div = 10000^(-2i/d_model)。"
    "torch.cat([sin, cos]) で前後に並べるのは誤りです。self.register_buffer('pe', pe) で登録しましょう。",
    hint_en="pe[:, 0::2] = sin(pos * div), pe[:, 1::2] = cos(pos * div[: d_model // 2]), div = 10000^(-2i/d_model). "
    "torch.cat([sin, cos]) puts them side by side, which is wrong. Register it with self.register_buffer('pe', pe).",
)
@on_each_device()
@given(d_model=S.sizes(1, 9), max_len=st.sampled_from([1, 3, 64, None]))
def test_positional_encoding_table(student, device, d_model, max_len):
    kwargs = {} if max_len is None else dict(max_len=max_len)
    max_len = 5000 if max_len is None else max_len  # the default
    table = student.run(positional_encoding, Recipe("PositionalEncoding", (d_model,), kwargs, device=device))
    example = dict(d_model=d_model, max_len=max_len)
    assert_true(
        table["registered"],
        "pe がバッファとして登録されていません (self.register_buffer('pe', pe) を使いましょう) / "
        "pe is not a registered buffer (use self.register_buffer('pe', pe))",
        example=example,
    )
    pe = table["pe"]
    # float32 (the default dtype, as PyTorch's tutorial builds it) or float64 are both fine for a buffer
    table_dtype = pe.dtype if pe.dtype in FULL else torch.get_default_dtype()
    expected = ref.sinusoidal_table(max_len, d_model).to(device=device, dtype=table_dtype)
    head = min(max_len, 64)  # float32 angles drift with pos (see pe_tolerance): a tight bound near the start
    assert_matches(pe[:head], expected[:head], what="pe[:64]", example=example, rtol=0.0, atol=pe_tolerance(head))
    assert_matches(pe, expected, what="pe", example=example, rtol=0.0, atol=pe_tolerance(max_len))


@check(
    2,
    needs_reference=True,
    ja="PositionalEncoding(x) = x + pe[:L] (評価モード、x の dtype・デバイスのまま)",
    en="PositionalEncoding(x) = x + pe[:L] (eval mode; x's dtype and device)",
    hint_ja="x は (B, L, d_model) (バッチが先) です。pe[:x.size(1)] を足します (x.size(0) はバッチの大きさ)。",
    hint_en="x is (B, L, d_model), batch first: add pe[:x.size(1)] (x.size(0) is the batch size).",
)
@on_devices()
@given(data=st.data(), B=S.sizes(1, 3), L=S.sizes(1, 6), half_d=S.sizes(1, 4), extra=st.integers(0, 3))
def test_positional_encoding_forward(student, device, dtype, data, B, L, half_d, extra):
    d_model, max_len = 2 * half_d, L + extra  # even d_model: an odd one is the table check's business
    recipe = Recipe("PositionalEncoding", (d_model,), dict(max_len=max_len), device=device, dtype=dtype)
    x = data.draw(S.tensors((B, L, d_model), dtype, device, noncontiguous=None))
    example = dict(d_model=d_model, max_len=max_len, x=x)
    result = student.run(positional_encoding, recipe, [x])
    # the student's own table, so that a wrong table costs only the table check; the
    # reference's when theirs is unusable (asked for always, so that a release's bank holds it)
    table = ref.sinusoidal_table(max_len, d_model)
    pe = result["pe"]
    if pe is None or pe.numel() != max_len * d_model:
        pe = table.to(device=device, dtype=dtype)
    [actual] = result["outputs"]
    expected = x + pe.reshape(max_len, d_model)[:L].to(dtype)
    assert_matches(actual, expected, what="PositionalEncoding(d_model, max_len)(x)", example=example)


@check(
    1,
    ja="PositionalEncoding は L > max_len の入力で ValueError を送出する",
    en="PositionalEncoding raises ValueError for an input longer than max_len",
    hint_ja="forward の最初で x.size(1) > max_len (= self.pe.size(0)) を確かめ、ValueError を送出しましょう "
    "(pe[:L] は黙って max_len で止まります)。",
    hint_en="At the start of forward, check x.size(1) > max_len (= self.pe.size(0)) and raise ValueError "
    "(pe[:L] silently stops at max_len).",
)
@on_each_device()
@given(max_len=S.sizes(1, 6), extra=S.sizes(1, 3), B=S.sizes(1, 3))
def test_positional_encoding_rejects_long_input(student, device, max_len, extra, B):
    recipe = Recipe("PositionalEncoding", (4,), dict(max_len=max_len), device=device, eval_mode=False)
    x = torch.randn(B, max_len + extra, 4, device=device)
    forward = lambda x: student.run(outputs, recipe, [(x,)])  # noqa: E731
    assert_raises(ValueError, forward, x, case=f"L = {max_len + extra} > max_len = {max_len}")
