"""last_token picks position lengths[b] (clamped to T - 1) instead of lengths[b] - 1: a real row, the wrong one."""

import torch

# the vectorisation check is believed only together with correct values
EXPECTED_FAILURES = {"test_last_token_values", "test_last_token_vectorized"}


def last_token(hidden, lengths):
    if hidden.dim() != 3 or lengths.shape != (hidden.shape[0],):
        raise ValueError("shapes do not fit")
    if bool(((lengths < 1) | (lengths > hidden.shape[1])).any()):
        raise ValueError("length out of range")
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), lengths.long().clamp(max=hidden.shape[1] - 1)]


def last_token_masked(hidden, mask):
    if hidden.dim() != 3 or mask.shape != hidden.shape[:2]:
        raise ValueError("shapes do not fit")
    real = mask != 0
    if not bool(real.any(dim=1).all()):
        raise ValueError("a row has no real token")
    last = torch.where(real, torch.arange(hidden.shape[1], device=hidden.device), -1).amax(dim=1)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
