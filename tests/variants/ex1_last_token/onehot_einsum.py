"""Correct, written differently: one-hot selection with einsum, last position as argmax of position * mask."""

import torch


def _one_hot_select(hidden, index):
    onehot = torch.nn.functional.one_hot(index, hidden.shape[1]).to(hidden.dtype)
    return torch.einsum("bt,btd->bd", onehot, hidden)


def last_token(hidden, lengths):
    if hidden.ndim != 3:
        raise ValueError("hidden must be (B, T, D)")
    if lengths.ndim != 1 or len(lengths) != hidden.shape[0]:
        raise ValueError("lengths must be (B,)")
    if torch.any(lengths <= 0) or torch.any(lengths > hidden.shape[1]):
        raise ValueError("lengths out of range")
    return _one_hot_select(hidden, lengths.long() - 1)


def last_token_masked(hidden, mask):
    if hidden.ndim != 3:
        raise ValueError("hidden must be (B, T, D)")
    if mask.shape != hidden.shape[:2]:
        raise ValueError("mask must be (B, T)")
    real = mask.bool()
    if not real.any(dim=1).all():
        raise ValueError("a row has no real token")
    positions = torch.arange(hidden.shape[1], device=hidden.device)
    last = (positions * real).argmax(dim=1)
    return _one_hot_select(hidden, last)
