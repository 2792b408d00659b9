"""Strategies every exercise draws from: seeds, sizes, shapes, tensors, and named explicit examples."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import torch
from hypothesis import example
from hypothesis import strategies as st

F = TypeVar("F", bound=Callable[..., Any])

SEEDS = st.integers(min_value=0, max_value=2**31 - 1)


def explicit(name: str, values: Iterable[Any], /, **fixed: Any) -> Callable[[F], F]:
    """``@example(name=value, **fixed)`` for each value: named scenarios tried first, in every case of a check.

    Put it under ``@given``; ``fixed`` gives the check's other drawn arguments.
    """

    def decorate(fn: F) -> F:
        for value in reversed(list(values)):
            fn = example(**{name: value}, **fixed)(fn)
        return fn

    return decorate


def make(
    shape: tuple[int, ...],
    dtype: torch.dtype,
    device: str,
    seed: int,
    *,
    low: float = -3.0,
    high: float = 3.0,
    noncontiguous: bool = False,
    requires_grad: bool = False,
) -> torch.Tensor:
    """A reproducible random tensor: the same ``seed`` gives the same values on any device."""
    with torch.random.fork_rng(devices=[]):
        # Seed only the CPU generator: torch.manual_seed also queues lazy CUDA/XPU seeding
        # with a formatted traceback on every call, a third of some exercises' check time.
        torch.random.default_generator.manual_seed(seed)
        t = torch.testing.make_tensor(shape, dtype=dtype, device="cpu", low=low, high=high, noncontiguous=noncontiguous)
    t = t.to(device)
    if noncontiguous and t.numel() > 1 and t.is_contiguous():
        # .to() may have made it contiguous again: rebuild as a strided view.
        wide = torch.empty(*shape[:-1], 2 * shape[-1], dtype=dtype, device=device) if shape else t
        if shape:
            wide[..., ::2] = t
            t = wide[..., ::2]
    return t.requires_grad_(requires_grad)


@st.composite
def tensors(
    draw: st.DrawFn,
    shape: tuple[int, ...],
    dtype: torch.dtype,
    device: str,
    *,
    low: float = -3.0,
    high: float = 3.0,
    noncontiguous: bool | None = False,
) -> torch.Tensor:
    """A tensor of ``shape``; ``noncontiguous=None`` lets hypothesis choose the layout."""
    if noncontiguous is None:
        noncontiguous = draw(st.booleans())
    return make(shape, dtype, device, draw(SEEDS), low=low, high=high, noncontiguous=noncontiguous)


def sizes(min_value: int = 1, max_value: int = 6) -> st.SearchStrategy[int]:
    return st.integers(min_value=min_value, max_value=max_value)


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 5) -> st.SearchStrategy[tuple[int, ...]]:
    return st.lists(sizes(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)
