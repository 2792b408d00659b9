"""Derivatives judged in the grading process: gradcheck through round trips to the student's code.

``remote_function(student, fn, *static)`` is a differentiable function *here* whose
value and derivatives come from the student's code *there* (a worker, or this process
in in-process mode): its forward is a round trip that evaluates the driver
``fn(student, *static, *inputs)``, its backward a round trip that asks the student's
autograd for the vector-Jacobian product, and its double backward a third. Handing it
to ``torch.autograd.gradcheck`` (or ``gradgradcheck``) therefore compares numerical
Jacobians built from forward round trips against the student's backward, with every
comparison made here, where the student's code cannot reach ``gradcheck``.

Reentrancy. gradcheck runs backward twice on one graph and demands the same result
("Backward is not reentrant"): a backward that changes what it keeps on ``ctx`` gives
something else the second time. A round trip builds the student's graph afresh, so each
round trip differentiates that graph *twice* (``retain_graph=True``, the same
``grad_output`` object both times, as gradcheck's fast mode passes its own) and sends
both results back. Here, the first backward of a node with a given ``grad_output`` gets
the first result, and the next backward of the same node with the same ``grad_output``
gets the second: torch's own gradcheck then compares them, with its own tolerance
(``nondet_tol``) and its own message. The same holds one order up, for gradgradcheck.
In-process grading runs the same drivers, so both modes judge alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from torch.autograd.gradcheck import GradcheckError

from grader.feedback import fail
from grader.runner import DRIVERS, driver, driver_key


@dataclass(frozen=True)
class _Call:
    student: Any
    key: str
    static: tuple[Any, ...]


#: What a failure of reentrancy says instead of the check's hint (which is about the derivative's formula).
NOT_REENTRANT = (
    "同じ計算グラフで backward を 2 回呼ぶと結果が違います (gradcheck は 2 回呼んで比べます)。",
    "two backward passes over the same graph gave different results (gradcheck runs backward twice and compares).",
)
NOT_REENTRANT_HINT = (
    "backward は何度呼ばれても同じ結果を返す必要があります。ctx に置いたテンソル、保存したテンソル、grad_output を "
    "backward の中でインプレースに書き換えないでください (neg_()、mul_()、*= など)。新しいテンソルを作りましょう。",
    "backward must give the same result every time it runs: do not change tensors kept on ctx, saved tensors or "
    "grad_output in place inside backward (neg_(), mul_(), *=, ...). Build new tensors instead.",
)


def not_reentrant(err: BaseException) -> bool:
    """Whether ``err`` is gradcheck's "Backward is not reentrant" failure (see the module docstring)."""
    return "Backward is not reentrant" in str(err)


def remote_function(student: Any, fn: Callable[..., torch.Tensor], *static: Any) -> Callable[..., torch.Tensor]:
    """``f(*inputs) = fn(student, *static, *inputs)``, differentiable here through round trips (see the module docstring).

    ``fn`` must be a registered driver that returns one tensor.
    """
    call = _Call(student, driver_key(fn), static)

    def f(*inputs: torch.Tensor) -> torch.Tensor:
        return _Forward.apply(call, *inputs)

    return f


def gradcheck_jointly(fn: Callable[..., torch.Tensor], inputs: Sequence[torch.Tensor], **kwargs: Any) -> None:
    """``torch.autograd.gradcheck(fn, inputs, fast_mode=True)``, with all inputs perturbed together.

    Fast mode compares ``v · J · u`` for random ``u`` and ``v``: once per input when the
    inputs are separate, so a model with 18 parameters costs about 40 round trips per
    example. Concatenated into one vector, ``u`` spans every input at once and the check
    costs three or four. A wrong gradient anywhere still shows (for almost every ``u``, ``v``).
    Only when it fails are the inputs checked one by one, to say which one
    (``GradcheckError``'s "with respect to input N", as gradcheck words it).
    """
    shapes = [x.shape for x in inputs]
    sizes = [x.numel() for x in inputs]

    def joint(theta: torch.Tensor) -> torch.Tensor:
        return fn(*(part.view(shape) for part, shape in zip(theta.split(sizes), shapes)))

    theta = torch.cat([x.detach().reshape(-1) for x in inputs]).requires_grad_(True)
    try:
        torch.autograd.gradcheck(joint, (theta,), fast_mode=True, **kwargs)
    except GradcheckError as joint_error:
        torch.autograd.gradcheck(fn, tuple(inputs), fast_mode=True, **kwargs)  # raises, naming the input
        # one by one, each input passed (within tolerance): report the joint failure, naming no input
        message = str(joint_error).replace("with respect to input 0", "with respect to all inputs together")
        raise GradcheckError(message) from None


class _Replays:
    """The second result of each round trip, kept for the next backward of the same node with the same grad_output."""

    def __init__(self) -> None:
        self._pending: dict[tuple[Any, ...], Any] = {}

    def get(self, grads: Sequence[torch.Tensor], round_trip: Callable[[], Sequence[Any]]) -> Any:
        """The second result waiting for ``grads``; else ``round_trip()``'s first, keeping its second."""
        key = tuple(_content(g) for g in grads)
        if key in self._pending:
            return self._pending.pop(key)
        first, second = round_trip()
        self._pending[key] = second
        return first


def _content(t: torch.Tensor) -> tuple[Any, ...]:
    """``t``'s dtype, shape and bytes: equal for equal tensors, whatever their layout or device."""
    return t.dtype, tuple(t.shape), t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes()


class _Forward(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, call: _Call, *inputs: torch.Tensor) -> torch.Tensor:  # noqa: ANN401
        ctx.call = call
        ctx.replays = _Replays()
        ctx.save_for_backward(*inputs)
        return call.student.run(evaluate, call.key, call.static, [x.detach() for x in inputs])

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[Any, ...]:  # noqa: ANN401
        return (None, *_Backward.apply(ctx.call, ctx.replays, grad_out, *ctx.saved_tensors))


class _Backward(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, call: _Call, replays: _Replays, grad_out: torch.Tensor, *inputs: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:  # noqa: ANN401
        ctx.call = call
        ctx.replays = _Replays()  # for this node's own backward (gradgradcheck)
        ctx.save_for_backward(grad_out, *inputs)
        grads = replays.get(
            [grad_out],
            lambda: call.student.run(evaluate_vjp, call.key, call.static, [x.detach() for x in inputs], grad_out.detach()),
        )
        return tuple(torch.zeros_like(x) if g is None else g for g, x in zip(grads, inputs))

    @staticmethod
    def backward(ctx: Any, *grad_grads: torch.Tensor) -> tuple[Any, ...]:  # noqa: ANN401
        grad_out, *inputs = ctx.saved_tensors
        call: _Call = ctx.call
        *input_grads, grad_out_grad = ctx.replays.get(
            grad_grads,
            lambda: call.student.run(
                evaluate_vjp_vjp, call.key, call.static, [x.detach() for x in inputs], grad_out.detach(),
                [g.detach() for g in grad_grads],
            ),
        )  # fmt: skip
        return (None, None, grad_out_grad, *input_grads)


# -- drivers: these run where the student's code runs -------------------------------------------


def _output(student: Any, key: str, static: Sequence[Any], inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    out = DRIVERS[key](student, *static, *inputs)
    if not isinstance(out, torch.Tensor):
        raise fail(
            f"テンソルではなく {type(out).__name__} が返されました / a tensor was expected, got {type(out).__name__}"
        )
    return out


def _leaves(inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    # copies: in-process, the inputs share memory with gradcheck's own, which an in-place
    # mistake would corrupt; in a worker they are copies anyway, so both modes agree
    return [x.detach().clone().requires_grad_(x.is_floating_point()) for x in inputs]


@driver
def evaluate(student: Any, key: str, static: Sequence[Any], inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    """The value of the function at ``inputs``."""
    return _output(student, key, static, [x.detach().clone() for x in inputs]).detach()


Grads = list[torch.Tensor | None]


@driver
def evaluate_vjp(
    student: Any, key: str, static: Sequence[Any], inputs: Sequence[torch.Tensor], grad_out: torch.Tensor
) -> tuple[Grads, Grads]:
    """d f / d inputs · grad_out by the student's own backward, twice on the same graph (see "Reentrancy")."""
    with torch.enable_grad():  # in-process, this runs inside an autograd Function's forward
        return _vjp(student, key, static, inputs, grad_out)


def _vjp(
    student: Any, key: str, static: Sequence[Any], inputs: Sequence[torch.Tensor], grad_out: torch.Tensor
) -> tuple[Grads, Grads]:
    leaves = _leaves(inputs)
    out = _output(student, key, static, leaves)
    if not out.requires_grad:
        return [None for _ in leaves], [None for _ in leaves]
    wanted = [x for x in leaves if x.requires_grad]
    grad_out = grad_out.detach().clone()  # one object for both passes, as gradcheck's own (and not ours in-process)

    def once() -> Grads:
        grads = iter(torch.autograd.grad(out, wanted, grad_out, retain_graph=True, allow_unused=True))
        return [_copy(next(grads)) if x.requires_grad else None for x in leaves]

    return once(), once()


@driver
def evaluate_vjp_vjp(
    student: Any,
    key: str,
    static: Sequence[Any],
    inputs: Sequence[torch.Tensor],
    grad_out: torch.Tensor,
    grad_grads: Sequence[torch.Tensor],
) -> tuple[Grads, Grads]:
    """The derivative of ``<vjp(inputs, grad_out), grad_grads>`` with respect to the inputs and ``grad_out``, twice on
    the same graph (see "Reentrancy")."""
    with torch.enable_grad():
        return _vjp_vjp(student, key, static, inputs, grad_out, grad_grads)


def _vjp_vjp(
    student: Any,
    key: str,
    static: Sequence[Any],
    inputs: Sequence[torch.Tensor],
    grad_out: torch.Tensor,
    grad_grads: Sequence[torch.Tensor],
) -> tuple[Grads, Grads]:
    leaves = _leaves(inputs)
    grad_out = grad_out.detach().clone().requires_grad_(True)
    none = [None for _ in leaves] + [None]
    out = _output(student, key, static, leaves)
    if not out.requires_grad:
        return none, list(none)
    wanted = [x for x in leaves if x.requires_grad]
    grads = iter(torch.autograd.grad(out, wanted, grad_out, create_graph=True, allow_unused=True))
    per_leaf = [next(grads) if x.requires_grad else None for x in leaves]
    terms = [(g * u).sum() for g, u in zip(per_leaf, grad_grads) if g is not None and g.requires_grad]
    if not terms:
        return none, list(none)
    total = sum(terms)

    def once() -> Grads:
        second = iter(torch.autograd.grad(total, [*wanted, grad_out], retain_graph=True, allow_unused=True))
        by_leaf = [_copy(next(second)) if x.requires_grad else None for x in leaves]
        return [*by_leaf, _copy(next(second))]

    return once(), once()


def _copy(grad: torch.Tensor | None) -> torch.Tensor | None:
    """A gradient of its own: a second backward must not be able to change the first one's result."""
    return None if grad is None else grad.detach().clone()
