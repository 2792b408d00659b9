"""Exercise 5, scaled_dot_product_attention and causal_mask: values, fully masked rows, the mask, dropout."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from grader import strategies as S
from grader.checks.ex5_transformer.comparisons import assert_dropout_applied, pair, sizes_of
from grader.checks.ex5_transformer.drivers import attention_dropout, output_and_bias
from grader.checks.ex5_transformer.oracles import expected_output, ref
from grader.checks.ex5_transformer.recipes import mha_recipe
from grader.compare import assert_matches, assert_true
from grader.devices import on_devices, on_each_device
from grader.spec import check


@check(
    3,
    needs_reference=True,
    ja="scaled_dot_product_attention の out と weights が参照実装と一致する (マスクつきも)",
    en="scaled_dot_product_attention returns the right out and weights (with masks too)",
    hint_ja="scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)。softmax は最後の次元 (キー) でとります。"
    "mask は非ゼロが「見てよい」なので、mask == 0 の位置を埋めてから softmax します。",
    hint_en="scores = q @ k.transpose(-2, -1) / math.sqrt(d_k); take the softmax over the last dimension (the keys). "
    "Nonzero mask entries may be attended: fill the positions where mask == 0 before the softmax.",
)
@on_devices()
@given(data=st.data())
def test_attention_values(student, device, dtype, data):
    q, k, v, mask = data.draw(S.attention_inputs(device, dtype))
    example = dict(q=q, k=k, v=v, mask=mask)
    call = "scaled_dot_product_attention(q, k, v, mask)"
    out, weights = pair(student.scaled_dot_product_attention(q, k, v, mask), call, example)
    expected_out, expected_weights = expected_output(ref.scaled_dot_product_attention, dtype, q, k, v, mask)
    assert_matches(weights, expected_weights, what=f"weights = {call}[1]", example=example)
    assert_matches(out, expected_out, what=f"out = {call}[0]", example=example)


@check(
    2,
    ja="見てよいキーが 1 つもない行は、重みも出力もゼロ (NaN でも一様でもない)。MultiHeadAttention ではその行は W_o.bias だけ",
    en="a query that may attend to no key gets zero weights and output (no NaN, no uniform attention); "
    "in MultiHeadAttention such a row is W_o.bias alone",
    hint_ja="-1e9 や -inf で埋めて softmax すると、全部埋まった行は一様な重みか NaN になります。"
    "softmax の後で、見てよいキーのない行 (~allowed.any(dim=-1, keepdim=True)) の重みを 0 にしましょう。",
    hint_en="Filling with -1e9 or -inf and taking the softmax gives uniform weights or NaN in a fully masked row. "
    "After the softmax, set the weights of rows with no key (~allowed.any(dim=-1, keepdim=True)) to 0.",
)
@on_devices()
@given(data=st.data(), case=st.sampled_from(["function", "padding (B, 1, 1, S)", "rows (L, S)"]))
def test_fully_masked_rows(student, device, dtype, data, case):
    if case == "function":
        assert_empty_rows_are_zero(student, device, dtype, data)
        return
    config = data.draw(S.attention_configs())
    B, L, d_model = config.batch, config.query_len, config.d_model
    recipe = mha_recipe(config, data.draw(S.SEEDS), device, dtype)
    x = data.draw(S.tensors((B, L, d_model), dtype, device))
    if case == "padding (B, 1, 1, S)":  # whole sequences with no key at all
        mask = data.draw(S.attention_masks((B, 1, 1, L), device, empty_rows=True))
        empty, rows = (mask == 0).flatten(1).all(1), "y[(mask == 0).flatten(1).all(1)]"
        pick = lambda y: y[empty]  # noqa: E731
    else:  # query rows with no key
        mask = data.draw(S.attention_masks((L, L), device, empty_rows=True))
        empty, rows = (mask == 0).all(1), "y[:, (mask == 0).all(1)]"
        pick = lambda y: y[:, empty]  # noqa: E731
    example = dict(**sizes_of(config), bias=config.bias, x=x, mask=mask)
    result = student.run(output_and_bias, recipe, (x, x, x, mask))
    y, bias = result["y"], result["bias"]
    assert_true(
        bool(torch.isfinite(y).all()),
        "MultiHeadAttention の出力に NaN か inf があります / MultiHeadAttention returned NaN or inf",
        example=example,
        actual=y,
    )
    expected = torch.zeros_like(pick(y)) if bias is None else bias.expand_as(pick(y))
    assert_matches(
        pick(y),
        expected,
        problem="見てよいキーのない行の出力は W_o.bias だけのはずです (アテンションの出力がゼロ) / "
        "a row with no key to attend to must come out as W_o.bias alone (a zero attention output)",
        what=f"{rows} with y = MultiHeadAttention(x, x, x, mask)",
        example=example,
    )


def assert_empty_rows_are_zero(student, device, dtype, data) -> None:
    lead = data.draw(st.sampled_from([(), (2,)]))
    L, S_, d = data.draw(S.sizes(1, 4)), data.draw(S.sizes(1, 4)), data.draw(S.sizes(1, 3))
    q, k, v = (data.draw(S.tensors((*lead, n, d), dtype, device)) for n in (L, S_, S_))
    mask = data.draw(S.attention_masks((*lead, L, S_), device, empty_rows=True))
    example = dict(q=q, k=k, v=v, mask=mask)
    call = "scaled_dot_product_attention(q, k, v, mask)"
    out, weights = pair(student.scaled_dot_product_attention(q, k, v, mask), call, example)
    assert_true(
        bool(torch.isfinite(out).all() and torch.isfinite(weights).all()),
        f"{call} の結果に NaN か inf があります / {call} returned NaN or inf",
        example=example,
        actual=(out, weights),
    )
    empty = (mask == 0).all(dim=-1)  # (..., L): rows that may attend to nothing
    for name, got in (("weights", weights), ("out", out)):
        assert_matches(
            got[empty],
            torch.zeros_like(got[empty]),
            problem=f"見てよいキーのない行の {name} はゼロのはずです / rows with no key to attend to must have zero {name}",
            what=f"{name}[(mask == 0).all(-1)]",
            example=example,
            exact=True,
        )
    # every other row is what it would be if the empty rows could see every key
    opened = mask.clone()
    opened[empty] = 1
    out_opened, weights_opened = pair(student.scaled_dot_product_attention(q, k, v, opened), call, example)
    for name, got, alone in (("weights", weights, weights_opened), ("out", out, out_opened)):
        assert_matches(
            got[~empty],
            alone[~empty],
            problem=f"空の行があると、ほかの行の {name} まで変わります / the {name} of the other rows change "
            "when some rows are fully masked",
            what=f"{name}[(mask != 0).any(-1)]",
            example=dict(example, same_mask_without_empty_rows=opened),
        )


@check(
    1,
    needs_reference=True,
    ja="causal_mask(L, S) は j <= i で True の bool (L, S) (左上にそろえる)",
    en="causal_mask(L, S) is bool (L, S), True where j <= i (aligned to the upper left)",
    hint_ja="torch.ones(L, S, dtype=torch.bool, device=device).tril() か、arange(S)[None, :] <= arange(L)[:, None]。"
    "diagonal=S-L で右下にそろえると is_causal=True と一致しません。",
    hint_en="torch.ones(L, S, dtype=torch.bool, device=device).tril(), or arange(S)[None, :] <= arange(L)[:, None]. "
    "Aligning to the lower right (diagonal=S-L) disagrees with is_causal=True.",
)
@on_each_device()
def test_causal_mask(student, device):
    cases = [(L, None) for L in range(1, 5)] + [(L, S_) for L in range(1, 5) for S_ in range(1, 6)]
    for L, S_ in sorted(cases, key=lambda c: (c[0] + (c[1] or c[0]), c[1] is not None)):  # smallest first
        actual = student.causal_mask(L, device=device) if S_ is None else student.causal_mask(L, S_, device=device)
        assert_matches(
            actual,
            ref.causal_mask(L, S_, device=device),
            what="causal_mask(L)" if S_ is None else "causal_mask(L, S)",
            example=dict(L=L, S=S_, device=device),
            exact=True,
        )


@check(
    2,
    ja="scaled_dot_product_attention のドロップアウト: training=True のときだけ重みに効き、返す重み = 実際に使った重み",
    en="scaled_dot_product_attention's dropout acts on the weights, only when training, and returns the weights it applied",
    hint_ja="weights = F.dropout(weights, dropout_p, training=training) (F.dropout の training は省略すると True です)。"
    "そのあとで out = weights @ v を計算し、その weights を返しましょう。",
    hint_en="weights = F.dropout(weights, dropout_p, training=training) (F.dropout's training defaults to True), "
    "then compute out = weights @ v and return those weights.",
)
@on_devices()
def test_attention_dropout(student, device, dtype):
    for seed, p in enumerate(S.DROPOUT_PROBS):
        q, k = (S.make((4, 16, 4), dtype, device, seed + i, low=-1.0, high=1.0) for i in range(2))
        v = S.make((4, 16, 3), dtype, device, seed + 2)
        example = dict(q=q, k=k, v=v, dropout_p=p)
        results = student.run(attention_dropout, q, k, v, p, seed)
        _, plain = pair(results["plain"], "scaled_dot_product_attention(q, k, v)", example)
        _, evaluated = pair(results["evaluated"], "scaled_dot_product_attention(...)", example)
        assert_matches(
            evaluated,
            plain,
            problem="training=False なのに重みが変わりました (ドロップアウトは訓練時だけ) / "
            "the weights changed with training=False (dropout only acts when training)",
            what="scaled_dot_product_attention(q, k, v, dropout_p, training=False)[1]",
            example=example,
        )
        out, dropped = pair(results["trained"], "scaled_dot_product_attention(...)", example)
        assert_dropout_applied(dropped, plain, p, what="weights (training=True)", example=example)
        assert_matches(
            out,
            dropped @ v,
            problem="out が返した weights @ v ではありません (返す重みはドロップアウト後のもの) / "
            "out is not the returned weights @ v (return the weights after dropout, the ones applied)",
            what="out",
            example=example,
        )
