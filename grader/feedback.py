"""The one way a check reports a failure: :class:`CheckFailure`, rendered for people.

A failure names what went wrong, shows the (smallest) example that shows it, and
puts the expected value beside the actual one. Tensors are shown compactly:
shape, dtype, device, and their values when they are small enough to read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import torch

#: Tensors with at most this many elements are printed in full.
SHOW_VALUES_UP_TO = 32


class CheckFailure(AssertionError):
    """A property of the student's code did not hold.

    ``problem`` is a short bilingual sentence (Japanese / English); ``example`` maps
    argument names to the inputs that show it; ``expected``/``actual`` are what the
    reference gives and what the student's code gave; ``detail`` is any extra
    diagnosis, e.g. ``torch.testing.assert_close``'s "greatest difference" lines.
    ``hint`` (ja, en) replaces the check's own hint for this failure, when the check's
    hint addresses a cause that this failure is not (e.g. an operation count that was
    not judged because the values were wrong).
    """

    def __init__(
        self,
        problem: str,
        *,
        example: Mapping[str, Any] | None = None,
        expected: Any = None,
        actual: Any = None,
        detail: str = "",
        hint: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.example = dict(example or {})
        self.expected = expected
        self.actual = actual
        self.detail = detail
        self.hint = hint

    def render(self) -> str:
        """The failure as a few readable lines."""
        lines = [self.problem]
        if self.example:
            lines.append("例 / example:")
            width = max(len(name) for name in self.example)
            for name, value in self.example.items():
                lines.append(_indent(f"{name:<{width}} = {describe(value)}", 2))
        if self.expected is not None:
            lines.append(_indent(f"期待 / expected: {describe(self.expected)}", 0))
        if self.actual is not None:
            lines.append(_indent(f"実際 / actual:   {describe(self.actual)}", 0))
        if self.detail:
            lines.append(self.detail.strip())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def fail(problem: str, **context: Any) -> CheckFailure:
    """Build a :class:`CheckFailure`; use as ``raise fail("...", example=...)``."""
    return CheckFailure(problem, **context)


@contextlib.contextmanager
def _print_options() -> Iterator[None]:
    torch.set_printoptions(precision=4, threshold=SHOW_VALUES_UP_TO, edgeitems=3, linewidth=100, sci_mode=None)
    try:
        yield
    finally:
        torch.set_printoptions(profile="default")
        torch.set_printoptions(sci_mode=None)


def describe(value: Any) -> str:
    """A compact, human view of a value: tensors get their shape, dtype, device and (small) values.

    Never raises: a value that cannot be shown (a tensor on a GPU whose context a
    device-side assert has broken, an object whose ``__repr__`` fails) says so instead.
    """
    try:
        return _describe(value)
    except Exception as err:  # noqa: BLE001 - a failure must still be reported, without this value
        return f"<表示できません / cannot be shown: {type(err).__name__}: {str(err)[:200]}>"


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return _describe_tensor(value)
    if isinstance(value, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in value):
        inner = ", ".join(describe(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    if isinstance(value, type):
        return value.__qualname__
    if isinstance(value, float):
        return repr(value)
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _describe_tensor(t: torch.Tensor) -> str:
    dtype = str(t.dtype).removeprefix("torch.")
    header = f"tensor(shape={tuple(t.shape)}, {dtype}, {t.device}"
    if t.requires_grad:
        header += ", requires_grad"
    if t.numel() and not t.is_contiguous():
        header += ", non-contiguous"
    header += ")"
    if t.numel() == 0:
        return header
    values = t.detach().cpu()
    if values.is_floating_point() and values.dtype not in (torch.float32, torch.float64):
        values = values.float()
    with _print_options():
        body = repr(values) if t.numel() <= SHOW_VALUES_UP_TO else _summary(values)
    body = body.replace("\n", "\n   ")
    return f"{header}\n   {body}" if "\n" in body or len(body) > 60 else f"{header} {body}"


def _summary(values: torch.Tensor) -> str:
    flat = values.reshape(-1)
    head = ", ".join(_scalar(v) for v in flat[:6].tolist())
    if not values.is_floating_point():
        return f"[{head}, ...] min={flat.min().item()} max={flat.max().item()}"
    finite = flat[torch.isfinite(flat)]
    stats = ""
    if finite.numel():
        stats = f" min={finite.min().item():.4g} max={finite.max().item():.4g}"
    n_bad = flat.numel() - finite.numel()
    if n_bad:
        stats += f" non-finite={n_bad}"
    return f"[{head}, ...]{stats}"


def _scalar(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line for line in text.splitlines())


#: Values a driver's reply may hold (containers of these included): see grader/isolation/wire.py.
PLAIN = (type(None), bool, int, float, complex, str, bytes, torch.dtype, torch.device, torch.Size)


def plain(value: Any) -> Any:
    """``value`` with anything that is not data replaced by its description (for failure messages)."""
    if isinstance(value, torch.Tensor):
        return value.detach() if type(value) in (torch.Tensor, torch.nn.Parameter) else describe(value)
    if isinstance(value, PLAIN):
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value) if type(value) in (list, tuple) else [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return describe(value)
