"""Exercise 5, across modules: dropout in train and eval mode, and gradients that reach every parameter.

What can only be seen where the student's code runs (how often self.dropout runs, which
parameters get a gradient) is believed only together with outputs that match the
reference, the business of the value checks in :data:`VALUE_CHECKS`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from grader import strategies as S
from grader.checks.ex5_transformer.block_checks import test_block_post_norm_values, test_block_pre_norm_values
from grader.checks.ex5_transformer.comparisons import assert_dropout_applied
from grader.checks.ex5_transformer.drivers import block_dropout, eval_twice_then_train, parameter_gradients
from grader.checks.ex5_transformer.multihead_checks import test_attention_head_values, test_mha_values
from grader.checks.ex5_transformer.oracles import expected_output, reference_train_output, shared
from grader.checks.ex5_transformer.recipes import MODULES, Recipe, self_attention, self_attention_args
from grader.compare import assert_credited_with_values, assert_matches, assert_true
from grader.devices import FULL, on_devices, seeded
from grader.feedback import fail
from grader.spec import check, titles

#: The check of each module's values: ``VALUE_CHECKS[module]()`` is the check function.
VALUE_CHECKS = {
    "AttentionHead": lambda: test_attention_head_values,
    "MultiHeadAttention": lambda: test_mha_values,
    "TransformerBlock (post-norm)": lambda: test_block_post_norm_values,
    "TransformerBlock (pre-norm)": lambda: test_block_pre_norm_values,
}


@check(
    2,
    needs_reference=True,
    ja="評価モードでは決定的 (ドロップアウトなし)、訓練モードでは同じ乱数シードなら参照実装と同じ場所・同じ順序で"
    "ドロップアウトする (PositionalEncoding・MultiHeadAttention・TransformerBlock)",
    en="eval mode is deterministic (no dropout); in train mode, under the same seed, dropout acts where and in the "
    "order the reference's does (PositionalEncoding, MultiHeadAttention, TransformerBlock)",
    hint_ja="nn.Dropout は model.train()/model.eval() に従います。F.dropout なら training=self.training を渡します。"
    "PositionalEncoding は dropout(x + pe[:L])、MultiHeadAttention はアテンションの重み (B, num_heads, L, S) に 1 回。"
    "TransformerBlock の attention は MultiHeadAttention(d_model, num_heads) (自分のドロップアウトなし)、"
    "feed_forward は ReLU と 2 つ目の Linear の間に nn.Dropout、self.dropout は各サブ層の出力に 1 回ずつ (計 2 回)。",
    hint_en="nn.Dropout follows model.train()/model.eval(); with F.dropout pass training=self.training. "
    "PositionalEncoding: dropout(x + pe[:L]); MultiHeadAttention: once, on the attention weights (B, num_heads, L, S). "
    "TransformerBlock: attention is MultiHeadAttention(d_model, num_heads) with no dropout of its own, feed_forward "
    "has its nn.Dropout between the ReLU and the second Linear, and self.dropout acts once on each sublayer's output.",
)
@on_devices()
def test_dropout_train_and_eval(student, device, dtype):
    for seed, p in enumerate(S.DROPOUT_PROBS):
        assert_positional_encoding_dropout(student, device, dtype, p, seed)
        assert_attention_weights_dropout(student, device, dtype, p, seed, num_heads=(1, 4)[seed % 2])
        assert_attention_dropout_matches_reference(student, device, dtype, p, seed, bias=bool(seed % 2))
        assert_block_dropout(student, device, dtype, p, seed, norm_first=bool(seed % 2))
    assert_default_dropouts(student, device, dtype)


#: Why the train-mode comparison with the reference is left out in half precision: there the
#: reference computes in float32, and on a GPU a dropout mask depends on the tensor's dtype.
SAME_MASKS_DTYPES = FULL


def assert_same_masks(noisy: torch.Tensor, expected: torch.Tensor, *, what: str, seed: int, example: dict) -> None:
    """``noisy`` (train mode under ``seed``) equals ``expected``: the same dropout masks, drawn in the same order."""
    assert_matches(
        noisy,
        expected,
        problem=f"{what}: 評価モードの出力は参照実装と同じなのに、同じ乱数シードでの訓練モードの出力が違います "
        "(ドロップアウトをかける場所・回数・順序が契約と違います) / the eval-mode output matches the reference's, "
        "but under the same seed the train-mode output does not: dropout acts somewhere else, a different number of "
        "times, or in another order than the contract says",
        what=f"torch.manual_seed({seed}); {what}.train()(...)",
        example=example,
    )


def assert_deterministic(first: torch.Tensor, second: torch.Tensor, what: str, example: dict) -> None:
    assert_matches(
        second,
        first,
        problem=f"評価モードの {what} を 2 回呼ぶと結果が違います (評価モードではドロップアウトしない) / "
        f"{what} in eval mode gave two different results (no dropout in eval mode)",
        what=what,
        example=example,
    )


def assert_positional_encoding_dropout(student, device, dtype, p: float, seed: int) -> None:
    """dropout(x + pe[:L]): in train mode every entry is zero or scaled by 1/(1-p); in eval mode untouched."""
    recipe = Recipe("PositionalEncoding", (8,), dict(max_len=128, dropout=p), seed, device, dtype)
    x = S.make((1, 128, 8), dtype, device, seed)  # B=1: a wrong slice of pe costs the forward check, not this one
    what = f"PositionalEncoding(8, max_len=128, dropout={p})"
    example = dict(module=what, x=x)
    result = student.run(eval_twice_then_train, recipe, (x,), seed)
    assert_deterministic(result["clean"], result["again"], what, example)
    assert_dropout_applied(result["noisy"], result["clean"], p, what=f"{what}, train mode", example=example)
    # one nn.Dropout on x + pe[:L] (the eval-mode output), drawn under the same seed: torch's own dropout, here
    with seeded(seed, device):
        expected = F.dropout(result["clean"], p, training=True)
    assert_same_masks(result["noisy"], expected, what=what, seed=seed, example=example)


def assert_attention_dropout_matches_reference(student, device, dtype, p: float, seed: int, bias: bool) -> None:
    """With the reference's weights: eval mode as the reference, and train mode under ``seed`` too (same masks).

    One head: a loop over the heads draws its masks head by head, in another order than one
    draw for (B, num_heads, L, S); that loop costs the vectorisation check, not this one.
    With L = S = 5 and d_k = 8, the weights (B, 1, 5, 5) and the heads' outputs (B, 1, 5, 8)
    need different numbers of draws, so dropping the wrong one shows.
    """
    d_model, num_heads = 8, 1
    kwargs = dict(dropout=p, bias=bias)
    recipe, reference = shared(Recipe("MultiHeadAttention", (d_model, num_heads), kwargs, seed, device, dtype))
    x = S.make((2, 5, d_model), dtype, device, seed)
    what = f"MultiHeadAttention({d_model}, {num_heads}, dropout={p}, bias={bias})"
    example = dict(module=what, x=x, manual_seed=seed)
    result = student.run(eval_twice_then_train, recipe, (x, x, x), seed)
    # a train-mode output is judged only where the eval-mode one is right
    expected = expected_output(reference, dtype, x, x, x)
    values_check = titles(test_mha_values)
    assert_credited_with_values(result["clean"], expected, what=f"{what}.eval()(x, x, x)", values_check=values_check, example=example)
    if dtype in SAME_MASKS_DTYPES:
        expected = reference_train_output(reference.recipe, (x, x, x), seed)
        assert_same_masks(result["noisy"], expected, what=what, seed=seed, example=example)


def assert_attention_weights_dropout(student, device, dtype, p: float, seed: int, num_heads: int) -> None:
    """With W_v = W_o = identity and one-hot tokens, MultiHeadAttention's output shows its (dropped) weights."""
    d_model = 8
    recipe = Recipe("MultiHeadAttention", (d_model, num_heads), dict(dropout=p, bias=False), seed, device, dtype)
    tokens = torch.eye(d_model, device=device, dtype=dtype).repeat(16, 1, 1)  # B=16, L = S = d_model
    what = f"MultiHeadAttention({d_model}, {num_heads}, dropout={p}, bias=False) with W_v = W_o = I"
    example = dict(module=what, x=tokens)
    result = student.run(eval_twice_then_train, recipe, (tokens, tokens, tokens), seed, identity=("W_v", "W_o"))
    assert_deterministic(result["clean"], result["again"], what, example)
    noisy, clean = result["noisy"], result["clean"]
    assert_dropout_applied(noisy, clean, p, what=f"{what}, train mode (its output shows the weights)", example=example)


def assert_default_dropouts(student, device, dtype, seed: int = 7) -> None:
    """The defaults: PositionalEncoding and MultiHeadAttention do not drop; TransformerBlock drops with p = 0.1."""
    x = S.make((2, 5, 8), dtype, device, seed)
    one = x[:1]  # B=1 for PositionalEncoding: a wrong slice of pe costs the forward check, not this one
    for recipe, args in (
        (Recipe("PositionalEncoding", (8,), dict(max_len=16), seed, device, dtype), (one,)),
        (Recipe("MultiHeadAttention", (8, 2), {}, seed, device, dtype), (x, x, x)),
    ):
        what = f"{recipe.cls}({', '.join(map(str, recipe.args))}{', max_len=16' if recipe.kwargs else ''})"
        result = student.run(eval_twice_then_train, recipe, args, seed)
        assert_matches(
            result["noisy"],
            result["clean"],
            problem=f"{what}: dropout の既定値は 0.0 なのに、訓練モードの出力が評価モードと違います / dropout "
            "defaults to 0.0, yet the train-mode output differs from the eval-mode one",
            what=f"{what}.train()(...)",
            example=dict(module=what, x=args[0]),
        )
    recipe, reference = shared(Recipe("TransformerBlock", (8, 2, 16), {}, seed, device, dtype))
    what = "TransformerBlock(8, 2, 16)"
    example = dict(module=what, x=x, manual_seed=seed)
    result = student.run(eval_twice_then_train, recipe, (x,), seed)
    values_check = titles(test_block_post_norm_values)
    expected = expected_output(reference, dtype, x)
    assert_credited_with_values(result["clean"], expected, what=f"{what}.eval()(x)", values_check=values_check, example=example)
    if dtype in SAME_MASKS_DTYPES:
        expected = reference_train_output(reference.recipe, (x,), seed)
        assert_same_masks(result["noisy"], expected, what=f"{what} (dropout=0.1 by default)", seed=seed, example=example)


def assert_block_dropout(student, device, dtype, p: float, seed: int, norm_first: bool) -> None:
    """Eval mode: no dropout at all. Train mode: self.dropout on both sublayers' outputs."""
    d_model, num_heads = 8, 2
    kwargs = dict(dropout=p, norm_first=norm_first)
    recipe, reference = shared(Recipe("TransformerBlock", (d_model, num_heads, 16), kwargs, seed, device, dtype))
    x = S.make((2, 5, d_model), dtype, device, seed)
    what = f"TransformerBlock({d_model}, {num_heads}, 16, dropout={p}, norm_first={norm_first})"
    example = dict(module=what, x=x)
    result = student.run(block_dropout, recipe, x, seed)
    clean, noisy, calls = result["clean"], result["noisy"], result["calls"]
    assert_matches(
        clean,
        result["without"],
        problem=f"評価モードの {what} が dropout=0 のブロックと違います / {what} in eval mode differs from "
        "the same block with dropout=0",
        what=what,
        example=example,
    )
    assert_deterministic(clean, result["again"], what, example)
    # the count of self.dropout calls is taken where the student's code runs: believed only with the right outputs
    values_check = titles(test_block_pre_norm_values if norm_first else test_block_post_norm_values)
    expected = expected_output(reference, dtype, x)
    assert_credited_with_values(clean, expected, what=f"{what}.eval()(x)", values_check=values_check, example=example)
    assert_true(
        calls == 2,
        f"訓練モードの forward 1 回で self.dropout が {calls} 回呼ばれました (アテンションの後と feed_forward の後の "
        f"2 回のはず) / self.dropout was applied {calls} times in one train-mode forward (expected 2: after the "
        "attention and after feed_forward)",
        example=example,
    )
    assert_true(
        not torch.equal(noisy, clean),
        "訓練モードの TransformerBlock の出力が評価モードと同じです (ドロップアウトが効いていません) / "
        "TransformerBlock gives the eval-mode output in train mode (no dropout happened)",
        example=example,
    )
    if dtype in SAME_MASKS_DTYPES:
        expected = reference_train_output(reference.recipe, (x,), seed)
        assert_same_masks(noisy, expected, what=what, seed=seed, example=dict(example, manual_seed=seed))


@check(
    2,
    needs_reference=True,
    ja="勾配がすべてのパラメータに届く (AttentionHead・MultiHeadAttention・TransformerBlock)",
    en="gradients reach every parameter (AttentionHead, MultiHeadAttention, TransformerBlock)",
    hint_ja="計算の途中で .detach()、.item()、torch.no_grad()、torch.tensor(...) による作り直しをしていないか、"
    "作った層 (W_o や norm など) をすべて forward で使っているか確かめましょう。",
    hint_en="Look for .detach(), .item(), torch.no_grad() or rebuilding tensors with torch.tensor(...) on the way, "
    "and check that forward uses every layer you created (W_o, the norms, ...).",
)
@on_devices(half_on_cuda=False)
@given(
    data=st.data(),
    config=S.attention_configs(min_len=2, min_d_model=3),
    seed=S.SEEDS,
    module=st.sampled_from(("AttentionHead", *MODULES)),
)
def test_gradients_reach_every_parameter(student, device, dtype, data, config, seed, module):
    B, L, d_model = config.batch, config.query_len, config.d_model
    x = data.draw(S.tensors((B, L, d_model), dtype, device))
    if module == "AttentionHead":
        what = f"AttentionHead({d_model}, {config.d_k})"
        recipe = Recipe("AttentionHead", (d_model, config.d_k), seed=seed, device=device, dtype=dtype, eval_mode=False)
    else:
        what, recipe = self_attention(module, config, seed, device, dtype)
    recipe, reference = shared(recipe)
    expected = expected_output(reference, dtype, *self_attention_args(recipe.cls, x))
    expected = expected[0] if isinstance(expected, tuple) else expected  # AttentionHead: the context
    upstream = S.make(tuple(expected.shape), dtype, device, seed)  # not ones: a LayerNorm output always sums to a constant
    result = student.run(parameter_gradients, recipe, x, upstream)
    example = dict(module=what, x=x)
    if not result["connected"]:
        raise fail(
            f"{what} の出力が x やパラメータとつながっていません / the output of {what} is not connected to x or "
            "the parameters",
            example=example,
        )
    # which parameters got a gradient is seen where the student's code runs: believed only with the right output
    values_check = titles(VALUE_CHECKS[module]())
    assert_credited_with_values(result["out"], expected, what=f"{what} on x", values_check=values_check, example=example)
    grads = result["grads"]
    # every parameter the student's module reported, and any of the reference's it left out
    names = [*grads, *(name for name, _ in reference.named_parameters() if name not in grads)]
    for name in names:
        grad = grads.get(name)
        reached = grad is not None and bool(torch.isfinite(grad).all())
        # softmax ignores a shift shared by all keys, so the gradient of W_k's bias is zero by right
        if not name.endswith("W_k.bias"):
            reached = reached and bool((grad != 0).any())
        assert_true(
            reached,
            f"{what}: {name} に勾配が届いていません (None、ゼロ、または NaN) / no gradient reaches {name} "
            "(it is None, zero or not finite)",
            example=example,
            actual=grad,
        )
