"""How exercise 5's checks read and judge what comes back: the (out, weights) pair, dropout, an example's sizes.

Shared by the section modules that ``checks.py`` lists; it runs in the grading process only.
"""

from __future__ import annotations

from typing import Any

import torch

from grader import strategies as S
from grader.compare import assert_matches, assert_true
from grader.feedback import fail


def pair(result: Any, what: str, example: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The (out, weights) pair a function returns, or a failure saying it must return one."""
    if not (isinstance(result, tuple) and len(result) == 2):
        raise fail(
            f"{what} は 2 つ組 (out, weights) を返す必要があります / {what} must return a pair (out, weights), "
            f"got {type(result).__name__}",
            example=example,
        )
    return result


def assert_dropout_applied(noisy: torch.Tensor, clean: torch.Tensor, p: float, *, what: str, example: dict) -> None:
    """``noisy`` is ``clean`` after dropout: each entry zero or scaled by 1/(1-p), about a fraction p of them zero."""
    kept = noisy != 0
    n, dropped = kept.numel(), int((~kept).sum())
    slack = 6 * (n * p * (1 - p)) ** 0.5  # six standard deviations of a binomial count
    assert_true(
        abs(dropped - n * p) <= slack,
        f"{what}: 確率 p={p} のドロップアウトなら約 {n * p:.0f} / {n} 個がゼロになるはずが {dropped} 個です / "
        f"with dropout p={p} about {n * p:.0f} of {n} entries should be zero, but {dropped} are",
        example=example,
    )
    assert_matches(
        noisy,
        torch.where(kept, clean / (1 - p), torch.zeros_like(clean)),
        problem=f"{what}: 残った値が評価モードの値の 1/(1-p) 倍になっていません / "
        "the entries that survive dropout must be the eval-mode values times 1/(1-p)",
        what="train-mode output",
        example=example,
    )


def sizes_of(config: S.AttentionConfig) -> dict[str, int]:
    return dict(B=config.batch, L=config.query_len, S=config.key_len, d_model=config.d_model, num_heads=config.num_heads)
