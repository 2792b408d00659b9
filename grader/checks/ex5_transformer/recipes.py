"""How exercise 5's checks build a module: the same way for the student's (in a driver) and the reference's.

A :class:`Recipe` is plain data (a class name, its arguments, a seed, a device and dtype,
and the reference's weights when the student's module is to hold them); :func:`make`
builds it with the student's class (``drivers.py``) or the reference's (``oracles.py``).
Also here: the self-attention the structural checks draw (:data:`MODULES`). Nothing here
touches ``reference`` or the student's code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from grader import devices
from grader import strategies as S


def build(factory: Any, seed: int, *args: Any, **kwargs: Any) -> nn.Module:
    """``factory(*args, **kwargs)`` with its parameters drawn under ``seed``, so an example is reproducible."""
    with devices.seeded(seed, "cpu"):
        return factory(*args, **kwargs)


@dataclass(frozen=True)
class Recipe:
    """How one of the exercise's modules is built, the same way for the student's (in a driver) and the reference's.

    ``<cls>(*args, **kwargs)`` with its parameters drawn under ``seed``, moved to ``device``
    (and ``dtype``, when given), put in eval mode if ``eval_mode``. A driver then loads
    ``state`` (the reference's ``state_dict()``, computed in the grading process) strictly,
    when there is one.
    """

    cls: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    device: str = "cpu"
    dtype: torch.dtype | None = None
    eval_mode: bool = True
    state: dict[str, torch.Tensor] | None = None


def make(factory: Any, recipe: Recipe) -> nn.Module:
    """``recipe`` built with ``factory`` (a class of the student's or of the reference), without its ``state``."""
    module = build(factory, recipe.seed, *recipe.args, **recipe.kwargs)
    module = module.to(device=recipe.device) if recipe.dtype is None else module.to(device=recipe.device, dtype=recipe.dtype)
    return module.eval() if recipe.eval_mode else module


#: The modules whose self-attention the structural checks look at (one drawn per example).
MODULES = ("MultiHeadAttention", "TransformerBlock (post-norm)", "TransformerBlock (pre-norm)")


def mha_recipe(config: S.AttentionConfig, seed: int, device: str, dtype: torch.dtype) -> Recipe:
    """MultiHeadAttention(d_model, num_heads, bias=bias) of ``config``, in eval mode."""
    return Recipe("MultiHeadAttention", (config.d_model, config.num_heads), dict(bias=config.bias), seed, device, dtype)


def self_attention(module: str, config: S.AttentionConfig, seed: int, device: str, dtype: torch.dtype) -> tuple[str, Recipe]:
    """The student's ``module`` in eval mode: its name for messages, and its recipe."""
    d_model, H = config.d_model, config.num_heads
    if module == "MultiHeadAttention":
        return f"MultiHeadAttention({d_model}, {H}, bias={config.bias})", mha_recipe(config, seed, device, dtype)
    norm_first = module.endswith("(pre-norm)")
    recipe = Recipe("TransformerBlock", (d_model, H, 2 * d_model), dict(norm_first=norm_first), seed, device, dtype)
    return f"TransformerBlock({d_model}, {H}, {2 * d_model}, norm_first={norm_first})", recipe


def self_attention_args(cls: str, x: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[Any, ...]:
    """The arguments of ``cls``'s self-attention on ``x``: (x, x, x, mask) for an attention module, (x, mask) for a block."""
    if cls == "TransformerBlock":
        return (x,) if mask is None else (x, mask)
    if cls == "AttentionHead":
        return (x, x, x) if mask is None else (x, x, x, mask)
    return (x, x, x, mask)
