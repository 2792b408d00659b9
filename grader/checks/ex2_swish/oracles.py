"""Exercise 2's reference side (grading process only): ``reference/swish.py``, reached through oracle calls.

Values are ``ref.swish(x, beta)``; gradients are the reference's, differentiated by
autograd inside one ``@oracle`` call (:func:`reference_grads`).
"""

from __future__ import annotations

import torch

from grader.oracle import oracle, reference

ref = reference("swish")


@oracle
def reference_grads(
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
