"""Exercise 3's reference side (grading process only): oracle calls, plain data in and out.

Each builds ``reference.residual_mlp.ResidualMLP`` with random weights (:func:`randomize`, the
same the student's model gets in the drivers) and returns its state_dict, which the drivers
load into the student's model, with the reference's outputs.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from grader.checks.ex3_residual_mlp.seeding import randomize, seeded
from grader.oracle import oracle, reference

ref = reference("residual_mlp")


@oracle
def reference_structure(kwargs: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The state_dict of ``ResidualMLP(**kwargs)`` as the reference builds it (only its names and shapes matter)."""
    return state_of(ref.ResidualMLP(**kwargs))


@oracle
def reference_eval(
    kwargs: dict[str, Any], device: str, dtype: torch.dtype, seed: int, x: torch.Tensor
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The reference with random weights: its state_dict, and ``model.eval()(x)``."""
    model = reference_model(kwargs, device, dtype, seed).eval()
    with torch.no_grad():
        return state_of(model), model(x)


@oracle(per_device=True)  # the dropout masks come from the device's own generator
def reference_train(
    kwargs: dict[str, Any], device: str, dtype: torch.dtype, seed: int, x: torch.Tensor
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The reference with random weights: its state_dict, and ``torch.manual_seed(seed); model.train()(x)``."""
    model = reference_model(kwargs, device, dtype, seed).train()
    return state_of(model), seeded(lambda: model(x), seed, device)


def reference_model(kwargs: dict[str, Any], device: str, dtype: torch.dtype, seed: int) -> nn.Module:
    """The reference with random weights (the same ones the student's model gets in ``drivers.own_model``)."""
    model = ref.ResidualMLP(**kwargs).to(device=device, dtype=dtype)
    randomize(model, seed)
    return model


def state_of(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model``'s state_dict as a plain dict of tensors: what a driver receives."""
    return dict(model.state_dict())
