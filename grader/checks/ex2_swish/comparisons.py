"""Exercise 2's assertions that checks share: a connected result, gradcheck's verdict, the custom graph node."""

from __future__ import annotations

from typing import Any

import torch

from grader.compare import assert_true
from grader.feedback import CheckFailure, fail
from grader.gradients import NOT_REENTRANT, NOT_REENTRANT_HINT, not_reentrant


def connected(result: dict[str, Any], *, example: dict) -> dict[str, Any]:
    """A vjp driver's ``result``, provided its output is a tensor of x's shape that autograd could follow back."""
    out, x = result["out"], example["x"]
    assert_true(
        isinstance(out, torch.Tensor) and out.shape == x.shape,
        "swish(x, beta) は x と同じ形のテンソルを返す必要があります / swish(x, beta) must return a tensor shaped like x",
        example=example,
    )
    assert_true(
        result["connected"],
        "swish(x, beta) の出力が入力とつながっていません (requires_grad=False) / "
        "the output of swish(x, beta) is not connected to its inputs (requires_grad=False)",
        example=example,
    )
    return result


def run_gradcheck(checker: Any, fn: Any, x: torch.Tensor, name: str, example: dict) -> None:
    """``checker(fn, (x,))`` (torch.autograd.gradcheck or gradgradcheck, called ``name``); a failure says what went wrong."""
    try:
        checker(fn, (x,), raise_exception=True)
    except CheckFailure:
        raise
    except Exception as err:  # noqa: BLE001 - GradcheckError, or autograd refusing to differentiate twice
        message = str(err).strip()
        problem = f"torch.autograd.{name} に失敗しました / torch.autograd.{name} failed"
        if not_reentrant(err):
            problem = f"torch.autograd.{name}: {NOT_REENTRANT[0]} / {NOT_REENTRANT[1]}"
        raise fail(
            problem,
            example=example,
            detail=message if len(message) < 1500 else message[:1500] + " ...",
            hint=NOT_REENTRANT_HINT if not_reentrant(err) else None,
        ) from None


def assert_custom_node(node: dict[str, Any], what: str, example: dict) -> None:
    """``node`` (a driver's report of a graph node, see drivers.py) is the backward of SwishFunction."""
    assert_true(
        node["is_swish_function"],
        f"{what} の計算グラフのノードが SwishFunction ではありません ({node['type']}) / "
        f"the graph node of {what} is {node['type']}, not SwishFunction's backward",
        example=example,
    )
