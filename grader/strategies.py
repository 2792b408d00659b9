"""Every hypothesis strategy the checks draw from, in one place.

Tensors are drawn as (shape, seed): the values come from ``torch.testing.make_tensor``
under that seed on the CPU and are then moved to the device, so an example is the
same on every device and hypothesis shrinks shapes (and seeds) towards small ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from hypothesis import assume
from hypothesis import strategies as st

SEEDS = st.integers(min_value=0, max_value=2**31 - 1)


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
        torch.manual_seed(seed)
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


# -- ex1: sequences with padding ------------------------------------------------

Padding = Literal["right", "left", "gaps"]


@st.composite
def lengths(draw: st.DrawFn, batch: int, seq_len: int) -> torch.Tensor:
    """Valid lengths (B,), each in [1, T], as int64."""
    values = draw(st.lists(st.integers(1, seq_len), min_size=batch, max_size=batch))
    return torch.tensor(values, dtype=torch.int64)


@st.composite
def masks(draw: st.DrawFn, batch: int, seq_len: int, padding: Padding) -> torch.Tensor:
    """A bool mask (B, T) with at least one real token per row, padded on the given side.

    ``gaps`` masks have arbitrary holes, including in the middle of a row.
    """
    rows = []
    for _ in range(batch):
        n = draw(st.integers(1, seq_len))
        if padding == "right":
            row = [True] * n + [False] * (seq_len - n)
        elif padding == "left":
            row = [False] * (seq_len - n) + [True] * n
        else:
            row = draw(st.lists(st.booleans(), min_size=seq_len, max_size=seq_len))
            if not any(row):
                row[draw(st.integers(0, seq_len - 1))] = True
        rows.append(row)
    return torch.tensor(rows, dtype=torch.bool)


MASK_DTYPES = (torch.bool, torch.int64, torch.int32, torch.uint8, torch.float32)


# -- ex2: Swish -------------------------------------------------------------------

BETAS = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False).filter(lambda b: abs(b) > 1e-3)


# -- ex3: ResidualMLP ------------------------------------------------------------


@dataclass(frozen=True)
class MLPConfig:
    in_features: int
    hidden_features: int
    out_features: int
    depth: int
    dropout: float

    def kwargs(self) -> dict[str, object]:
        return dict(
            in_features=self.in_features,
            hidden_features=self.hidden_features,
            out_features=self.out_features,
            depth=self.depth,
            dropout=self.dropout,
        )


#: Dropout probabilities a config may have; the train-mode checks use the nonzero ones.
DROPOUTS = (0.0, 0.1, 0.5, 0.9)


@st.composite
def mlp_configs(
    draw: st.DrawFn,
    min_depth: int = 0,
    max_depth: int = 3,
    dropout: float | None = None,
    dropouts: tuple[float, ...] = DROPOUTS,
    max_size: int = 8,
) -> MLPConfig:
    """A small ResidualMLP config; ``dropout`` fixes the probability, else it is drawn from ``dropouts``."""
    return MLPConfig(
        in_features=draw(sizes(1, min(6, max_size))),
        hidden_features=draw(sizes(1, max_size)),
        out_features=draw(sizes(1, min(6, max_size))),
        depth=draw(st.integers(min_depth, max_depth)),
        dropout=draw(st.sampled_from(dropouts)) if dropout is None else dropout,
    )


#: The batch dimensions in front of the feature dimension: none, one, several, or an empty batch.
LEADING_SHAPES = st.sampled_from([(), (3,), (2, 3), (1, 2, 2), (0,)])


# -- ex4: warmup + SGDR -------------------------------------------------------------


@dataclass(frozen=True)
class SGDRConfig:
    warmup_steps: int
    T_0: int
    T_mult: int
    eta_min: float
    warmup_start_factor: float
    cycle_decay: float

    def kwargs(self) -> dict[str, object]:
        return dict(
            warmup_steps=self.warmup_steps,
            T_0=self.T_0,
            T_mult=self.T_mult,
            eta_min=self.eta_min,
            warmup_start_factor=self.warmup_start_factor,
            cycle_decay=self.cycle_decay,
        )

    def cycle_start(self, i: int) -> int:
        """The step (after warmup) at which cycle ``i`` starts, in exact integers."""
        if self.T_mult == 1:
            return self.T_0 * i
        return self.T_0 * (self.T_mult**i - 1) // (self.T_mult - 1)

    def cycle_length(self, i: int) -> int:
        return self.T_0 * self.T_mult**i


BASE_LRS = st.sampled_from([0.1, 1.0, 3e-4, 0.05])


@st.composite
def sgdr_configs(draw: st.DrawFn, max_warmup: int = 20) -> SGDRConfig:
    return SGDRConfig(
        warmup_steps=draw(st.integers(0, max_warmup)),
        T_0=draw(st.integers(1, 12)),
        T_mult=draw(st.integers(1, 4)),
        eta_min=draw(st.sampled_from([0.0, 1e-5, 1e-3])),
        warmup_start_factor=draw(st.sampled_from([0.0, 0.01, 0.1, 0.5, 1.0])),
        cycle_decay=draw(st.sampled_from([1.0, 0.9, 0.5])),
    )


@st.composite
def restart_steps(draw: st.DrawFn, config: SGDRConfig, max_cycle: int = 30) -> int:
    """A step exactly at a restart, where a floating-point log finds the wrong cycle."""
    cycle = draw(st.integers(1, max_cycle if config.T_mult > 1 else 10**6))
    return config.warmup_steps + config.cycle_start(cycle)


@st.composite
def inside_cycle_steps(draw: st.DrawFn, config: SGDRConfig, max_cycle: int = 6) -> int:
    """A step strictly inside a cosine cycle (not at a restart)."""
    first = 0 if config.T_0 >= 2 else 1  # a cycle of length 1 has no inside
    assume(config.cycle_length(first) >= 2)
    cycle = draw(st.integers(first, first + max_cycle))
    offset = draw(st.integers(1, config.cycle_length(cycle) - 1))
    return config.warmup_steps + config.cycle_start(cycle) + offset


def huge_steps() -> st.SearchStrategy[int]:
    return st.sampled_from([10**9, 10**12, 10**12 + 7, 2**40])



# -- ex1: whole examples ----------------------------------------------------------


@st.composite
def hidden_and_lengths(draw: st.DrawFn, device: str, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """hidden (B, T, D), possibly non-contiguous, with valid right-padding lengths (int64 or int32)."""
    B, T, D = draw(sizes(1, 5)), draw(sizes(1, 6)), draw(sizes(1, 4))
    hidden = draw(tensors((B, T, D), dtype, device, noncontiguous=None))
    lens = draw(lengths(B, T)).to(draw(st.sampled_from([torch.int64, torch.int32])))
    return hidden, lens.to(device)


@st.composite
def hidden_and_mask(
    draw: st.DrawFn, device: str, dtype: torch.dtype, paddings: tuple[Padding, ...] = ("right", "left", "gaps")
) -> tuple[torch.Tensor, torch.Tensor]:
    """hidden (B, T, D) and a mask of any accepted dtype, padded right, left or with gaps."""
    B, T, D = draw(sizes(1, 5)), draw(sizes(1, 6)), draw(sizes(1, 4))
    hidden = draw(tensors((B, T, D), dtype, device, noncontiguous=None))
    mask = draw(masks(B, T, draw(st.sampled_from(paddings))))
    return hidden, mask.to(draw(st.sampled_from(MASK_DTYPES))).to(device)
