"""last_token_masked scans each row in Python: right values, but not vectorised."""

import torch

EXPECTED_FAILURES = {"test_last_token_masked_vectorized"}


def last_token(hidden, lengths):
    if hidden.dim() != 3 or lengths.shape != (hidden.shape[0],):
        raise ValueError("shapes do not fit")
    if bool(((lengths < 1) | (lengths > hidden.shape[1])).any()):
        raise ValueError("length out of range")
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), lengths.long() - 1]


def last_token_masked(hidden, mask):
    if hidden.dim() != 3 or mask.shape != hidden.shape[:2]:
        raise ValueError("shapes do not fit")
    rows = []
    for b in range(hidden.shape[0]):
        real = [t for t in range(hidden.shape[1]) if mask[b, t] != 0]
        if not real:
            raise ValueError("a row has no real token")
        rows.append(hidden[b, real[-1]])
    return torch.stack(rows)
