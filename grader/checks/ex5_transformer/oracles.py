"""Exercise 5's reference side (grading process only): oracle calls, plain data in and out.

The reference's module for a :class:`~recipes.Recipe` is built and run only inside the
``@oracle`` functions here; a check holds it as a :class:`ReferenceModule` and reads its
values through :func:`expected_output`, and its weights for the student's module through
:func:`shared`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from grader import strategies as S
from grader.checks.ex5_transformer.recipes import Recipe, make
from grader.devices import HALF, seeded
from grader.oracle import oracle, reference

ref = reference("transformer")


def randomize_norms(block: nn.Module, seed: int) -> nn.Module:
    """LayerNorm weights and biases at random (not 1 and 0), so that norm1 and norm2 can be told apart."""
    with torch.no_grad():
        for i, norm in enumerate((block.norm1, block.norm2)):
            shape, dtype = tuple(norm.weight.shape), norm.weight.dtype
            norm.weight.copy_(S.make(shape, dtype, "cpu", seed + 2 * i, low=0.5, high=1.5))
            norm.bias.copy_(S.make(shape, dtype, "cpu", seed + 2 * i + 1, low=-0.5, high=0.5))
    return block


def reference_of(recipe: Recipe) -> nn.Module:
    """The reference's module built from ``recipe`` (a TransformerBlock with its LayerNorms at random).

    Only inside oracle calls (below): elsewhere a check holds a :class:`ReferenceModule`.
    """
    factory = getattr(ref, recipe.cls)
    if recipe.cls == "TransformerBlock":
        factory = lambda *args, **kwargs: randomize_norms(ref.TransformerBlock(*args, **kwargs), recipe.seed)  # noqa: E731
    return make(factory, recipe)


@oracle
def reference_state(recipe: Recipe) -> dict[str, torch.Tensor]:
    """The state_dict of the reference's module for ``recipe`` (an oracle call)."""
    return dict(reference_of(recipe).state_dict())


@oracle
def reference_output(recipe: Recipe, dtype: torch.dtype, inputs: tuple[Any, ...]) -> Any:
    """:func:`expected_output` of the reference's module for ``recipe`` on ``inputs`` (an oracle call)."""
    return expected_output(reference_of(recipe), dtype, *inputs)


@oracle(per_device=True)  # the dropout masks come from the device's own generator
def reference_train_output(recipe: Recipe, inputs: tuple[Any, ...], seed: int) -> Any:
    """The reference's module for ``recipe`` in train mode on ``inputs``, its dropout drawn under ``seed`` (an oracle call).

    Computed in the recipe's own dtype (never widened): dropout masks on a GPU depend on the dtype.
    """
    module = reference_of(replace(recipe, eval_mode=False))
    with torch.no_grad(), seeded(seed, recipe.device):
        return module(*inputs)


@oracle
def reference_parameter_names(recipe: Recipe) -> list[str]:
    """The names of the reference's parameters for ``recipe`` (an oracle call)."""
    return [name for name, _ in reference_of(recipe).named_parameters()]


@dataclass(frozen=True)
class ReferenceModule:
    """The reference's module for ``recipe`` as a check holds it: reached only through oracle calls.

    :func:`expected_output` of it is its output; :meth:`named_parameters` gives its parameters' names.
    """

    recipe: Recipe

    def named_parameters(self) -> list[tuple[str, None]]:
        """``(name, None)`` for each parameter of the reference's module: the names, not the values."""
        return [(name, None) for name in reference_parameter_names(self.recipe)]


def shared(recipe: Recipe) -> tuple[Recipe, ReferenceModule]:
    """The reference's module for ``recipe``, and ``recipe`` carrying its weights for the student's module."""
    return replace(recipe, state=reference_state(recipe)), ReferenceModule(recipe)


def wide(dtype: torch.dtype) -> torch.dtype:
    """The dtype the expected values are computed in: float32 for half precision, else ``dtype`` itself."""
    return torch.float32 if dtype in HALF else dtype


def expected_output(reference: Any, dtype: torch.dtype, *inputs: Any) -> Any:
    """``reference(*inputs)`` computed in ``wide(dtype)`` and rounded to ``dtype`` once, at the end.

    Half-precision results are compared with the float32 result of the same (half-rounded)
    weights and inputs, so the tolerance covers one implementation's rounding, not two.
    ``reference`` is a reference function (``ref.<name>``), a :class:`ReferenceModule`, or,
    inside an oracle call, the reference's module itself.
    """
    if isinstance(reference, ReferenceModule):
        return reference_output(reference.recipe, dtype, inputs)
    if wide(dtype) != dtype:
        if isinstance(reference, nn.Module):
            reference = copy.deepcopy(reference).to(wide(dtype))
        inputs = tuple(t.to(wide(dtype)) if isinstance(t, torch.Tensor) and t.is_floating_point() else t for t in inputs)
    with torch.no_grad():
        result = reference(*inputs)
    return tuple(r.to(dtype) for r in result) if isinstance(result, tuple) else result.to(dtype)
