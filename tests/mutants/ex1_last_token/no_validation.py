"""No input validation: a length of 0 silently wraps to the last position, an empty row picks position 0."""

import torch

EXPECTED_FAILURES = {"test_last_token_rejects_bad_input", "test_last_token_masked_rejects_bad_input"}


def last_token(hidden, lengths):
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), lengths.long() - 1]


def last_token_masked(hidden, mask):
    real = mask != 0
    last = torch.where(real, torch.arange(hidden.shape[1], device=hidden.device), 0).amax(dim=1)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
