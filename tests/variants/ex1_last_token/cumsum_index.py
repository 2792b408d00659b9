"""Correct, written differently: index_select on a flattened (B*T, D) view, last position from a reversed cummax."""

import torch


def last_token(hidden, lengths):
    if hidden.dim() != 3:
        raise ValueError("hidden must be 3-D")
    B, T, D = hidden.shape
    if lengths.shape != (B,):
        raise ValueError("lengths must have shape (B,)")
    bad = (lengths < 1) | (lengths > T)
    if bad.any():
        raise ValueError(f"lengths must be between 1 and {T}")
    flat = hidden.reshape(B * T, D)
    return flat.index_select(0, torch.arange(B, device=hidden.device) * T + lengths.long() - 1)


def last_token_masked(hidden, mask):
    if hidden.dim() != 3:
        raise ValueError("hidden must be 3-D")
    B, T, D = hidden.shape
    if tuple(mask.shape) != (B, T):
        raise ValueError("mask must have shape (B, T)")
    real = mask != 0
    count = real.sum(dim=1)
    if (count == 0).any():
        raise ValueError("each row needs a real token")
    positions = torch.arange(T, device=hidden.device).expand(B, T)
    last = torch.where(real, positions, torch.zeros_like(positions)).cummax(dim=1).values[:, -1]
    return last_token(hidden, last + 1)
