"""ex1 (last token): padded batches, their lengths and their masks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from hypothesis import strategies as st

from grader.strategies.common import SEEDS, make, sizes


@dataclass(frozen=True)
class LengthsCase:
    """An example of ``last_token``: hidden (B, T, D) from a seed, and right-padding lengths, without a dtype or device."""

    lengths: tuple[int, ...]  # B of them, each in [1, T]
    seq_len: int  # T
    width: int = 3  # D
    seed: int = 0
    noncontiguous: bool = False
    index_dtype: torch.dtype = torch.int64

    def build(self, device: str, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (len(self.lengths), self.seq_len, self.width)
        hidden = make(shape, dtype, device, self.seed, noncontiguous=self.noncontiguous)
        return hidden, torch.tensor(self.lengths, dtype=self.index_dtype, device=device)


@st.composite
def lengths_cases(draw: st.DrawFn) -> LengthsCase:
    """hidden (B, T, D), possibly non-contiguous, with valid right-padding lengths (int64 or int32)."""
    B, T, D = draw(sizes(1, 5)), draw(sizes(1, 6)), draw(sizes(1, 4))
    return LengthsCase(
        lengths=tuple(draw(st.lists(st.integers(1, T), min_size=B, max_size=B))),
        seq_len=T,
        width=D,
        seed=draw(SEEDS),
        noncontiguous=draw(st.booleans()),
        index_dtype=draw(st.sampled_from([torch.int64, torch.int32])),
    )


#: The scenarios the contract of ``last_token`` names, tried in every case of every check that
#: covers them, each in its smallest form and smallest first: an explicit example that fails
#: is reported as it is (not shrunk), so it must already be the smallest example that shows it.
LENGTHS_SCENARIOS = (
    LengthsCase(lengths=(1,), seq_len=1, width=1),  # one sequence of one token
    LengthsCase(lengths=(2,), seq_len=2, width=1),  # a full row: length = T
    LengthsCase(lengths=(1, 2), seq_len=2, width=1),  # a single-token row beside a full one
    LengthsCase(lengths=(2, 5, 1, 3), seq_len=5, noncontiguous=True, index_dtype=torch.int32),  # int32, odd strides
)


@dataclass(frozen=True)
class MaskCase:
    """An example of ``last_token_masked``: hidden (B, T, D) from a seed and a 0/1 mask, without a dtype or device."""

    rows: tuple[tuple[int, ...], ...]  # (B, T): 1 = a real token
    width: int = 3  # D
    seed: int = 0
    noncontiguous: bool = False
    mask_dtype: torch.dtype = torch.bool

    def build(self, device: str, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (len(self.rows), len(self.rows[0]), self.width)
        hidden = make(shape, dtype, device, self.seed, noncontiguous=self.noncontiguous)
        return hidden, torch.tensor(self.rows).to(self.mask_dtype).to(device)


Padding = Literal["right", "left", "gaps"]

MASK_DTYPES = (torch.bool, torch.int64, torch.int32, torch.uint8, torch.float32)


@st.composite
def mask_rows(draw: st.DrawFn, batch: int, seq_len: int, padding: Padding) -> tuple[tuple[int, ...], ...]:
    """(B, T) 0/1 rows with at least one real token each, padded on the given side.

    ``gaps`` rows have arbitrary holes, including in the middle of a row.
    """
    rows = []
    for _ in range(batch):
        n = draw(st.integers(1, seq_len))
        if padding == "right":
            row = [1] * n + [0] * (seq_len - n)
        elif padding == "left":
            row = [0] * (seq_len - n) + [1] * n
        else:
            row = draw(st.lists(st.integers(0, 1), min_size=seq_len, max_size=seq_len))
            if not any(row):
                row[draw(st.integers(0, seq_len - 1))] = 1
        rows.append(tuple(row))
    return tuple(rows)


@st.composite
def mask_cases(draw: st.DrawFn, paddings: tuple[Padding, ...] = ("right", "left", "gaps")) -> MaskCase:
    """hidden (B, T, D) and a mask of any accepted dtype, padded right, left or with gaps."""
    B, T, D = draw(sizes(1, 5)), draw(sizes(1, 6)), draw(sizes(1, 4))
    return MaskCase(
        rows=draw(mask_rows(B, T, draw(st.sampled_from(paddings)))),
        width=D,
        seed=draw(SEEDS),
        noncontiguous=draw(st.booleans()),
        mask_dtype=draw(st.sampled_from(MASK_DTYPES)),
    )


#: The scenarios the contract of ``last_token_masked`` names (right, left and gapped padding, a
#: single real token anywhere, full rows, every mask dtype), tried in every case of every check
#: that covers them, each in its smallest form and smallest first (see LENGTHS_SCENARIOS).
MASK_SCENARIOS = (
    MaskCase(rows=((1,),), width=1),  # one sequence of one token
    MaskCase(rows=((1, 0),), width=1, mask_dtype=torch.int64),  # right padding
    MaskCase(rows=((0, 1),), width=1, mask_dtype=torch.float32),  # left padding
    MaskCase(rows=((1, 1),), width=1, mask_dtype=torch.int32),  # a full row, no padding
    MaskCase(rows=((0, 1, 0),), width=1, mask_dtype=torch.uint8),  # one real token in the middle
    MaskCase(rows=((1, 0, 1),), width=1),  # a gap
    MaskCase(rows=((1, 1, 0, 0), (0, 1, 1, 0), (0, 0, 1, 1)), noncontiguous=True, mask_dtype=torch.float32),  # mixed
)
