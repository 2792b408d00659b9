"""gradcheck through grader/gradients.py: as strict as torch's own, and naming the input a wrong gradient concerns.

``remote_function`` differentiates the student's code through round trips (see
grader/gradients.py). Here the "student" is a stand-in whose drivers run in this
process, exactly as in-process grading runs them; tests/mutants/ex2_swish covers the
isolated path (``python -m tests.grading verify ex2 --isolate``).
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.autograd.gradcheck import GradcheckError

from grader.gradients import gradcheck_jointly, remote_function
from grader.runner import driver


class ScaledProduct(torch.autograd.Function):
    """``a * b``, with the gradient for ``b`` scaled by ``wrong`` (1.0 is the true derivative)."""

    @staticmethod
    def forward(ctx, a: torch.Tensor, b: torch.Tensor, wrong: float) -> torch.Tensor:
        ctx.save_for_backward(a, b)
        ctx.wrong = wrong
        return a * b

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        a, b = ctx.saved_tensors
        return grad * b, grad * a * ctx.wrong, None


def inputs() -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(0)
    make = lambda *shape: torch.randn(*shape, dtype=torch.float64, generator=generator).requires_grad_(True)  # noqa: E731
    return make(3, 2), make(3, 2)


def test_a_true_gradient_passes() -> None:
    gradcheck_jointly(lambda a, b: ScaledProduct.apply(a, b, 1.0), inputs())


@pytest.mark.parametrize("wrong", [0.0, 1.01, -1.0])
def test_a_wrong_gradient_fails_naming_its_input(wrong: float) -> None:
    with pytest.raises(GradcheckError, match="with respect to input 1"):
        gradcheck_jointly(lambda a, b: ScaledProduct.apply(a, b, wrong), inputs())


# -- the same verdicts as torch's own gradcheck and gradgradcheck ------------------------------------------


class Swish(torch.autograd.Function):
    """``x * sigmoid(x)`` with a differentiable backward (double backward works)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x * torch.sigmoid(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x)
        return grad * s * (1 + x * (1 - s))


class WrongDerivative(Swish):
    """Forgets the ``x * s * (1 - s)`` term."""

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * torch.sigmoid(x)


class ScaleOnCtx(Swish):
    """Right the first time; each backward doubles a factor kept on ``ctx``, so the second is wrong (not reentrant)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.scale = torch.ones((), dtype=x.dtype)
        return Swish.forward(ctx, x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        result = Swish.backward(ctx, grad) * ctx.scale
        ctx.scale.mul_(2)
        return result


class NegatesBetaOnCtx(Swish):
    """swish with beta = 1 kept on ctx as a tensor; backward forms sigmoid(-bx) by negating it in place."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.beta = torch.ones((), dtype=x.dtype)
        return Swish.forward(ctx, x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        beta = ctx.beta
        s = torch.sigmoid(beta * x)
        one_minus_s = torch.sigmoid(beta.neg_() * x)
        return grad * s * (1 + beta.abs() * x * one_minus_s)


class Once(Swish):
    """Backward through ``.detach()``: first derivatives right, double backward sees constants."""

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x.detach())
        return grad * s * (1 + x.detach() * (1 - s))


class _Slope(torch.autograd.Function):
    """swish'(x), whose own backward doubles a factor kept on ``ctx`` each time it runs (not reentrant)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.scale = torch.ones((), dtype=x.dtype)
        s = torch.sigmoid(x)
        return s * (1 + x * (1 - s))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x)
        result = grad * s * (1 - s) * (2 + x * (1 - 2 * s)) * ctx.scale
        ctx.scale.mul_(2)
        return result


class DoubleBackwardOnCtx(Swish):
    """First derivatives right; the double backward is not reentrant (see :class:`_Slope`)."""

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * _Slope.apply(x)


class Student:
    """A stand-in for the ``student`` fixture: drivers run in this process, on these functions."""

    def __init__(self, **functions: Any) -> None:
        self.__dict__.update(functions)

    def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(self, *args, **kwargs)


@driver
def call(student: Any, name: str, x: torch.Tensor) -> torch.Tensor:
    """``student.<name>(x)``."""
    return getattr(student, name)(x)


FUNCTIONS = {f.__name__: f for f in (Swish, WrongDerivative, ScaleOnCtx, NegatesBetaOnCtx, Once, DoubleBackwardOnCtx)}


def verdict(checker: Any, fn: Any, x: torch.Tensor, **kwargs: Any) -> str:
    """"passes", or the first line of why ``checker`` rejects ``fn`` at ``x``."""
    try:
        checker(fn, (x,), **kwargs)
    except (GradcheckError, RuntimeError) as err:
        return str(err).strip().splitlines()[0][:60]
    return "passes"


@pytest.mark.parametrize("fast_mode", [False, True], ids=["slow", "fast"])
@pytest.mark.parametrize("checker", [torch.autograd.gradcheck, torch.autograd.gradgradcheck], ids=["grad", "gradgrad"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_the_same_verdict_as_torch(name: str, checker: Any, fast_mode: bool) -> None:
    """Through round trips, gradcheck and gradgradcheck reject exactly what they reject on the function itself."""
    x = torch.linspace(-2.0, 2.5, 6, dtype=torch.float64).reshape(2, 3).requires_grad_(True)
    own = verdict(checker, FUNCTIONS[name].apply, x, fast_mode=fast_mode)
    remote = verdict(checker, remote_function(Student(**{name: FUNCTIONS[name].apply}), call, name), x, fast_mode=fast_mode)
    assert (remote == "passes") == (own == "passes"), f"torch on {name}: {own}; through round trips: {remote}"
    if "reentrant" in own:
        assert "reentrant" in remote, remote


def test_a_non_reentrant_backward_is_named_as_such() -> None:
    """The reentrancy check is torch's own: its message reaches the check."""
    x = torch.linspace(-2.0, 2.5, 6, dtype=torch.float64).requires_grad_(True)
    with pytest.raises(GradcheckError, match="Backward is not reentrant"):
        torch.autograd.gradcheck(remote_function(Student(f=ScaleOnCtx.apply), call, "f"), (x,))
