"""Exercise 2's drivers: they run where the student's code runs (this process, or an isolated worker).

Each driver calls the student's ``swish`` or ``Swish`` and reports plain facts with the
values it saw: the graph node, the operators dispatched, the tensors kept for backward,
the inputs' version counters, the module's parameters. The checks compare them in the
grading process; drivers never touch ``reference``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from grader.checks.ex2_swish.arguments import swish_args
from grader.probes import aten_ops, saved_tensors
from grader.probing.seal import protect
from grader.runner import driver

#: The fused SiLU kernels the exercise asks you to write yourself.
SILU_OPS = ("aten.silu", "aten.silu_")


@driver
def swish_at(student: Any, beta: float | None, x: torch.Tensor) -> torch.Tensor:
    """``swish(x)`` (the default beta) when ``beta`` is None, else ``swish(x, beta)``: what gradcheck differentiates.

    Your code gets its own copy of ``x``: gradcheck reuses its inputs, and in a worker
    an in-place change to ``x`` could never reach them, so here it must not either
    (test_input_unchanged is the check for in-place changes).
    """
    return student.swish(*swish_args(x.clone(), beta))


@driver
def custom_function_facts(student: Any, x: torch.Tensor, beta: Any, module_beta: float | None) -> dict[str, Any]:
    """``swish(x, beta)`` and ``Swish(module_beta)(x)`` (None: the default): their values, graph nodes, and SiLU operators."""
    out, ops = aten_ops(lambda: student.swish(*swish_args(x, beta)))
    facts = {"out": _detached(out), "node": _node(student, out), "silu_ops": sorted({op for op in ops if op in SILU_OPS})}
    module = student.Swish() if module_beta is None else student.Swish(module_beta)
    module_out, module_ops = aten_ops(lambda: module.to(x.device)(x))
    facts["silu_ops"] = sorted(set(facts["silu_ops"]) | {op for op in module_ops if op in SILU_OPS})
    return {**facts, "module_out": _detached(module_out), "module_node": _node(student, module_out)}


@driver
def kept_for_backward(student: Any, x: torch.Tensor, beta: Any) -> dict[str, Any]:
    """``swish(x, beta)`` and every tensor kept for backward (saved, or left on ``ctx``): shape, dtype, size, is it x."""
    inputs = [t for t in (x, beta) if isinstance(t, torch.Tensor)]
    out, saved = saved_tensors(lambda: student.swish(*swish_args(x, beta)), inputs)
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
    out = student.swish(*swish_args(x, beta))
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
    """The graph node of ``out``: its type's name, and whether it is the backward of the student's SwishFunction.

    Only a plain tensor's node is read: a tensor subclass could answer ``grad_fn`` itself.
    """
    node = out.grad_fn if type(out) in (torch.Tensor, nn.Parameter) else None
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


protect(__name__)  # before any student code: see grader/probing/seal.py
