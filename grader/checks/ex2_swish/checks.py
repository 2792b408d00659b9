"""Exercise 2: Swish with a custom autograd Function (ex2_swish.py).

Each check below is one property from the exercise's contract. Values are compared
with reference/swish.py; structural properties (which graph node, what is saved for
backward, which operators run) are measured with the instruments in grader/probes.py,
by drivers that run where the student's code runs and report plain facts together
with the values they saw, so a structural point is only given with correct values.
"""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from grader import strategies as S
from grader.compare import assert_credited_with_values, assert_matches, assert_true
from grader.devices import on_devices, on_each_device
from grader.drivers import vjp
from grader.feedback import CheckFailure, fail
from grader.gradients import NOT_REENTRANT, NOT_REENTRANT_HINT, not_reentrant, remote_function
from grader.oracle import oracle, reference
from grader.probes import aten_ops, saved_tensors
from grader.runner import driver
from grader.spec import check, titles

ref = reference("swish")


#: The fused SiLU kernels the exercise asks you to write yourself.
SILU_OPS = ("aten.silu", "aten.silu_")

# -- swish(x, beta): values and gradients ------------------------------------------------


@check(
    3,
    needs_reference=True,
    ja="swish(x, beta) の値が x · sigmoid(beta · x) と一致する (形・dtype・デバイスも)",
    en="swish(x, beta) equals x * sigmoid(beta * x) (same shape, dtype and device)",
    hint_ja="forward では x * torch.sigmoid(beta * x) を返します。beta は float でも 0 次元テンソルでもよく、省略時は 1.0 です。"
    "dtype を変える .float() や .double() は使わないでください。",
    hint_en="forward returns x * torch.sigmoid(beta * x); beta is a float or a 0-dim tensor and defaults to 1.0. "
    "Do not change the dtype (no .float() or .double()).",
)
@on_devices()
@given(shape=S.swish_shapes(), seed=S.SEEDS, beta=S.BETA_ARGUMENTS, requires_grad=st.booleans())
@S.explicit("beta", S.DEFAULT_BETAS, shape=(2, 3), seed=0, requires_grad=True)
def test_forward_values(student, device, dtype, shape, seed, beta, requires_grad):
    x = S.make(shape, dtype, device, seed, requires_grad=requires_grad)
    beta = _as_beta(beta, x)
    expected = ref.swish(x.detach().clone(), _reference_beta(beta))
    actual = student.swish(*_swish_args(x, beta))
    assert_matches(actual, expected, what="swish(x, beta)", example=_example(x, beta))


@check(
    3,
    needs_reference=True,
    ja="逆伝播で x に流れる勾配が参照実装と一致する",
    en="the gradient backward sends to x matches the reference",
    hint_ja="s = sigmoid(beta·x) とすると d swish/dx = s · (1 + beta·x·(1 − s)) です。backward では grad_output を掛けて返します。",
    hint_en="With s = sigmoid(beta*x), d swish/dx = s * (1 + beta*x*(1 - s)); backward returns grad_output times that.",
)
@on_devices()
@given(shape=S.swish_shapes(), seed=S.SEEDS, beta=S.BETA_ARGUMENTS)
@S.explicit("beta", S.DEFAULT_BETAS, shape=(2, 3), seed=0)
def test_backward_values(student, device, dtype, shape, seed, beta):
    x = S.make(shape, dtype, device, seed, requires_grad=True)
    beta = _as_beta(beta, x)
    upstream = S.make(shape, dtype, device, seed + 1, low=-1.0, high=1.0)
    example = dict(_example(x, beta), grad_output=upstream)
    result = _connected(student.run(vjp, "swish", _swish_args(x, beta), wrt=(0,), upstream=upstream), example=example)
    (grad,) = result["grads"]
    expected = _reference_grads(x, _reference_beta(beta), upstream)[0]
    assert_matches(grad, expected, what="d swish(x, beta) / dx", example=example)


@check(
    2,
    needs_reference=True,
    ja="beta が勾配を必要とするテンソルのとき、backward は beta の勾配も正しく返す",
    en="when beta is a tensor that requires grad, backward returns its correct gradient",
    hint_ja="d swish/d beta = x² · s · (1 − s) (s = sigmoid(beta·x)) を grad_output と掛けて全要素で合計し、"
    "beta と同じ形 (0 次元) で返します。ctx.needs_input_grad[1] で要否がわかります。",
    hint_en="d swish/d beta = x**2 * s * (1 - s) with s = sigmoid(beta*x): multiply by grad_output, sum over all "
    "elements and return it with beta's shape (0-dim). ctx.needs_input_grad[1] tells you whether it is needed.",
)
@on_devices(half_on_cuda=False)  # a sum over every element: half precision would test the rounding, not the formula
@given(shape=S.swish_shapes(), seed=S.SEEDS, beta=S.BETAS, x_requires_grad=st.booleans())
@S.explicit("beta", [S.DEFAULT_BETA], shape=(2, 3), seed=0, x_requires_grad=True)
def test_beta_gradient(student, device, dtype, shape, seed, beta, x_requires_grad):
    x = S.make(shape, dtype, device, seed, requires_grad=x_requires_grad)
    beta_t = torch.tensor(beta, dtype=dtype, device=device, requires_grad=True)
    upstream = S.make(shape, dtype, device, seed + 1, low=-1.0, high=1.0)
    example = dict(x=x, beta=beta_t, grad_output=upstream)
    # the gradient is taken for beta only; x keeps its own requires_grad
    result = _connected(student.run(vjp, "swish", (x, beta_t), wrt=(1,), upstream=upstream), example=example)
    (grad,) = result["grads"]
    if grad is None:
        raise fail(
            "beta に勾配が流れません (backward が beta に None を返しています) / "
            "no gradient reaches beta (backward returns None for beta)",
            example=example,
        )
    expected = _reference_grads(x, beta_t, upstream)[1]
    assert_matches(grad, expected, what="d swish(x, beta) / d beta", example=example)


@check(
    2,
    ja="torch.autograd.gradcheck (float64) に通る: backward が forward の微分と一致する",
    en="passes torch.autograd.gradcheck in float64: backward is the derivative of forward",
    hint_ja="数値微分と backward が食い違っています。d/dx [x · sigmoid(beta·x)] を積の微分で計算し直し、"
    "forward と backward で同じ beta を使っているか確かめましょう。",
    hint_en="The numerical derivative disagrees with backward: redo d/dx [x * sigmoid(beta*x)] with the product rule, "
    "and make sure forward and backward use the same beta.",
)
@on_each_device()
@given(shape=S.shapes(min_dims=1, max_dims=2, min_side=1, max_side=3), seed=S.SEEDS, beta=st.none() | S.BETAS)
@S.explicit("beta", [None, S.DEFAULT_BETA], shape=(2, 3), seed=0)
def test_gradcheck(student, device, shape, seed, beta):
    x = S.make(shape, torch.float64, device, seed, requires_grad=True)
    _run_gradcheck(torch.autograd.gradcheck, remote_function(student, swish_at, beta), x, "gradcheck", _example(x, beta))


@check(
    2,
    ja="torch.autograd.gradgradcheck (float64) に通る: backward 自体も微分できる (2 階微分)",
    en="passes torch.autograd.gradgradcheck in float64: backward itself is differentiable (double backward)",
    hint_ja="backward を x (と beta) から微分可能なテンソル演算だけで計算しましょう。@once_differentiable、.detach()、"
    ".data、.item()、numpy、保存したテンソルのインプレース変更は 2 階微分を壊します。forward で計算して保存した"
    "sigmoid の値は 2 階微分では定数扱いになるので、backward で計算し直しましょう。",
    hint_en="Compute backward from x (and beta) with differentiable tensor operations only: @once_differentiable, "
    ".detach(), .data, .item(), numpy, or in-place changes to saved tensors all break double backward. A sigmoid "
    "computed in forward and saved is a constant to double backward: recompute it in backward.",
)
@on_each_device()
@given(shape=S.shapes(min_dims=1, max_dims=2, min_side=1, max_side=3), seed=S.SEEDS, beta=st.none() | S.BETAS)
@S.explicit("beta", [None, S.DEFAULT_BETA], shape=(2, 3), seed=0)
def test_gradgradcheck(student, device, shape, seed, beta):
    x = S.make(shape, torch.float64, device, seed, requires_grad=True)
    as_function = remote_function(student, swish_at, beta)
    _run_gradcheck(torch.autograd.gradgradcheck, as_function, x, "gradgradcheck", _example(x, beta))


# -- structure: which node, what is saved, what is touched -------------------------------


@check(
    2,
    needs_reference=True,
    ja="swish と Swish は SwishFunction を通り、F.silu (aten.silu) を使わない",
    en="swish and Swish go through SwishFunction and never call F.silu (aten.silu)",
    hint_ja="swish は SwishFunction.apply(x, beta) を返し、Swish.forward は swish を呼びます。"
    "forward の中で F.silu / torch.nn.SiLU を使わず、sigmoid と掛け算で書きましょう。",
    hint_en="swish returns SwishFunction.apply(x, beta) and Swish.forward calls swish. Inside forward, use sigmoid "
    "and a multiplication, not F.silu or torch.nn.SiLU.",
)
@on_each_device()
@given(shape=S.swish_shapes(), seed=S.SEEDS, beta=S.BETA_ARGUMENTS)
@S.explicit("beta", S.DEFAULT_BETAS, shape=(2, 3), seed=0)
def test_uses_custom_function(student, device, shape, seed, beta):
    x = S.make(shape, torch.float32, device, seed, requires_grad=True)
    beta = _as_beta(beta, x)
    module_beta = float(beta) if isinstance(beta, torch.Tensor) else beta
    example = _example(x, beta)
    seen = student.run(custom_function_facts, x, beta, module_beta)
    _assert_custom_node(seen["node"], "swish(x, beta)", example)
    used = seen["silu_ops"]
    assert_true(
        not used,
        f"swish(x, beta) の中で {', '.join(used)} が呼ばれています: F.silu を使わずに実装してください / "
        f"swish(x, beta) dispatches {', '.join(used)}: implement it without F.silu",
        example=example,
    )
    # the node and the operators were seen where your code runs: they count with correct values only
    expected = ref.swish(x.detach(), _reference_beta(beta))
    assert_credited_with_values(seen["out"], expected, what="swish(x, beta)", values_check=VALUES, example=example)
    _assert_custom_node(seen["module_node"], "Swish(beta)(x)", example)
    expected = ref.swish(x.detach(), _reference_beta(module_beta))
    assert_credited_with_values(seen["module_out"], expected, what="Swish(beta)(x)", values_check=MODULE_VALUES, example=example)


@check(
    2,
    needs_reference=True,
    ja="backward のために保存するのは入力 x (と beta) だけ (F.silu と同じメモリ量)",
    en="only the input x (and beta) is saved for backward (the same memory as F.silu)",
    hint_ja="ctx.save_for_backward(x) (beta がテンソルなら x, beta) だけにし、sigmoid(beta·x) や出力は保存せず "
    "backward で計算し直しましょう。ctx の属性にテンソルを置くのも保存と同じです。",
    hint_en="Call ctx.save_for_backward(x) (x, beta when beta is a tensor) and nothing more: recompute "
    "sigmoid(beta*x) in backward instead of saving it or the output. A tensor kept on a ctx attribute counts too.",
)
@on_each_device()
@given(rows=S.sizes(2, 5), cols=S.sizes(1, 4), seed=S.SEEDS, beta=st.none() | S.BETAS, tensor_beta=st.booleans())
@S.explicit("beta", [None, S.DEFAULT_BETA], rows=2, cols=3, seed=0, tensor_beta=False)
@S.explicit("beta", [S.DEFAULT_BETA], rows=2, cols=3, seed=0, tensor_beta=True)
def test_saves_only_input(student, device, rows, cols, seed, beta, tensor_beta):
    x = S.make((rows, cols), torch.float32, device, seed, requires_grad=True)
    tensor_beta = tensor_beta and beta is not None
    beta = torch.tensor(beta, device=device, requires_grad=True) if tensor_beta else beta
    example = _example(x, beta)
    seen = student.run(kept_for_backward, x, beta)
    # beta (a float or a 0-dim tensor) may be saved as a 1-element tensor; anything larger must be x itself
    extra = [t for t in seen["kept"] if t["numel"] > 1 and not t["is_x"]]
    if extra:
        allowed = x.numel() * x.element_size()
        total = sum(t["bytes"] for t in seen["kept"] if t["numel"] > 1)
        raise fail(
            f"x 以外のテンソルが backward 用に保存されています ({total} バイト、F.silu は x の {allowed} バイトだけ) / "
            f"tensors other than x are kept for backward ({total} bytes; F.silu keeps only x, {allowed} bytes)",
            example=example,
            detail="保存された余分なテンソル / extra saved tensors: "
            + ", ".join(f"shape={t['shape']} {str(t['dtype']).removeprefix('torch.')}" for t in extra),
        )
    # what was saved was seen where your code runs: it counts with correct values only
    expected = ref.swish(x.detach(), beta.detach() if tensor_beta else _reference_beta(beta))
    assert_credited_with_values(seen["out"], expected, what="swish(x, beta)", values_check=VALUES, example=example)


@check(
    1,
    needs_reference=True,
    ja="入力 x と beta を書き換えない (forward でも backward でも)",
    en="the inputs x and beta are left unchanged (in forward and in backward)",
    hint_ja="x.mul_() や x *= ... のようなインプレース演算で入力を書き換えないでください。新しいテンソルを作りましょう。",
    hint_en="Do not change the inputs with in-place operations such as x.mul_() or x *= ...: build new tensors.",
)
@on_each_device()
@given(shape=S.swish_shapes(), seed=S.SEEDS, beta=S.BETA_ARGUMENTS, requires_grad=st.booleans())
@S.explicit("beta", S.DEFAULT_BETAS, shape=(2, 3), seed=0, requires_grad=True)
def test_input_unchanged(student, device, shape, seed, beta, requires_grad):
    x = S.make(shape, torch.float32, device, seed, requires_grad=requires_grad)
    beta = _as_beta(beta, x)
    if isinstance(beta, torch.Tensor):
        beta.requires_grad_(requires_grad)
    inputs = {"x": x} if not isinstance(beta, torch.Tensor) else {"x": x, "beta": beta}
    before = {name: t.detach().clone() for name, t in inputs.items()}
    example = _example(before["x"], before.get("beta", beta))
    seen = student.run(inputs_after_swish, x, beta)
    for name, values in before.items():
        after = seen["inputs"][name]
        changed = not torch.equal(after["values"], values)
        versions = after["versions"]
        assert_true(
            versions[0] == versions[1] and not changed,
            f"swish(x, beta) が入力 {name} をインプレースで書き換えました / swish(x, beta) changed its input {name} in place"
            + (
                ""
                if changed
                else " (値は元に戻っていますが、インプレース演算の跡がバージョン番号に残っています / the values were "
                f"put back, but the in-place operations show in its version counter: {versions[0]} -> {versions[1]})"
            ),
            example=example,
            expected=values if changed else None,
            actual=after["values"] if changed else None,
        )
    # the version counters were read where your code runs: they count with correct values only
    expected = ref.swish(before["x"], before.get("beta", _reference_beta(beta)))
    assert_credited_with_values(seen["out"], expected, what="swish(x, beta)", values_check=VALUES, example=example)


# -- robustness: large values, odd layouts ---------------------------------------------------


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
    grads = _connected(result, example=example)["grads"]
    expected = _reference_grads(x, beta, upstream)
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
    plain, odd = seen["contiguous"], _connected(seen["odd"], example=example)
    assert_matches(odd["out"], plain["out"], what=f"swish(x, beta) ({layout})", example=example)
    if plain["grads"] is not None:
        assert_matches(odd["grads"][0], plain["grads"][0], what=f"d swish(x, beta) / dx ({layout})", example=example)


# -- the Swish module ----------------------------------------------------------------------


@check(
    1,
    needs_reference=True,
    ja="Swish(beta) と Swish(beta, learnable=True) の出力が swish(x, beta) と一致する",
    en="Swish(beta) and Swish(beta, learnable=True) give swish(x, beta)",
    hint_ja="Swish.forward は swish(x, self.beta) を返します。learnable=False でも beta を無視しないでください。",
    hint_en="Swish.forward returns swish(x, self.beta); do not drop beta when learnable=False.",
)
@on_devices()
@given(shape=S.swish_shapes(), seed=S.SEEDS, beta=st.none() | S.MODULE_BETAS, learnable=st.booleans())
@S.explicit("beta", [None, S.DEFAULT_BETA], shape=(2, 3), seed=0, learnable=False)
@S.explicit("beta", [None, S.DEFAULT_BETA], shape=(2, 3), seed=0, learnable=True)
def test_module_values(student, device, dtype, shape, seed, beta, learnable):
    x = S.make(shape, dtype, device, seed)
    expected = ref.swish(x, _reference_beta(beta))
    actual = student.run(module_output, beta, learnable, x)
    what = f"Swish(learnable={learnable})(x)" if beta is None else f"Swish({beta}, learnable={learnable})(x)"
    assert_matches(actual, expected, what=what, example=dict(x=x))


@check(
    1,
    ja="learnable=True なら beta は 0 次元の nn.Parameter、False ならパラメータを登録しない",
    en="learnable=True makes beta a 0-dim nn.Parameter; learnable=False registers no parameter",
    hint_ja="learnable=True のとき self.beta = nn.Parameter(torch.tensor(float(beta)))。False のときは float のまま "
    "(または register_buffer) にして、model.parameters() に現れないようにしましょう。",
    hint_en="With learnable=True set self.beta = nn.Parameter(torch.tensor(float(beta))). Otherwise keep a float "
    "(or register_buffer) so that it does not appear in model.parameters().",
)
@given(beta=S.MODULE_BETAS)
@S.explicit("beta", [S.DEFAULT_BETA])
def test_module_parameters(student, beta):
    seen = student.run(module_parameters, beta)
    params = seen["fixed"]
    assert_true(
        not params,
        f"Swish(beta={beta}) (learnable=False) がパラメータ {sorted(params)} を登録しています / "
        f"Swish(beta={beta}) (learnable=False) registers parameters {sorted(params)}",
    )
    default = seen["default"]
    assert_true(not default, f"Swish() がパラメータ {sorted(default)} を登録しています / Swish() registers parameters {sorted(default)}")
    params, b = seen["learnable"], seen["beta"]
    assert_true(
        b["is_parameter"] and list(params) == ["beta"] and b["is_registered"],
        f"Swish(beta={beta}, learnable=True) の beta が nn.Parameter として登録されていません "
        f"(登録されたパラメータ: {sorted(params)}) / Swish(beta={beta}, learnable=True).beta is not its one "
        f"nn.Parameter named 'beta' (parameters: {sorted(params)}, beta is {b['type']})",
    )
    p = params["beta"]
    value = p["value"]
    assert_true(
        len(p["shape"]) == 0
        and p["requires_grad"]
        and isinstance(value, torch.Tensor)
        and value.is_floating_point()
        and value.numel() == 1
        and float(value) == beta,
        f"Swish(beta={beta}, learnable=True).beta は値 {beta} の 0 次元の浮動小数点パラメータであるべきです / "
        f"Swish(beta={beta}, learnable=True).beta must be a 0-dim floating-point parameter holding {beta}",
        expected=torch.tensor(beta),
        actual=value,
    )


@check(
    2,
    needs_reference=True,
    ja="learnable=True のとき、逆伝播で Swish.beta に正しい勾配が入る",
    en="with learnable=True, backward puts the right gradient in Swish.beta",
    hint_ja="Swish.forward で self.beta をテンソルのまま swish に渡しましょう (float(self.beta) や .item() にすると"
    "勾配が途切れます)。swish の backward が beta の勾配を返していることも確かめましょう。",
    hint_en="Pass self.beta to swish as the tensor it is (float(self.beta) or .item() cut the gradient), and make "
    "sure swish's backward returns beta's gradient.",
)
@on_devices(half_on_cuda=False)  # a sum over every element: see test_beta_gradient
@given(shape=S.swish_shapes(), seed=S.SEEDS, beta=S.MODULE_BETAS)
@S.explicit("beta", [S.DEFAULT_BETA], shape=(2, 3), seed=0)
def test_module_beta_gradient(student, device, dtype, shape, seed, beta):
    x = S.make(shape, dtype, device, seed)
    upstream = S.make(shape, dtype, device, seed + 1, low=-1.0, high=1.0)
    example = dict(x=x, beta=beta, grad_output=upstream)
    seen = student.run(module_beta_gradient, beta, x, upstream)
    assert_true(
        seen["beta"] is not None,
        "Swish(beta, learnable=True).beta が勾配を必要とするテンソルではありません / "
        "Swish(beta, learnable=True).beta is not a tensor that requires grad",
        example=example,
    )
    assert_true(
        seen["connected"],
        "Swish の出力が beta とつながっていません / the output of Swish is not connected to beta",
        example=example,
    )
    assert_true(
        seen["grad"] is not None,
        "Swish.beta に勾配が流れません / no gradient reaches Swish.beta",
        example=example,
    )
    # at the beta drawn (test_module_parameters checks that the module holds it): an oracle
    # call is made of drawn data only, never of what the student's code returned
    expected = _reference_grads(x, torch.tensor(beta, dtype=dtype, device=device), upstream)[1]
    assert_matches(seen["grad"], expected, what="d Swish(beta, learnable=True)(x) / d beta", example=example)


# -- drivers: these run where the student's code runs ----------------------------------------


@driver
def swish_at(student: Any, beta: float | None, x: torch.Tensor) -> torch.Tensor:
    """``swish(x)`` (the default beta) when ``beta`` is None, else ``swish(x, beta)``: what gradcheck differentiates.

    Your code gets its own copy of ``x``: gradcheck reuses its inputs, and in a worker
    an in-place change to ``x`` could never reach them, so here it must not either
    (test_input_unchanged is the check for in-place changes).
    """
    return student.swish(*_swish_args(x.clone(), beta))


@driver
def custom_function_facts(student: Any, x: torch.Tensor, beta: Any, module_beta: float | None) -> dict[str, Any]:
    """``swish(x, beta)`` and ``Swish(module_beta)(x)`` (None: the default): their values, graph nodes, and SiLU operators."""
    out, ops = aten_ops(lambda: student.swish(*_swish_args(x, beta)))
    facts = {"out": _detached(out), "node": _node(student, out), "silu_ops": sorted({op for op in ops if op in SILU_OPS})}
    module = student.Swish() if module_beta is None else student.Swish(module_beta)
    module_out, module_ops = aten_ops(lambda: module.to(x.device)(x))
    facts["silu_ops"] = sorted(set(facts["silu_ops"]) | {op for op in module_ops if op in SILU_OPS})
    return {**facts, "module_out": _detached(module_out), "module_node": _node(student, module_out)}


@driver
def kept_for_backward(student: Any, x: torch.Tensor, beta: Any) -> dict[str, Any]:
    """``swish(x, beta)`` and every tensor kept for backward (saved, or left on ``ctx``): shape, dtype, size, is it x."""
    out, saved = saved_tensors(lambda: student.swish(*_swish_args(x, beta)))
    ctx = getattr(out, "grad_fn", None)  # for a custom Function, the ctx of forward is the graph node
    kept_on_ctx = [v for v in getattr(ctx, "__dict__", {}).values() if isinstance(v, torch.Tensor)]
    kept = [
        {
            "shape": tuple(t.shape),
            "dtype": t.dtype,
            "numel": t.numel(),
            "bytes": t.numel() * t.element_size(),
            "is_x": _same_memory(t, x),
        }
        for t in saved + kept_on_ctx
    ]
    return {"out": _detached(out), "kept": kept}


@driver
def inputs_after_swish(student: Any, x: torch.Tensor, beta: Any) -> dict[str, Any]:
    """``swish(x, beta)``, then backward (ones) to the inputs that require grad; each input's values and version counter (before, after)."""
    inputs = {"x": x} if not isinstance(beta, torch.Tensor) else {"x": x, "beta": beta}
    versions = {name: t._version for name, t in inputs.items()}
    out = student.swish(*_swish_args(x, beta))
    wrt = [t for t in inputs.values() if t.requires_grad]
    if wrt and isinstance(out, torch.Tensor) and out.requires_grad:
        torch.autograd.grad(out, wrt, torch.ones_like(out), allow_unused=True)
    return {
        "out": _detached(out),
        "inputs": {
            name: {"values": t.detach().clone(), "versions": (versions[name], t._version)} for name, t in inputs.items()
        },
    }


@driver
def swish_both_layouts(student: Any, x: torch.Tensor, beta: float, upstream: torch.Tensor) -> dict[str, Any]:
    """``swish(x, beta)`` and d/dx · upstream, for ``x`` as laid out (odd strides) and for a contiguous copy of it."""
    return {"contiguous": _swish_vjp(student, x.detach().contiguous(), beta, upstream), "odd": _swish_vjp(student, x, beta, upstream)}


@driver
def module_output(student: Any, beta: float | None, learnable: bool, x: torch.Tensor) -> Any:
    """``Swish(beta, learnable=learnable)(x)`` (beta None: left out), the module moved to x's device and dtype."""
    module = student.Swish(learnable=learnable) if beta is None else student.Swish(beta, learnable=learnable)
    module = module.to(device=x.device, dtype=x.dtype)
    return _detached(module(x))


@driver
def module_parameters(student: Any, beta: float) -> dict[str, Any]:
    """The parameters of ``Swish(beta=beta)``, ``Swish()`` and ``Swish(beta=beta, learnable=True)``, and what that last one's ``beta`` is."""
    fixed = _parameters(student.Swish(beta=beta))
    default = _parameters(student.Swish())
    learnable = student.Swish(beta=beta, learnable=True)
    b = getattr(learnable, "beta", None)
    registered = dict(learnable.named_parameters())
    return {
        "fixed": fixed,
        "default": default,
        "learnable": _parameters(learnable),
        "beta": {
            "type": type(b).__name__,
            "is_parameter": isinstance(b, nn.Parameter),
            "is_registered": registered.get("beta") is b,
        },
    }


@driver
def module_beta_gradient(student: Any, beta: float, x: torch.Tensor, upstream: torch.Tensor) -> dict[str, Any]:
    """For ``Swish(beta, learnable=True)`` moved to x's device and dtype: its beta, and d module(x) / d beta · upstream."""
    module = student.Swish(beta, learnable=True).to(device=x.device, dtype=x.dtype)
    b = getattr(module, "beta", None)
    seen: dict[str, Any] = {"beta": None, "connected": False, "grad": None}
    if not (isinstance(b, torch.Tensor) and b.requires_grad):
        return seen
    seen["beta"] = b.detach().clone()
    out = module(x)
    seen["connected"] = isinstance(out, torch.Tensor) and out.requires_grad
    if seen["connected"]:
        (seen["grad"],) = torch.autograd.grad(out, b, upstream, allow_unused=True)
    return seen


def _swish_vjp(student: Any, x: torch.Tensor, beta: float, upstream: torch.Tensor) -> dict[str, Any]:
    """What :func:`grader.drivers.vjp` gives for ``swish(x, beta)`` and d/dx, ``x`` kept as laid out."""
    x = x.detach().requires_grad_(True)  # detach keeps the strides: the same layout, as a leaf
    out = student.swish(x, beta)
    result: dict[str, Any] = {"out": _detached(out), "connected": False, "grads": None}
    if isinstance(out, torch.Tensor):
        result["connected"] = out.requires_grad
        if out.requires_grad and out.shape == upstream.shape:
            result["grads"] = list(torch.autograd.grad(out, x, upstream))
    return result


def _detached(out: Any) -> Any:
    return out.detach() if isinstance(out, torch.Tensor) else out


def _node(student: Any, out: Any) -> dict[str, Any]:
    """The graph node of ``out``: its type's name, and whether it is the backward of the student's SwishFunction."""
    node = getattr(out, "grad_fn", None)
    forward_cls = getattr(node, "_forward_cls", None)
    return {
        "type": type(node).__name__,
        "is_swish_function": forward_cls is not None and forward_cls is getattr(student, "SwishFunction", None),
    }


def _parameters(module: nn.Module) -> dict[str, dict[str, Any]]:
    """``module.named_parameters()`` as data: name -> shape, dtype, requires_grad and value."""
    return {
        name: {"shape": tuple(p.shape), "dtype": p.dtype, "requires_grad": p.requires_grad, "value": p.detach().clone()}
        for name, p in module.named_parameters()
    }


def _same_memory(t: torch.Tensor, x: torch.Tensor) -> bool:
    """``t`` is ``x`` itself (or a view of exactly its elements), not a copy."""
    return t.data_ptr() == x.data_ptr() and t.shape == x.shape


# -- helpers ----------------------------------------------------------------------------------

#: The checks of the values that a structural property comes with (see assert_credited_with_values).
VALUES, MODULE_VALUES = titles(test_forward_values), titles(test_module_values)


def _as_beta(beta: Any, x: torch.Tensor) -> Any:
    """A drawn beta: None (use the default), a float, or ("tensor", b) for a 0-dim tensor like x."""
    if isinstance(beta, tuple):
        return torch.tensor(beta[1], dtype=x.dtype, device=x.device)
    return beta


def _swish_args(x: torch.Tensor, beta: Any) -> tuple[Any, ...]:
    """The arguments of ``swish``: ``(x,)`` when beta is None (the default), else ``(x, beta)``."""
    return (x,) if beta is None else (x, beta)


def _reference_beta(beta: Any) -> Any:
    """The beta the reference computes with: the contract's default when beta was left out."""
    return S.DEFAULT_BETA if beta is None else beta


def _example(x: torch.Tensor, beta: Any) -> dict[str, Any]:
    """A failure's example: x and beta, a left-out beta shown as the default."""
    return dict(x=x, beta=f"(省略 / default: {S.DEFAULT_BETA})" if beta is None else beta)


@oracle
def _reference_grads(
    x: torch.Tensor, beta: float | torch.Tensor, upstream: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(d/dx, d/dbeta) of the reference for this upstream gradient; d/dbeta is None for a float beta (an oracle call)."""
    x = x.detach().clone().requires_grad_(True)
    if isinstance(beta, torch.Tensor):
        beta = beta.detach().clone().requires_grad_(True)
        grad_x, grad_beta = torch.autograd.grad(ref.swish(x, beta), (x, beta), upstream)
        return grad_x, grad_beta
    (grad_x,) = torch.autograd.grad(ref.swish(x, beta), x, upstream)
    return grad_x, None


def _connected(result: dict[str, Any], *, example: dict) -> dict[str, Any]:
    """A vjp driver's ``result``, provided its output is a tensor of x's shape that autograd could follow back."""
    out, x = result["out"], example["x"]
    assert_true(
        isinstance(out, torch.Tensor) and out.shape == x.shape,
        "swish(x, beta) は x と同じ形のテンソルを返す必要があります / swish(x, beta) must return a tensor shaped like x",
        example=example,
    )
    assert_true(
        result["connected"],
        "swish(x, beta) の出力が入力とつながっていません (requires_grad=False) / "
        "the output of swish(x, beta) is not connected to its inputs (requires_grad=False)",
        example=example,
    )
    return result


def _run_gradcheck(checker: Any, fn: Any, x: torch.Tensor, name: str, example: dict) -> None:
    try:
        checker(fn, (x,), raise_exception=True)
    except CheckFailure:
        raise
    except Exception as err:  # noqa: BLE001 - GradcheckError, or autograd refusing to differentiate twice
        message = str(err).strip()
        problem = f"torch.autograd.{name} に失敗しました / torch.autograd.{name} failed"
        if not_reentrant(err):
            problem = f"torch.autograd.{name}: {NOT_REENTRANT[0]} / {NOT_REENTRANT[1]}"
        raise fail(
            problem,
            example=example,
            detail=message if len(message) < 1500 else message[:1500] + " ...",
            hint=NOT_REENTRANT_HINT if not_reentrant(err) else None,
        ) from None


def _assert_custom_node(node: dict[str, Any], what: str, example: dict) -> None:
    """``node`` (from :func:`_node`) is the backward of SwishFunction."""
    assert_true(
        node["is_swish_function"],
        f"{what} の計算グラフのノードが SwishFunction ではありません ({node['type']}) / "
        f"the graph node of {what} is {node['type']}, not SwishFunction's backward",
        example=example,
    )
