"""Exercise 3's random weights and seeded runs, the same on both sides.

The reference's model (``oracles.py``) and the student's (``drivers.py``) get identical
weights from :func:`randomize` and identical dropout masks from :func:`seeded`, so their
outputs can be compared value for value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from grader import devices


def randomize(model: nn.Module, seed: int) -> None:
    """Give every parameter (LayerNorm's too) reproducible random values in [-1, 1]."""
    generator = torch.Generator().manual_seed(seed)  # not torch.manual_seed: much slower, and global
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.rand(p.shape, generator=generator, dtype=torch.float64).mul_(2).sub_(1))


def seeded(fn: Callable[[], Any], seed: int, device: str) -> Any:
    """``fn()`` drawing as right after ``torch.manual_seed(seed)``, leaving the global random state as it was."""
    with devices.seeded(seed, device):
        return fn()
