"""Exercise 5, AttentionHead and MultiHeadAttention: values (self and cross), masks, causality, permutations,
the heads' divisibility and their vectorisation."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from grader import strategies as S
from grader.checks.ex5_transformer.comparisons import pair, sizes_of
from grader.checks.ex5_transformer.drivers import construct, forward_op_counts, outputs
from grader.checks.ex5_transformer.oracles import expected_output, ref, shared
from grader.checks.ex5_transformer.recipes import MODULES, Recipe, mha_recipe, self_attention, self_attention_args
from grader.compare import assert_credited_with_values, assert_matches, assert_raises, assert_true
from grader.devices import on_devices, on_each_device
from grader.spec import check, titles


@check(
    2,
    needs_reference=True,
    ja="AttentionHead が章の 1 ヘッドと一致する (W_q, W_k, W_v はバイアスなし)",
    en="AttentionHead computes the chapter's single head (W_q, W_k, W_v without bias)",
    hint_ja="W_q = nn.Linear(d_model, d_k, bias=False) など。Q = W_q(query)、K = W_k(key)、V = W_v(value) を "
    "scaled_dot_product_attention に渡して (context, weights) を返します。",
    hint_en="W_q = nn.Linear(d_model, d_k, bias=False), and so on. Pass Q = W_q(query), K = W_k(key), V = W_v(value) "
    "to scaled_dot_product_attention and return (context, weights).",
)
@on_devices()
@given(data=st.data(), cross=st.booleans(), seed=S.SEEDS)
def test_attention_head_values(student, device, dtype, data, cross, seed):
    config = data.draw(S.attention_configs(cross=cross))
    B, L, S_, d_model, d_k = config.batch, config.query_len, config.key_len, config.d_model, config.d_k
    recipe, reference = shared(Recipe("AttentionHead", (d_model, d_k), {}, seed, device, dtype, eval_mode=False))
    query, key, value = (data.draw(S.tensors((B, n, d_model), dtype, device)) for n in (L, S_, S_))
    shape = data.draw(st.sampled_from([None, (L, S_), (B, L, S_)]))
    mask = None if shape is None else data.draw(S.attention_masks(shape, device))
    example = dict(d_model=d_model, d_k=d_k, query=query, key=key, value=value, mask=mask)
    [result] = student.run(outputs, recipe, [(query, key, value, mask)])
    context, weights = pair(result, "AttentionHead.forward", example)
    expected_context, expected_weights = expected_output(reference, dtype, query, key, value, mask)
    assert_matches(weights, expected_weights, what="weights = head(query, key, value, mask)[1]", example=example)
    assert_matches(context, expected_context, what="context = head(query, key, value, mask)[0]", example=example)


@check(
    3,
    needs_reference=True,
    ja="MultiHeadAttention の自己アテンションが参照実装と一致する (重みを共有)",
    en="MultiHeadAttention self-attention matches the reference (shared weights)",
    hint_ja="(B, L, d_model) を view(B, L, num_heads, d_k).transpose(1, 2) で (B, num_heads, L, d_k) に分け、"
    "√d_k (d_model ではなく) で割り、最後は transpose(1, 2) してから (B, L, d_model) に戻して W_o をかけます。",
    hint_en="Split (B, L, d_model) with view(B, L, num_heads, d_k).transpose(1, 2) into (B, num_heads, L, d_k), "
    "scale by √d_k (not √d_model), and transpose(1, 2) back before reshaping to (B, L, d_model) and applying W_o.",
)
@on_devices()
@given(data=st.data(), config=S.attention_configs(), seed=S.SEEDS)
def test_mha_values(student, device, dtype, data, config, seed):
    recipe, reference = shared(mha_recipe(config, seed, device, dtype))
    x = data.draw(S.tensors((config.batch, config.query_len, config.d_model), dtype, device, noncontiguous=None))
    example = dict(**sizes_of(config), bias=config.bias, x=x)
    [actual] = student.run(outputs, recipe, [(x, x, x)])
    assert_matches(actual, expected_output(reference, dtype, x, x, x), what="MultiHeadAttention(x, x, x)", example=example)


@check(
    2,
    needs_reference=True,
    ja="MultiHeadAttention のクロスアテンション (L != S、query・key・value が別々) が参照実装と一致する",
    en="MultiHeadAttention cross-attention (L != S, separate query, key and value) matches the reference",
    hint_ja="K は W_k(key)、V は W_v(value) から作り、長さ S = key.size(1) で分けます (query の L ではなく)。",
    hint_en="Make K from W_k(key) and V from W_v(value), and split them with their own length S = key.size(1), "
    "not the query's L.",
)
@on_devices()
@given(data=st.data(), config=S.attention_configs(cross=True), seed=S.SEEDS)
def test_mha_cross_attention(student, device, dtype, data, config, seed):
    recipe, reference = shared(mha_recipe(config, seed, device, dtype))
    B, L, S_, d_model = config.batch, config.query_len, config.key_len, config.d_model
    query, key, value = (data.draw(S.tensors((B, n, d_model), dtype, device)) for n in (L, S_, S_))
    example = dict(**sizes_of(config), query=query, key=key, value=value)
    [actual] = student.run(outputs, recipe, [(query, key, value)])
    expected = expected_output(reference, dtype, query, key, value)
    assert_matches(actual, expected, what="MultiHeadAttention(query, key, value)", example=example)


@check(
    3,
    ja="MultiHeadAttention はどの形のマスクでも正しく隠す: (L, S)、(B, 1, 1, S)、(B, 1, L, S)、(B, num_heads, L, S)、"
    "bool でも 0/1 でも",
    en="MultiHeadAttention masks correctly with every mask shape ((L, S), (B, 1, 1, S), (B, 1, L, S), "
    "(B, num_heads, L, S)), bool or 0/1",
    hint_ja="scores は (B, num_heads, L, S) なので、マスクはそのままブロードキャストできます (unsqueeze や view は不要)。"
    "mask == 0 の位置を埋め、True/非ゼロ = 見てよい、を守りましょう。"
    "F.scaled_dot_product_attention に 0/1 の float マスクを渡すと、足し算のバイアスとして扱われます。",
    hint_en="scores is (B, num_heads, L, S), so every accepted mask broadcasts as it is (no unsqueeze or view needed). "
    "Fill where mask == 0: True/nonzero means may attend. F.scaled_dot_product_attention takes a float mask as an "
    "additive bias, not as 0/1.",
)
@on_devices()
@given(data=st.data(), config=S.attention_configs(min_len=2), name=st.sampled_from(S.MHA_MASK_SHAPES), seed=S.SEEDS)
def test_mha_mask_shapes(student, device, dtype, data, config, name, seed):
    allowed, hidden = data.draw(S.hiding_masks(name, config))
    mask = allowed.to(data.draw(st.sampled_from(S.MASK_DTYPES))).to(device)
    recipe = mha_recipe(config, seed, device, dtype)
    B, L, S_, H, d_model = config.batch, config.query_len, config.key_len, config.num_heads, config.d_model
    x = data.draw(S.tensors((B, L, d_model), dtype, device))
    kv = data.draw(S.tensors((B, S_, d_model), dtype, device))
    example = dict(**sizes_of(config), mask_shape=name, mask=mask, x=x, kv=kv)
    full = allowed.expand(B, H, L, S_).contiguous().to(device)
    changed = kv.clone()
    changed[hidden.to(device)] = data.draw(S.tensors((int(hidden.sum()), d_model), dtype, device))
    y, y_full, y_changed = student.run(outputs, recipe, [(x, kv, kv, mask), (x, kv, kv, full), (x, changed, changed, mask)])
    assert_matches(
        y,
        y_full,
        problem=f"{name} のマスクと、それを (B, num_heads, L, S) の bool に広げたマスクとで結果が違います / "
        f"the {name} mask and the same mask expanded to a bool (B, num_heads, L, S) give different outputs",
        what="MultiHeadAttention(x, kv, kv, mask)",
        example=example,
    )
    assert_matches(
        y_changed,
        y,
        problem="マスクで隠したキーと値を変えただけで出力が変わりました / changing only keys and values that the mask "
        "hides from every query changed the output",
        what="MultiHeadAttention(x, kv, kv, mask)",
        example=dict(example, hidden_keys=hidden, kv_changed_where_hidden=changed),
    )


@check(
    2,
    needs_reference=True,
    ja="因果マスクのもとでは未来のトークンを変えても過去の出力は変わらない (MultiHeadAttention と TransformerBlock)",
    en="under a causal mask, changing future tokens changes no earlier output (MultiHeadAttention and TransformerBlock)",
    hint_ja="マスクはヘッドとバッチにそのままブロードキャストし、softmax はキーの次元でとり、ヘッドは view のあと "
    "transpose で分けます。TransformerBlock は mask を attention に渡します。",
    hint_en="Broadcast the mask over heads and batch as it is, take the softmax over the keys, and split heads with "
    "view then transpose. TransformerBlock must pass mask on to its attention.",
)
@on_devices()
@given(data=st.data(), config=S.attention_configs(min_len=2, min_d_model=2), seed=S.SEEDS, module=st.sampled_from(MODULES))
def test_causality(student, device, dtype, data, config, seed, module):
    B, L, d_model = config.batch, config.query_len, config.d_model
    t = data.draw(st.integers(1, L - 1))  # positions t, t+1, ... are the future of positions < t
    x = data.draw(S.tensors((B, L, d_model), dtype, device))
    future = x.clone()
    future[:, t:] = data.draw(S.tensors((B, L - t, d_model), dtype, device))
    mask = ref.causal_mask(L, device=device)
    what, recipe = self_attention(module, config, seed, device, dtype)
    example = dict(module=what, **sizes_of(config), t=t, x=x, x_with_new_future=future, mask=mask)
    calls = [self_attention_args(recipe.cls, x, mask), self_attention_args(recipe.cls, future, mask)]
    before, after = (y[:, :t] for y in student.run(outputs, recipe, calls))
    assert_matches(
        after,
        before,
        problem=f"因果マスクがあるのに、位置 t 以降を変えると位置 t より前の出力が変わります / with a causal mask, "
        f"changing positions t, t+1, ... changed the outputs before t ({what})",
        what=f"{what}(x, mask)[:, :t]",
        example=example,
    )


@check(
    2,
    ja="位置エンコーディングなしの自己アテンションは並べ替えに同変: f(x[:, perm]) = f(x)[:, perm]",
    en="without positional encoding, self-attention is permutation equivariant: f(x[:, perm]) = f(x)[:, perm]",
    hint_ja="トークンの位置を混ぜていないか確かめましょう。ヘッドは view(B, L, num_heads, d_k).transpose(1, 2) で分けます "
    "(view(B, num_heads, L, d_k) は別々のトークンを混ぜてしまいます)。",
    hint_en="Check that nothing mixes token positions: split heads with view(B, L, num_heads, d_k).transpose(1, 2) "
    "(view(B, num_heads, L, d_k) mixes different tokens).",
)
@on_devices()
@given(data=st.data(), config=S.attention_configs(min_len=2, min_d_model=2), seed=S.SEEDS, module=st.sampled_from(MODULES))
def test_permutation_equivariance(student, device, dtype, data, config, seed, module):
    B, L, d_model = config.batch, config.query_len, config.d_model
    perm = torch.tensor(data.draw(st.permutations(range(L))), device=device)
    x = data.draw(S.tensors((B, L, d_model), dtype, device))
    what, recipe = self_attention(module, config, seed, device, dtype)
    example = dict(module=what, **sizes_of(config), x=x, perm=perm)
    calls = [self_attention_args(recipe.cls, x[:, perm]), self_attention_args(recipe.cls, x)]
    y_of_permuted, y = student.run(outputs, recipe, calls)
    permuted_first, permuted_after = y_of_permuted, y[:, perm]
    assert_matches(
        permuted_first,
        permuted_after,
        problem=f"トークンを並べ替えると、出力が同じように並べ替わるだけでなく値まで変わります / permuting the tokens "
        f"changed the outputs, not just their order ({what})",
        what="f(x[:, perm]) against f(x)[:, perm]",
        example=example,
    )


@check(
    1,
    ja="d_model が num_heads で割り切れないと ValueError (assert ではなく)",
    en="d_model not divisible by num_heads raises ValueError (not an assert)",
    hint_ja="if d_model % num_heads != 0: raise ValueError(...)。assert は AssertionError になり、python -O では消えます。",
    hint_en="if d_model % num_heads != 0: raise ValueError(...). An assert raises AssertionError and vanishes under python -O.",
)
@given(sizes=st.sampled_from([(6, 4), (5, 2), (7, 3), (2, 4), (10, 4)]), block=st.booleans())
def test_mha_rejects_indivisible_heads(student, sizes, block):
    d_model, num_heads = sizes
    cls, args = ("TransformerBlock", (d_model, num_heads, 8)) if block else ("MultiHeadAttention", (d_model, num_heads))
    assert_raises(ValueError, lambda *given: student.run(construct, Recipe(cls, given)), *args, case=f"{cls}{args}")


@check(
    2,
    needs_reference=True,
    ja="MultiHeadAttention は全ヘッドをまとめて計算する (演算数が num_heads によらない)",
    en="MultiHeadAttention computes all heads together (its number of tensor operations does not grow with num_heads)",
    hint_ja="ヘッドごとの for ループや ModuleList をやめ、(B, num_heads, L, d_k) のテンソルに対して 1 回の matmul と "
    "softmax で全ヘッドを計算しましょう。",
    hint_en="Drop the per-head loop (or ModuleList of heads): compute every head with one matmul and one softmax on "
    "(B, num_heads, L, d_k) tensors.",
)
@on_each_device()
def test_mha_vectorized_heads(student, device):
    x = S.make((2, 3, 64), torch.float32, device, 0)
    # num_heads=2 rather than 1: a (B, 1, L, d_k) tensor stays contiguous when transposed, so
    # .contiguous()/.reshape would skip at num_heads=1 a copy they make at every other count.
    masks, heads = (None, ref.causal_mask(3, device=device)), (2, 8)
    mhas = {H: shared(Recipe("MultiHeadAttention", (64, H), device=device)) for H in heads}  # H -> (recipe, reference)
    counted = iter(student.run(forward_op_counts, [(mhas[H][0], (x, x, x, mask)) for mask in masks for H in heads]))
    for mask in masks:
        ops = {}
        for H in heads:
            out, ops[H] = next(counted)
            # the count is taken where the student's code runs: believed only together with the right output
            assert_credited_with_values(
                out,
                expected_output(mhas[H][1], torch.float32, x, x, x, mask),
                what=f"MultiHeadAttention(64, {H})(x, x, x, mask)",
                values_check=titles(test_mha_values),
                example=dict(x=x, mask=mask),
            )
        few, many = ops[2], ops[8]
        assert_true(
            few == many,
            "MultiHeadAttention のテンソル演算の数が num_heads で変わります / MultiHeadAttention dispatches a number "
            f"of tensor operations that grows with num_heads: {few} ops with 2 heads but {many} with 8",
            example=dict(x_shape=(2, 3, 64), mask=mask),
        )
