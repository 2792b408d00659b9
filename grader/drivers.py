"""Drivers that several exercises share: call a student's function and return what a check compares.

A driver (see :mod:`grader.runner`) runs where the student's code runs, takes and
returns data only, and never touches ``reference``. Exercise-specific drivers live
next to their checks, in ``grader/checks/<id>/drivers.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from grader.probes import aten_ops
from grader.probing.seal import protect
from grader.runner import driver


@driver
def vjp(
    student: Any,
    name: str,
    args: Sequence[Any],
    wrt: Sequence[int],
    upstream: torch.Tensor,
    kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``out = student.<name>(*args)`` with ``args[i]`` requiring grad for ``i`` in ``wrt``, and d out / d args · upstream.

    Returns ``out`` (detached), whether it was connected to the inputs, and the gradient
    for each ``wrt`` input (``None`` where none flowed). No gradient is taken when ``out``
    is not a tensor of ``upstream``'s shape: the check says what is wrong with it.
    """
    args = list(args)
    for i in wrt:
        args[i] = args[i].detach().requires_grad_(True)
    out = getattr(student, name)(*args, **(kwargs or {}))
    result: dict[str, Any] = {"out": out, "connected": False, "grads": None}
    if isinstance(out, torch.Tensor):
        result["out"] = out.detach()
        result["connected"] = out.requires_grad
        if out.requires_grad and out.shape == upstream.shape:
            result["grads"] = list(torch.autograd.grad(out, [args[i] for i in wrt], upstream, allow_unused=True))
    return result


@driver
def op_counts(student: Any, name: str, calls: Sequence[Sequence[Any]]) -> list[tuple[Any, int]]:
    """For each argument tuple in ``calls``: ``student.<name>(*args)`` and how many aten operators it dispatched."""
    results = []
    for args in calls:
        out, ops = aten_ops(lambda args=args: getattr(student, name)(*args))
        results.append((out.detach() if isinstance(out, torch.Tensor) else out, len(ops)))
    return results


protect(__name__)  # before any student code: see grader/probing/seal.py
