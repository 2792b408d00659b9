"""Exercise 2, robustness: large |x| in every dtype; empty and non-contiguous tensors."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from grader import strategies as S
from grader.checks.ex2_swish.comparisons import connected
from grader.checks.ex2_swish.drivers import swish_both_layouts
from grader.checks.ex2_swish.oracles import ref, reference_grads
from grader.compare import assert_matches, assert_true
from grader.devices import on_devices
from grader.drivers import vjp
from grader.spec import check


@check(
    2,
    needs_reference=True,
    ja="|x| が大きくても (±1e2〜±1e4) 出力と勾配が有限で正しい (どの dtype でも)",
    en="outputs and gradients stay finite and right for large |x| (±1e2 to ±1e4) in every dtype",
    hint_ja="exp(-beta·x) は x が大きな負の数のとき inf になり、inf/inf = nan です。torch.sigmoid を使い、"
    "微分も s = sigmoid(beta·x) と (1 − s) で表しましょう (exp を直接使わない)。float16 では x * x も "
    "|x| > 256 で inf になるので、beta の勾配は x * (x * s * (1 − s)) のように 0 を先に掛けます。",
    hint_en="exp(-beta*x) is inf for large negative x, and inf/inf = nan. Use torch.sigmoid and write the "
    "derivative with s = sigmoid(beta*x) and (1 - s), not with exp directly. In float16 x * x is inf for "
    "|x| > 256 too: form beta's gradient as x * (x * s * (1 - s)), so the 0 comes first.",
)
@on_devices()
@given(values=S.large_values(), beta=S.SATURATING_BETAS, tensor_beta=st.booleans())
@S.explicit("tensor_beta", [False, True], values=S.ALL_LARGE_VALUES, beta=S.DEFAULT_BETA)
def test_large_inputs(student, device, dtype, values, beta, tensor_beta):
    x = torch.tensor(values, dtype=dtype, device=device, requires_grad=True)
    beta = torch.tensor(beta, dtype=dtype, device=device, requires_grad=True) if tensor_beta else beta
    example = dict(x=x, beta=beta)
    upstream = torch.ones_like(x)
    wrt = (0, 1) if tensor_beta else (0,)
    result = student.run(vjp, "swish", (x, beta), wrt=wrt, upstream=upstream)
    out = result["out"]
    expected_out = ref.swish(x.detach(), beta.detach() if tensor_beta else beta)
    assert_true(
        isinstance(out, torch.Tensor) and bool(torch.isfinite(out).all()),
        "大きな |x| で swish(x, beta) が有限ではありません (inf / nan) / swish(x, beta) is not finite for large |x|",
        example=example,
        expected=expected_out,
        actual=out,
    )
    assert_matches(out, expected_out, what="swish(x, beta)", example=example)
    grads = connected(result, example=example)["grads"]
    expected = reference_grads(x, beta, upstream)
    for name, grad, want in zip(("x", "beta"), grads, expected):
        if grad is None:  # a missing gradient for beta costs test_beta_gradient, not this check
            continue
        assert_true(
            bool(torch.isfinite(grad).all()),
            f"大きな |x| で {name} の勾配が有限ではありません (inf / nan) / the gradient for {name} is not finite for large |x|",
            example=example,
            expected=want,
            actual=grad,
        )
        assert_matches(grad, want, what=f"d swish(x, beta) / d {name}", example=example)


@check(
    2,
    ja="空のテンソルや非連続なテンソル (転置・スライス・expand) でも forward と backward が動く",
    en="forward and backward work on empty and non-contiguous tensors (transposed, sliced, expanded)",
    hint_ja="x.view(...) は非連続なテンソルでは失敗します。要素ごとの演算はどんな形・ストライドでもそのまま使えるので、"
    "形を変えずに計算しましょう (必要なら .reshape)。x.max() のような空テンソルで失敗する演算も避けましょう。",
    hint_en="x.view(...) fails on non-contiguous tensors. Elementwise operations work on any shape and strides as "
    "they are, so compute without reshaping (or use .reshape). Avoid reductions like x.max() that fail on empty tensors.",
)
@on_devices()
@given(odd=S.odd_layouts(), beta=S.BETAS)
@S.explicit("odd", S.EVERY_ODD_LAYOUT, beta=S.DEFAULT_BETA)
def test_empty_and_noncontiguous(student, device, dtype, odd, beta):
    layout = odd.layout
    x = odd.build(dtype, device).detach().requires_grad_(True)  # a leaf with the same (odd) strides
    upstream = S.make(tuple(x.shape), dtype, device, 7, low=-1.0, high=1.0)
    example = dict(layout=layout, x=x, beta=beta, grad_output=upstream)
    seen = student.run(swish_both_layouts, x, beta, upstream)
    # the same values laid out contiguously: what your own code gives there is the target
    plain, odd = seen["contiguous"], connected(seen["odd"], example=example)
    assert_matches(odd["out"], plain["out"], what=f"swish(x, beta) ({layout})", example=example)
    if plain["grads"] is not None:
        assert_matches(odd["grads"][0], plain["grads"][0], what=f"d swish(x, beta) / dx ({layout})", example=example)
