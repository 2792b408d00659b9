"""Exercise 3's strict loading of a state_dict into the student's model, and the failure that says why it did not load.

Used where the student's code runs (``drivers.py``: the reference's weights, or the same
model minus one block) and by the structure check, which reports a failure the driver saw.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from grader.feedback import CheckFailure, fail

#: The structure check, as other checks' failures point to it (ja, en).
STRUCTURE_CHECK_JA = "チェック「state_dict の構造が参照実装と同じ」"
STRUCTURE_CHECK_EN = "the check “the state_dict has the reference's structure”"

#: How the reference's weights are named in a failure to load them (ja, en).
REFERENCE_WEIGHTS = ("参照実装", "the reference's")


def load(
    model: nn.Module,
    state: dict[str, torch.Tensor],
    *,
    example: dict[str, Any],
    source: tuple[str, str],
    pointer: bool = True,
) -> None:
    """``model.load_state_dict(state, strict=True)``; ``source`` names the state (ja, en) in the failure."""
    try:
        model.load_state_dict(state, strict=True)
    except Exception as err:  # noqa: BLE001 - RuntimeError for keys/shapes, anything from odd modules
        raise load_failure(first_lines(str(err), 6), example=example, source=source, pointer=pointer) from None


def load_failure(detail: str, *, example: dict[str, Any], source: tuple[str, str], pointer: bool = True) -> CheckFailure:
    """The failure for a state_dict (named by ``source``, ja and en) that did not load strictly; ``detail`` says why."""
    ja = f"{source[0]}の state_dict があなたのモデルに strict に読み込めません"
    en = f"{source[1]} state_dict does not load strictly into your model"
    if pointer:
        ja += f"。まず{STRUCTURE_CHECK_JA}を直してください"
        en += f": fix {STRUCTURE_CHECK_EN} first"
    return fail(f"{ja} / {en}", example=example, detail=detail)


def first_lines(text: str, n: int) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "\n".join(lines[:n] + (["..."] if len(lines) > n else []))
