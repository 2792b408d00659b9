"""How exercise 6's checks compare and show: the tolerances, weights and plain data compared, and a failure's example.

Shared by the section modules that ``checks.py`` lists; it runs in the grading process only.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch

from grader import strategies as S
from grader.checks.ex6_training_loop.builders import describe_net
from grader.compare import assert_matches


#: Floats computed in a dtype (losses, gradient norms) compare with assert_close's tolerances for it.
TOLERANCE = {torch.float32: dict(rtol=1.3e-6, atol=1e-5), torch.float64: dict(rtol=1e-7, atol=1e-7)}


def assert_state(
    actual: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    what: str,
    example: dict[str, Any],
    *,
    exact: bool = False,
    problem: str | None = None,
) -> None:
    """Every tensor of ``expected`` (a state_dict) equals ``actual``'s under the same name; the first that does not fails."""
    for name, want in expected.items():
        assert_matches(
            actual[name],
            want,
            what=f"{name} {what}",
            example=example,
            exact=exact,
            problem=None if problem is None else f"{problem}: {name}",
        )


def same(a: Any, b: Any) -> bool:
    """Equality of plain data in which NaN equals NaN, a bool is not a number, and 1 == 1.0."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape and bool(torch.equal(a, b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        return a == b or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


def to_number(value: Any) -> Any:
    """A one-element tensor as a float (the checks accept either for a norm or a history entry); anything else as it is."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.item())
    return value


# -- what a failure shows ----------------------------------------------------------------------------------


def epoch_example(spec: S.NetSpec, batches: S.Batches, config: S.TrainConfig, dtype: torch.dtype, **extra: Any) -> dict[str, Any]:
    return dict(
        net=describe_net(spec),
        loader=f"{'DataLoader' if batches.dataloader else 'list'} of batches of sizes {list(batches.sizes)} (data seed {batches.seed})",
        dtype=dtype,
        loss_fn="cross_entropy",
        **config.describe(),
        **extra,
    )
