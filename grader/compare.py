"""The one comparison helper: ``torch.testing.assert_close`` plus a student-friendly report.

``assert_close`` already knows the per-dtype tolerances, checks dtype and device and
prints "Mismatched elements: k / n" with the greatest difference and where it is.
This module adds what a student needs around it: which call, on which example, and
expected beside actual.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

import torch

from grader.feedback import CheckFailure
from grader.runner import StudentError

#: Half-precision results may differ from the reference by a few roundings when a
#: correct solution orders its operations differently (e.g. ``x * sigmoid(x)`` in
#: float16 against a fused kernel that rounds once). assert_close's defaults allow
#: about one unit in the last place; these allow four.
HALF_PRECISION_TOLERANCE: dict[torch.dtype, dict[str, float]] = {
    torch.float16: {"rtol": 4 * 2**-10, "atol": 4 * 2**-10},
    torch.bfloat16: {"rtol": 4 * 2**-7, "atol": 4 * 2**-7},
}

#: Learning rates are plain Python floats computed by a short formula: two correct
#: implementations agree to about 1e-12 relative; a wrong step is off by far more.
SCALAR_TOLERANCE = {"rtol": 1e-9, "atol": 1e-12}


def tolerance(dtype: torch.dtype) -> dict[str, float]:
    """Tolerances for results computed in ``dtype``: assert_close's defaults, loosened for half precision."""
    return dict(HALF_PRECISION_TOLERANCE.get(dtype, {}))


def assert_matches(
    actual: Any,
    expected: Any,
    *,
    what: str,
    example: Mapping[str, Any] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    exact: bool = False,
    problem: str | None = None,
) -> None:
    """Raise :class:`CheckFailure` unless ``actual`` equals ``expected`` within tolerance.

    ``expected`` is a tensor or a Python number from the reference; ``actual`` must be
    a plain ``torch.Tensor`` of the same shape, dtype and device (or a real number when
    ``expected`` is one). ``what`` names the call in the student's words, e.g.
    ``"last_token(hidden, lengths)"``. ``exact=True`` demands bitwise equality (for
    pure indexing, where no rounding can happen). ``problem`` replaces the default
    "does not match the reference" sentence, for comparisons of the student's code with
    itself (e.g. "the output changed when a future token changed").
    """
    _check_kind(actual, expected, what=what, example=example)
    if exact:
        rtol, atol = 0.0, 0.0
    elif rtol is None and atol is None:
        if isinstance(expected, torch.Tensor):
            loose = tolerance(expected.dtype)
            rtol, atol = loose.get("rtol"), loose.get("atol")
        else:
            rtol, atol = SCALAR_TOLERANCE["rtol"], SCALAR_TOLERANCE["atol"]
    if not isinstance(expected, torch.Tensor):
        actual, expected = float(actual), float(expected)
    try:
        torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    except AssertionError as err:
        raise CheckFailure(
            problem or f"{what} の結果が参照実装と一致しません / {what} does not match the reference",
            example=example,
            expected=expected,
            actual=actual,
            detail=_trim(str(err)),
        ) from None


def assert_credited_with_values(
    actual: Any,
    expected: Any,
    *,
    what: str,
    values_check: tuple[str, str],
    example: Mapping[str, Any] | None = None,
    exact: bool = False,
) -> None:
    """:func:`assert_matches` for the values that a property measured where the student's code runs comes with.

    Such a property (an operation count, a graph node, what was saved or how often dropout
    ran) earns points only together with the right values. When the values are wrong the
    property was not judged at all, so the failure says that, names the check of the
    values (``values_check``: its title, ja and en) and gives its own hint instead of the
    check's, which is about the property.
    """
    try:
        assert_matches(actual, expected, what=what, example=example, exact=exact)
    except CheckFailure as err:
        if isinstance(err, StudentError):
            raise
        ja, en = values_check
        raise CheckFailure(
            f"{what} の値が参照実装と一致しないので、このチェックの性質は確かめられず、点になりません / "
            f"{what} does not match the reference, so this check's property cannot be credited",
            example=err.example,
            expected=err.expected,
            actual=err.actual,
            detail=err.detail,
            hint=(
                f"まずチェック「{ja}」を直してください。値が正しくなれば、このチェックの性質も確かめられます。",
                f"Fix the check “{en}” first: once the values are right, this check's property is judged too.",
            ),
        ) from None


def assert_true(condition: bool, problem: str, **context: Any) -> None:
    """Raise :class:`CheckFailure` with ``problem`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailure(problem, **context)


def assert_raises(error: type[BaseException], fn: Callable[..., Any], *args: Any, case: str, **kwargs: Any) -> None:
    """``fn(*args, **kwargs)`` must raise ``error``; anything else, or nothing, fails naming ``case``."""
    example = {"case": case, "args": args, **kwargs}
    try:
        fn(*args, **kwargs)
    except CheckFailure as err:
        if not isinstance(err, StudentError):
            raise
        raised: BaseException = err.original
    except Exception as err:  # noqa: BLE001 - classes are not wrapped by the runner
        raised = err
    else:
        raise CheckFailure(
            f"{case}: {error.__name__} が送出されませんでした / {error.__name__} was not raised", example=example
        )
    if not isinstance(raised, error):
        raise CheckFailure(
            f"{case}: {error.__name__} を送出すべきところで {type(raised).__name__} が送出されました / "
            f"expected {error.__name__}, got {type(raised).__name__}: {raised}",
            example=example,
        )


def assert_op_count_constant(count: Callable[[int, int], int], *, what: str) -> None:
    """``count(B, T)`` (aten ops dispatched by the student's call) must be the same at small and large sizes."""
    small, large = count(2, 3), count(64, 50)
    assert_true(
        small == large,
        f"{what} のテンソル演算の数が入力の大きさで変わります / {what} dispatches a number of tensor operations "
        f"that grows with the input: {small} ops at size (2, 3) but {large} at (64, 50)",
    )


def _check_kind(actual: Any, expected: Any, *, what: str, example: Mapping[str, Any] | None) -> None:
    if isinstance(expected, torch.Tensor):
        if type(actual) not in (torch.Tensor, torch.nn.Parameter):
            raise CheckFailure(
                f"{what} は torch.Tensor を返す必要があります / {what} must return a torch.Tensor, "
                f"got {type(actual).__qualname__}",
                example=example,
            )
        if actual.shape != expected.shape:
            raise CheckFailure(
                f"{what} の形状が違います / {what} has the wrong shape: "
                f"expected {tuple(expected.shape)}, got {tuple(actual.shape)}",
                example=example,
                expected=expected,
                actual=actual,
            )
    elif isinstance(expected, numbers.Real):
        if isinstance(actual, bool) or not isinstance(actual, numbers.Real):
            raise CheckFailure(
                f"{what} は数値 (float) を返す必要があります / {what} must return a float, "
                f"got {type(actual).__qualname__}",
                example=example,
            )


def _trim(message: str) -> str:
    """assert_close's message without its first line (which we replace with our own)."""
    lines = [line for line in message.splitlines() if line.strip()]
    return "\n".join(lines[1:]) if len(lines) > 1 else message
