"""Return a tensor subclass that claims to equal anything."""

import torch

EXPECTED_SCORE = 0


class Agreeable(torch.Tensor):
    def __eq__(self, other):
        return torch.ones((), dtype=torch.bool)

    def allclose(self, *args, **kwargs):
        return True


def last_token(hidden, lengths):
    return torch.zeros(hidden.shape[0], hidden.shape[2], dtype=hidden.dtype).as_subclass(Agreeable)


def last_token_masked(hidden, mask):
    return torch.zeros(hidden.shape[0], hidden.shape[2], dtype=hidden.dtype).as_subclass(Agreeable)
