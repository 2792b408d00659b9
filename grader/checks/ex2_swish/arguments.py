"""Exercise 2's arguments: how a drawn beta becomes swish's arguments, the reference's beta, and a failure's example.

``swish(x)`` and ``swish(x, beta)`` must agree with the contract's default beta (1.0), and
beta may be a float or a 0-dim tensor: the checks draw all of these, and both sides (the
checks, and the drivers where the student's code runs) pass them on the same way.
"""

from __future__ import annotations

from typing import Any

import torch

from grader import strategies as S


def as_beta(beta: Any, x: torch.Tensor) -> Any:
    """A drawn beta: None (use the default), a float, or ("tensor", b) for a 0-dim tensor like x."""
    if isinstance(beta, tuple):
        return torch.tensor(beta[1], dtype=x.dtype, device=x.device)
    return beta


def swish_args(x: torch.Tensor, beta: Any) -> tuple[Any, ...]:
    """The arguments of ``swish``: ``(x,)`` when beta is None (the default), else ``(x, beta)``."""
    return (x,) if beta is None else (x, beta)


def reference_beta(beta: Any) -> Any:
    """The beta the reference computes with: the contract's default when beta was left out."""
    return S.DEFAULT_BETA if beta is None else beta


def example_of(x: torch.Tensor, beta: Any) -> dict[str, Any]:
    """A failure's example: x and beta, a left-out beta shown as the default."""
    return dict(x=x, beta=f"(省略 / default: {S.DEFAULT_BETA})" if beta is None else beta)
