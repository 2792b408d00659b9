"""Exercise 5, TransformerBlock: post-norm and pre-norm blocks match the reference (shared weights)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from grader import strategies as S
from grader.checks.ex5_transformer.comparisons import sizes_of
from grader.checks.ex5_transformer.drivers import outputs
from grader.checks.ex5_transformer.oracles import expected_output, shared
from grader.checks.ex5_transformer.recipes import Recipe
from grader.compare import assert_matches
from grader.devices import on_devices
from grader.spec import check


#: The block's dropouts drawn for the value checks; None leaves the arguments out (the defaults).
BLOCK_DROPOUTS = st.sampled_from([None, 0.0, 0.1, 0.5])

#: The explicit example of the value checks: the defaults (dropout, and norm_first for post-norm, left out).
DEFAULT_BLOCK = dict(config=S.AttentionConfig(2, 4, 4, 2, 3), seed=0, d_ff=8, x_seed=0)


def assert_block_matches(student, device, dtype, config, seed, d_ff, dropout, x_seed, norm_first) -> None:
    """The block in eval mode on x, with the reference's weights. ``dropout`` None: the defaults are left out
    (dropout, and norm_first too when it is the default False)."""
    d_model, args = config.d_model, (config.d_model, config.num_heads, d_ff)
    if dropout is None:
        kwargs = dict(norm_first=True) if norm_first else {}
    else:
        kwargs = dict(dropout=dropout, norm_first=norm_first)
    recipe, reference = shared(Recipe("TransformerBlock", args, kwargs, seed, device, dtype))
    x = S.make((config.batch, config.query_len, d_model), dtype, device, x_seed)
    shown = "(省略 / default)" if dropout is None else dropout
    example = dict(**sizes_of(config), d_ff=d_ff, dropout=shown, norm_first=norm_first, x=x)
    [actual] = student.run(outputs, recipe, [(x,)])
    expected = expected_output(reference, dtype, x)
    assert_matches(actual, expected, what=f"TransformerBlock(..., norm_first={norm_first}).eval()(x)", example=example)


@check(
    3,
    needs_reference=True,
    ja="TransformerBlock (Post-LN、norm_first=False) が章のブロックと一致する",
    en="TransformerBlock with norm_first=False (post-norm) matches the chapter's block",
    hint_ja="x = norm1(x + dropout(attention(x, x, x, mask)))、x = norm2(x + dropout(feed_forward(x)))。"
    "LayerNorm は残差を足した後です。",
    hint_en="x = norm1(x + dropout(attention(x, x, x, mask))); x = norm2(x + dropout(feed_forward(x))): "
    "the LayerNorm comes after the residual sum.",
)
@on_devices()
@given(config=S.attention_configs(min_d_model=2), seed=S.SEEDS, d_ff=S.sizes(1, 8), dropout=BLOCK_DROPOUTS, x_seed=S.SEEDS)
@S.explicit("dropout", [None], **DEFAULT_BLOCK)
def test_block_post_norm_values(student, device, dtype, config, seed, d_ff, dropout, x_seed):
    assert_block_matches(student, device, dtype, config, seed, d_ff, dropout, x_seed, norm_first=False)


@check(
    2,
    needs_reference=True,
    ja="TransformerBlock (Pre-LN、norm_first=True) が参照実装と一致する",
    en="TransformerBlock with norm_first=True (pre-norm) matches the reference",
    hint_ja="h = norm1(x); x = x + dropout(attention(h, h, h, mask)); x = x + dropout(feed_forward(norm2(x)))。"
    "LayerNorm は各サブ層の前で、残差には正規化前の x を足します。",
    hint_en="h = norm1(x); x = x + dropout(attention(h, h, h, mask)); x = x + dropout(feed_forward(norm2(x))): "
    "normalise before each sublayer and add the sublayer to the unnormalised x.",
)
@on_devices()
@given(config=S.attention_configs(min_d_model=2), seed=S.SEEDS, d_ff=S.sizes(1, 8), dropout=BLOCK_DROPOUTS, x_seed=S.SEEDS)
@S.explicit("dropout", [None], **DEFAULT_BLOCK)
def test_block_pre_norm_values(student, device, dtype, config, seed, d_ff, dropout, x_seed):
    assert_block_matches(student, device, dtype, config, seed, d_ff, dropout, x_seed, norm_first=True)
