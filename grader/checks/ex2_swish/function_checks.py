"""Exercise 2, ``swish(x, beta)``: its values, its gradients for x and beta, gradcheck and gradgradcheck."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from grader import strategies as S
from grader.checks.ex2_swish.arguments import as_beta, example_of, reference_beta, swish_args
from grader.checks.ex2_swish.comparisons import connected, run_gradcheck
from grader.checks.ex2_swish.drivers import swish_at
from grader.checks.ex2_swish.oracles import ref, reference_grads
from grader.compare import assert_matches
from grader.devices import on_devices, on_each_device
from grader.drivers import vjp
from grader.feedback import fail
from grader.gradients import remote_function
from grader.spec import check


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
    beta = as_beta(beta, x)
    expected = ref.swish(x.detach().clone(), reference_beta(beta))
    actual = student.swish(*swish_args(x, beta))
    assert_matches(actual, expected, what="swish(x, beta)", example=example_of(x, beta))


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
    beta = as_beta(beta, x)
    upstream = S.make(shape, dtype, device, seed + 1, low=-1.0, high=1.0)
    example = dict(example_of(x, beta), grad_output=upstream)
    result = connected(student.run(vjp, "swish", swish_args(x, beta), wrt=(0,), upstream=upstream), example=example)
    (grad,) = result["grads"]
    expected = reference_grads(x, reference_beta(beta), upstream)[0]
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
    result = connected(student.run(vjp, "swish", (x, beta_t), wrt=(1,), upstream=upstream), example=example)
    (grad,) = result["grads"]
    if grad is None:
        raise fail(
            "beta に勾配が流れません (backward が beta に None を返しています) / "
            "no gradient reaches beta (backward returns None for beta)",
            example=example,
        )
    expected = reference_grads(x, beta_t, upstream)[1]
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
    run_gradcheck(torch.autograd.gradcheck, remote_function(student, swish_at, beta), x, "gradcheck", example_of(x, beta))


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
    run_gradcheck(torch.autograd.gradgradcheck, as_function, x, "gradgradcheck", example_of(x, beta))
