"""Benchmark: what the cross-checks of grader/probing add to one probed call.

Not a test: run ``.venv/bin/python tests/benchmarks/bench_probes.py``. Times, on the model
answers, ``aten_ops`` (op recorder + RecordFunction witness + provenance + seal) against a bare
dispatch mode (the recorder as it was), and ``saved_tensors`` (pack hook + the graph's own
saved tensors + seal) against a bare pack hook: the median over rounds of the median of
``--calls`` calls each, after warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from grader.probes import aten_ops, saved_tensors  # noqa: E402
from solutions.ex1_last_token import last_token_masked  # noqa: E402
from solutions.ex2_swish import swish  # noqa: E402


class Bare(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        self.ops.append(str(func.overloadpacket))
        return func(*args, **(kwargs or {}))


def bare_ops(fn: Callable[[], Any]) -> tuple[Any, list[str]]:
    with Bare() as recorder:
        out = fn()
    return out, recorder.ops


def bare_saved(fn: Callable[[], Any]) -> tuple[Any, list[torch.Tensor]]:
    saved: list[torch.Tensor] = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: (saved.append(t), t)[1], lambda t: t):
        out = fn()
    return out, saved


def median_us(probe: Callable[[Callable[[], Any]], Any], fn: Callable[[], Any], calls: int, rounds: int) -> float:
    for _ in range(20):
        probe(fn)
    medians = []
    for _ in range(rounds):
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            probe(fn)
            times.append(time.perf_counter() - start)
        medians.append(statistics.median(times))
    return statistics.median(medians) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    x = torch.randn(2, 3, requires_grad=True)
    hidden = torch.randn(64, 50, 4)
    mask = torch.rand(64, 50) < 0.5
    mask[:, 0] = True
    cases = [
        ("aten_ops", "swish (2, 3)", bare_ops, aten_ops, lambda: swish(x, 1.0)),
        ("aten_ops", "last_token_masked (64, 50, 4)", bare_ops, aten_ops, lambda: last_token_masked(hidden, mask)),
        ("saved_tensors", "swish (2, 3)", bare_saved, saved_tensors, lambda: swish(x, 1.0)),
    ]
    for name, what, before, after, fn in cases:
        old, new = median_us(before, fn, args.calls, args.rounds), median_us(after, fn, args.calls, args.rounds)
        print(f"{name:14s} {what:30s} bare {old:6.0f} us   cross-checked {new:6.0f} us   +{new - old:.0f} us")


if __name__ == "__main__":
    main()
