"""Measuring instruments for structural properties: op counts, saved tensors, time limits."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from grader.feedback import CheckFailure


class _OpRecorder(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        self.ops.append(str(func.overloadpacket))
        return func(*args, **(kwargs or {}))


def aten_ops(fn: Callable[[], Any]) -> tuple[Any, list[str]]:
    """Run ``fn()`` and return its result and the aten operators it dispatched, in order."""
    with _OpRecorder() as recorder:
        result = fn()
    return result, recorder.ops


def saved_tensors(fn: Callable[[], Any]) -> tuple[Any, list[torch.Tensor]]:
    """Run ``fn()`` (a forward pass) and return its result and every tensor autograd saved for backward."""
    saved: list[torch.Tensor] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        result = fn()
    return result, saved


@contextlib.contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Fail with a clear message if the block runs longer than ``seconds`` (a hang guard, not a benchmark).

    Uses SIGALRM, so it only guards the main thread on POSIX; elsewhere it does nothing.
    """
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise CheckFailure(
            f"{what} が {seconds:g} 秒以内に終わりませんでした / {what} did not finish within {seconds:g} s "
            "(無限ループや、ステップ数に比例するループはありませんか? / an infinite loop, or a loop that grows with the input?)"
        )

    started = time.monotonic()
    outer_remaining, _ = signal.getitimer(signal.ITIMER_REAL)  # an enclosing guard, if any
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds if not outer_remaining else min(seconds, outer_remaining))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_remaining:  # give the enclosing guard back the time it had left
            left = outer_remaining - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))
