"""Measuring instruments for structural properties: op counts, saved tensors, time limits.

The op counts and saved tensors are measured where the student's code runs, so each is
cross-checked by instruments that code cannot switch off the same way (see
:mod:`grader.probing`); any disagreement raises
:class:`~grader.probing.tampering.Tampered`, a failure of the check that asked.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch

from grader.feedback import CheckFailure
from grader.probing.provenance import Provenance
from grader.probing.recorder import OpRecorder
from grader.probing.saved import assert_all_hooked
from grader.probing.seal import protect, verify
from grader.probing.tampering import tampered
from grader.probing.witness import UNOBSERVED, Testimony, Witness, event_name

_saved_tensors_hooks = torch.autograd.graph.saved_tensors_hooks


def aten_ops(fn: Callable[[], Any]) -> tuple[Any, list[str]]:
    """Run ``fn()`` and return its result and the aten operators it dispatched, in order.

    Raises Tampered when the witness saw operators the recorder did not, when the
    recorder's list is not what the witness saw it handle, when a tensor of the call
    was made out of sight of both, or when the grader's own code was rewritten (checked
    after the call: a driver checks it before, see :func:`grader.runner.driver`).
    """
    with Provenance() as provenance:
        recorder = OpRecorder(provenance)
        witness = Witness()
        with witness:
            result = _recorded(fn, recorder)
        _reconcile(recorder.ops, witness.testimony(recorder.ops))
        provenance.verify(result)
    verify()
    return result, recorder.ops


def saved_tensors(fn: Callable[[], Any], inputs: Iterable[torch.Tensor] = ()) -> tuple[Any, list[torch.Tensor]]:
    """Run ``fn()`` (a forward pass) and return its result and every tensor autograd saved for backward.

    Raises Tampered when the result's graph (outside the graphs of ``inputs``) keeps a
    tensor that did not go through the pack hook, or when the grader's code was rewritten.
    """
    saved: list[torch.Tensor] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved.append(t)
        return t

    with _saved_tensors_hooks(pack, _unpack):
        result = fn()
    assert_all_hooked(result, saved, inputs)
    verify()
    return result, saved


def _unpack(t: torch.Tensor) -> torch.Tensor:
    return t


def _recorded(fn: Callable[[], Any], recorder: OpRecorder) -> Any:
    """``fn()`` with ``recorder`` on the mode stack; raises Tampered if it was no longer on top when ``fn`` returned."""
    recorder.__enter__()
    try:
        return fn()
    finally:
        if recorder.on_top():
            recorder.__exit__(None, None, None)
        else:
            raise tampered(
                "演算子の記録",
                "the operator recorder",
                "記録用のディスパッチモードがモードのスタックから外されていました / the recording dispatch mode was "
                "taken off the mode stack",
            )


def _reconcile(ops: list[str], testimony: Testimony) -> None:
    """Raise Tampered unless the recorder's list is what the witness saw it handle, and nothing was hidden from it."""
    inside = testimony.inside_markers
    missing = [op for op, seen in zip(ops, inside) if seen is None and event_name(op) not in UNOBSERVED]
    if len(inside) != len(ops) or missing:
        raise tampered(
            "演算子の記録",
            "the operator recorder",
            f"記録された演算子の列が、実際に記録器を通った演算子と違います / the recorded operators are not the ones that "
            f"went through the recorder: {len(ops)} recorded, {len(inside)} went through"
            + (f"; not run as recorded: {', '.join(missing[:4])}" if missing else ""),
        )
    if testimony.hidden:
        counts = {name: testimony.hidden.count(name) for name in testimony.hidden}
        raise tampered(
            "演算子の記録",
            "the operator recorder",
            "記録器に見えないところで演算子が実行されました / operators ran out of the recorder's sight: "
            + ", ".join(f"{name} ×{n}" for name, n in list(counts.items())[:8]),
        )


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


protect(__name__)
