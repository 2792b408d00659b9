"""last_token_masked takes mask.sum(1) - 1: right only for right padding (the chapter's classic slip)."""

import torch

# the vectorisation check is believed only together with correct values
EXPECTED_FAILURES = {"test_last_token_masked_values", "test_last_token_masked_vectorized"}


def last_token(hidden, lengths):
    if hidden.dim() != 3 or lengths.shape != (hidden.shape[0],):
        raise ValueError("shapes do not fit")
    if bool(((lengths < 1) | (lengths > hidden.shape[1])).any()):
        raise ValueError("length out of range")
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), lengths.long() - 1]


def last_token_masked(hidden, mask):
    if hidden.dim() != 3 or mask.shape != hidden.shape[:2]:
        raise ValueError("shapes do not fit")
    real = mask != 0
    if not bool(real.any(dim=1).all()):
        raise ValueError("a row has no real token")
    last = real.long().sum(dim=1) - 1
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
