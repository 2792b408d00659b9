"""Tensor operations for chapter problem 1: the last real token of each padded sequence."""

from __future__ import annotations

import torch


def last_token(hidden: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Row ``b`` of the result is ``hidden[b, lengths[b] - 1]`` (right padding).

    hidden: (B, T, D); lengths: (B,) integers with 1 <= lengths[b] <= T, on hidden's device.
    Returns (B, D) on hidden's device and dtype. Vectorised: a fixed number of tensor
    operations whatever B and T.
    """
    batch, seq_len = _check_hidden(hidden)
    if not isinstance(lengths, torch.Tensor):
        raise ValueError(f"lengths must be a tensor of shape ({batch},), got {type(lengths).__name__}")
    if lengths.shape != (batch,):
        raise ValueError(f"lengths must have shape ({batch},) to match hidden, got {tuple(lengths.shape)}")
    if lengths.dtype.is_floating_point or lengths.dtype.is_complex or lengths.dtype == torch.bool:
        raise ValueError(f"lengths must hold integers, got dtype {lengths.dtype}")
    if lengths.device != hidden.device:
        raise ValueError(f"lengths is on {lengths.device} but hidden is on {hidden.device}")
    if bool(((lengths < 1) | (lengths > seq_len)).any()):
        raise ValueError(f"every length must lie in [1, {seq_len}], got {lengths.tolist()}")
    rows = torch.arange(batch, device=hidden.device)
    return hidden[rows, lengths.long() - 1]


def last_token_masked(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The hidden state at the rightmost nonzero position of each row of ``mask``.

    hidden: (B, T, D); mask: (B, T), bool or 0/1 integers or floats, nonzero = real token.
    Any padding works: right, left, or gaps in the middle. A row with no real token
    raises ``ValueError``.
    """
    batch, seq_len = _check_hidden(hidden)
    if not isinstance(mask, torch.Tensor):
        raise ValueError(f"mask must be a tensor of shape ({batch}, {seq_len}), got {type(mask).__name__}")
    if mask.shape != (batch, seq_len):
        raise ValueError(f"mask must have shape ({batch}, {seq_len}) to match hidden, got {tuple(mask.shape)}")
    if mask.device != hidden.device:
        raise ValueError(f"mask is on {mask.device} but hidden is on {hidden.device}")
    positions = torch.arange(seq_len, device=hidden.device)
    candidates = torch.where(mask != 0, positions, -1)
    last = candidates.amax(dim=1) if seq_len else torch.full((batch,), -1, device=hidden.device)
    if bool((last < 0).any()):
        empty = torch.nonzero(last < 0).flatten().tolist()
        raise ValueError(f"rows {empty} of mask have no real token (every row needs at least one nonzero)")
    rows = torch.arange(batch, device=hidden.device)
    return hidden[rows, last]


def _check_hidden(hidden: torch.Tensor) -> tuple[int, int]:
    if not isinstance(hidden, torch.Tensor) or hidden.dim() != 3:
        shape = tuple(hidden.shape) if isinstance(hidden, torch.Tensor) else type(hidden).__name__
        raise ValueError(f"hidden must be a tensor of shape (B, T, D), got {shape}")
    return hidden.shape[0], hidden.shape[1]
