"""reference.swish against F.silu (beta = 1) and against plain autograd of x * sigmoid(beta * x) (any beta)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from grader import strategies as S
from grader.compare import tolerance
from grader.probes import aten_ops, saved_tensors
from reference.swish import Swish, SwishFunction, swish

ALL_DTYPES = (torch.float32, torch.float64, torch.bfloat16, torch.float16)


def plain_swish(x: torch.Tensor, beta: float | torch.Tensor) -> torch.Tensor:
    """The obviously correct formula, differentiated by autograd itself."""
    return x * torch.sigmoid(beta * x)


def grads(fn, x: torch.Tensor, beta, upstream: torch.Tensor, create_graph: bool = False):  # noqa: ANN001
    """(output, d/dx, d/dbeta or None) of ``fn(x, beta)`` on fresh leaves."""
    x = x.detach().clone().requires_grad_(True)
    inputs = [x]
    if isinstance(beta, torch.Tensor):
        beta = beta.detach().clone().requires_grad_(True)
        inputs.append(beta)
    out = fn(x, beta)
    found = torch.autograd.grad(out, inputs, upstream, create_graph=create_graph)
    return out, found[0], (found[1] if len(found) > 1 else None)


def close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    torch.testing.assert_close(actual, expected, **tolerance(expected.dtype))


@st.composite
def cases(draw: st.DrawFn, dtypes=ALL_DTYPES, betas=S.BETAS, tensor_beta: bool = True):  # noqa: ANN001
    """(x, upstream gradient, beta) with beta a float or a 0-dim tensor, x possibly non-contiguous."""
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(S.shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
    x = draw(S.tensors(shape, dtype, "cpu", low=-6.0, high=6.0, noncontiguous=None))
    upstream = draw(S.tensors(shape, dtype, "cpu", low=-1.0, high=1.0))
    beta = draw(betas)
    if tensor_beta and draw(st.booleans()):
        beta = torch.tensor(beta, dtype=dtype)
    return x, upstream, beta


# -- values against independent oracles ---------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(case=cases(betas=st.just(1.0), tensor_beta=False))
def test_beta_one_matches_silu(case):
    x, upstream, beta = case
    out, grad_x, _ = grads(swish, x, beta, upstream)
    silu_out, silu_grad, _ = grads(lambda t, b: F.silu(t), x, beta, upstream)
    close(out, silu_out)
    close(grad_x, silu_grad)


@settings(max_examples=100, deadline=None)
@given(case=cases())
def test_matches_plain_autograd_for_any_beta(case):
    x, upstream, beta = case
    out, grad_x, grad_beta = grads(swish, x, beta, upstream)
    # the oracle in float64, rounded once at the end: a fair target for half precision too
    wide = beta.double() if isinstance(beta, torch.Tensor) else beta
    want_out, want_x, want_beta = grads(plain_swish, x.double(), wide, upstream.double())
    close(out, want_out.to(x.dtype))
    close(grad_x, want_x.to(x.dtype))
    if want_beta is not None:
        assert grad_beta is not None and grad_beta.shape == () and grad_beta.dtype == x.dtype
        # a sum over many elements: compare in the sum's own scale
        scale = upstream.double().abs().mul(x.double() ** 2).sum().item() + 1.0
        torch.testing.assert_close(grad_beta.double() / scale, want_beta / scale, **tolerance(x.dtype))


def second_derivatives(fn, x: torch.Tensor, beta, upstream: torch.Tensor, v: torch.Tensor):  # noqa: ANN001
    """Derivatives of <v, d out/dx> + d out/dbeta (both taken with create_graph) w.r.t. x, beta and upstream."""
    x = x.detach().clone().requires_grad_(True)
    upstream = upstream.detach().clone().requires_grad_(True)
    inputs = [x]
    if isinstance(beta, torch.Tensor):
        beta = beta.detach().clone().requires_grad_(True)
        inputs.append(beta)
    first = torch.autograd.grad(fn(x, beta), inputs, upstream, create_graph=True)
    total = (first[0] * v).sum() + (first[1] if len(first) > 1 else 0.0)
    wrt = [*inputs, upstream]
    found = torch.autograd.grad(total, wrt, allow_unused=True)
    return [torch.zeros_like(t) if g is None else g for g, t in zip(found, wrt)]


@settings(max_examples=40, deadline=None)
@given(case=cases(dtypes=(torch.float64,)), seed=S.SEEDS)
def test_double_backward_matches_plain_autograd(case, seed):
    x, upstream, beta = case
    v = S.make(tuple(x.shape), x.dtype, "cpu", seed)
    for got, want in zip(
        second_derivatives(swish, x, beta, upstream, v), second_derivatives(plain_swish, x, beta, upstream, v)
    ):
        close(got, want)


@settings(max_examples=40, deadline=None)
@given(case=cases(dtypes=(torch.float32, torch.float64)))
def test_fast_and_graph_building_backward_agree(case):
    """The fused no-graph route and the differentiable route compute the same gradients."""
    x, upstream, beta = case
    _, fast_x, fast_beta = grads(swish, x, beta, upstream)
    _, slow_x, slow_beta = grads(swish, x, beta, upstream, create_graph=True)
    close(fast_x, slow_x.detach())
    if fast_beta is not None:
        close(fast_beta, slow_beta.detach())


@pytest.mark.parametrize("beta", [1.0, -1.3, 0.01, 2.5])
@pytest.mark.parametrize("beta_is_tensor", [False, True])
def test_gradcheck_and_gradgradcheck(beta, beta_is_tensor):
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    args = (x, torch.tensor(beta, dtype=torch.float64, requires_grad=True)) if beta_is_tensor else (x, beta)
    assert torch.autograd.gradcheck(swish, args)
    assert torch.autograd.gradgradcheck(swish, args)
    strided = torch.randn(4, 6, dtype=torch.float64)[:, ::2].t().requires_grad_(True)
    assert torch.autograd.gradcheck(swish, (strided, *args[1:]))
    assert torch.autograd.gradgradcheck(swish, (strided, *args[1:]))


def test_default_beta_is_one():
    x = torch.randn(10)
    torch.testing.assert_close(swish(x), F.silu(x))
    torch.testing.assert_close(Swish()(x), F.silu(x))


def test_expanded_upstream_gradient():
    """``out.sum().backward()`` sends an expanded (stride 0) gradient; both routes must accept it."""
    x = torch.randn(3, 4, requires_grad=True)
    beta = torch.tensor(0.8, requires_grad=True)
    swish(x, beta).sum().backward()
    want_x, want_beta = torch.autograd.grad(plain_swish(x, beta).sum(), (x, beta))
    torch.testing.assert_close(x.grad, want_x)
    torch.testing.assert_close(beta.grad, want_beta)


def test_beta_gradient_keeps_beta_dtype():
    """A float32 parameter used on float64 inputs gets a float32 gradient."""
    x = torch.randn(5, dtype=torch.float64)
    beta = torch.tensor(1.5, requires_grad=True)
    (grad,) = torch.autograd.grad(swish(x, beta).sum(), beta)
    assert grad.dtype == torch.float32 and grad.shape == ()
    (want,) = torch.autograd.grad(plain_swish(x, beta.double()).sum(), beta)
    torch.testing.assert_close(grad, want.float())


# -- robustness -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("beta", [1.0, 3.0, -0.5, 0.001])
def test_large_inputs_stay_finite(dtype, beta):
    x = torch.tensor([1e4, -1e4, 1e3, -1e3, 100.0, -100.0, 30.0, -30.0, 0.0], dtype=dtype)
    for b in (beta, torch.tensor(beta, dtype=dtype)):
        out, grad_x, grad_beta = grads(swish, x, b, torch.ones_like(x))
        assert torch.isfinite(out).all() and torch.isfinite(grad_x).all(), (dtype, b, out, grad_x)
        _, want_x, want_beta = grads(plain_swish, x.double(), torch.tensor(beta).double(), torch.ones_like(x).double())
        close(out, plain_swish(x.double(), beta).to(dtype))
        close(grad_x, want_x.to(dtype))
        if grad_beta is not None and want_beta.abs() < torch.finfo(dtype).max:  # the sum itself may overflow half
            assert torch.isfinite(grad_beta), (dtype, b, grad_beta)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_empty_input(dtype):
    x = torch.empty(2, 0, 3, dtype=dtype, requires_grad=True)
    beta = torch.tensor(1.2, dtype=dtype, requires_grad=True)
    out = swish(x, beta)
    assert out.shape == x.shape and out.dtype == dtype
    out.sum().backward()
    assert x.grad.shape == x.shape
    assert beta.grad == 0


@settings(max_examples=40, deadline=None)
@given(case=cases(dtypes=(torch.float32,)))
def test_input_is_not_modified(case):
    x, upstream, beta = case
    x = x.detach().requires_grad_(True)
    if isinstance(beta, torch.Tensor):
        beta.requires_grad_(True)
    before, version = x.detach().clone(), x._version
    torch.autograd.grad(swish(x, beta), [x], upstream)
    assert x._version == version and torch.equal(x.detach(), before)


# -- structure: what is saved, what is dispatched ------------------------------------------


def saved_bytes(fn) -> int:  # noqa: ANN001
    return sum(t.numel() * t.element_size() for t in saved_tensors(fn)[1])


@pytest.mark.parametrize("beta", [1.0, 1.7])
def test_saves_no_more_than_silu(beta):
    x = torch.randn(64, 33, requires_grad=True)
    assert saved_bytes(lambda: swish(x, beta)) == saved_bytes(lambda: F.silu(x)) == x.numel() * 4
    out, saved = saved_tensors(lambda: swish(x, beta))
    assert len(saved) == 1 and saved[0].data_ptr() == x.data_ptr()
    assert not [v for v in vars(out.grad_fn).values() if isinstance(v, torch.Tensor)]


def test_saves_x_and_beta_tensor_only():
    x = torch.randn(64, 33, requires_grad=True)
    beta = torch.tensor(0.7, requires_grad=True)
    out, saved = saved_tensors(lambda: swish(x, beta))
    assert {t.data_ptr() for t in saved} == {x.data_ptr(), beta.data_ptr()}
    assert saved_bytes(lambda: swish(x, beta)) == x.numel() * 4 + 4


@pytest.mark.parametrize("beta", [1.0, 2.0, "tensor"])
def test_forward_is_the_custom_node_and_never_silu(beta):
    x = torch.randn(5, 3, requires_grad=True)
    b = torch.tensor(2.0, requires_grad=True) if beta == "tensor" else beta
    out, ops = aten_ops(lambda: swish(x, b))
    assert out.grad_fn._forward_cls is SwishFunction
    assert not {"aten.silu", "aten.silu_"} & set(ops)


# -- the module --------------------------------------------------------------------------------


def test_fixed_beta_registers_nothing():
    module = Swish(2.0)
    assert list(module.parameters()) == [] and list(module.buffers()) == []
    assert module.beta == 2.0 and isinstance(module.beta, float)
    assert "beta=2, learnable=False" in repr(module)


def test_learnable_beta_is_a_parameter_and_learns():
    module = Swish(1.5, learnable=True)
    assert isinstance(module.beta, nn.Parameter) and module.beta.shape == () and module.beta.item() == 1.5
    assert dict(module.named_parameters()) == {"beta": module.beta}
    assert "beta=1.5, learnable=True" in repr(module)
    x = torch.randn(4, 3, dtype=torch.float64)
    module = module.double()
    module(x).sum().backward()
    (want,) = torch.autograd.grad(plain_swish(x, module.beta).sum(), module.beta)
    torch.testing.assert_close(module.beta.grad, want)


@pytest.mark.parametrize(
    ("x", "beta", "message"),
    [
        (torch.arange(3), 1.0, "floating-point tensor"),
        ([1.0, 2.0], 1.0, "floating-point tensor, got list"),
        (torch.randn(3), torch.ones(3), "0-dim tensor, got a tensor of shape \\(3,\\)"),
        (torch.randn(3), torch.tensor(2), "floating-point tensor, got dtype torch.int64"),
        (torch.randn(3), "2", "float or a 0-dim tensor, got str"),
        (torch.randn(3), True, "float or a 0-dim tensor, got bool"),
    ],
)
def test_rejects_bad_input(x, beta, message):
    with pytest.raises(ValueError, match=message):
        swish(x, beta)


@pytest.mark.parametrize(("beta", "message"), [("1", "real number, got str"), (torch.ones(2), "single number")])
def test_module_rejects_bad_beta(beta, message):
    with pytest.raises(ValueError, match=message):
        Swish(beta)
