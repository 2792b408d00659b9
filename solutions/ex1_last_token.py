"""演習問題 1 の模範解答 / Model answer to exercise 1 (gather + flip/argmax, unlike reference/)."""

from __future__ import annotations

import torch


def last_token(hidden: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Row b = hidden[b, lengths[b] - 1], picked with one gather."""
    if hidden.dim() != 3:
        raise ValueError(f"hidden must be (B, T, D), got shape {tuple(hidden.shape)}")
    B, T, D = hidden.shape
    if lengths.dim() != 1 or lengths.size(0) != B:
        raise ValueError(f"lengths must be (B,) = ({B},), got shape {tuple(lengths.shape)}")
    if lengths.is_floating_point() or lengths.dtype == torch.bool:
        raise ValueError("lengths must be an integer tensor")
    if (lengths.min() < 1 or lengths.max() > T) if B else False:
        raise ValueError(f"lengths must be in [1, {T}]")
    index = (lengths.long() - 1).view(B, 1, 1).expand(B, 1, D)
    return hidden.gather(1, index).squeeze(1)


def last_token_masked(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The last nonzero of each row is the first nonzero of the row flipped."""
    if hidden.dim() != 3:
        raise ValueError(f"hidden must be (B, T, D), got shape {tuple(hidden.shape)}")
    B, T, D = hidden.shape
    if mask.shape != (B, T):
        raise ValueError(f"mask must be (B, T) = ({B}, {T}), got shape {tuple(mask.shape)}")
    real = mask != 0
    if not bool(real.any(dim=1).all()):
        raise ValueError("every row of mask needs at least one real token")
    from_the_end = real.flip(1).long().argmax(dim=1)  # argmax returns the first maximum
    last = (T - 1) - from_the_end
    index = last.view(B, 1, 1).expand(B, 1, D)
    return hidden.gather(1, index).squeeze(1)
