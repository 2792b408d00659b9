"""Benchmark: reference swish (custom autograd Function) against ``F.silu`` on CPU.

Not a test: run ``.venv/bin/python benchmarks/bench_swish.py``. For 1M float32 elements it
times forward + backward (median of several interleaved rounds, after warm-up) and measures the bytes
each saves for backward with ``torch.autograd.graph.saved_tensors_hooks``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reference.swish import swish  # noqa: E402


def saved_bytes(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> int:
    """Bytes of the tensors autograd keeps between ``fn``'s forward and backward."""
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(x.detach().requires_grad_())
    return total


def time_interleaved(
    cases: dict[str, Callable[[torch.Tensor], torch.Tensor]], x: torch.Tensor, repeats: int, inner: int
) -> dict[str, list[float]]:
    """Seconds per forward+backward pass of each case, ``repeats`` rounds of ``inner`` passes.

    The cases take turns within each round, so a busy machine slows them all alike and
    the per-round ratios stay meaningful.
    """
    x = x.detach().requires_grad_()
    grad = torch.randn_like(x)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(repeats + 2):  # the first two rounds are warm-up
        for name, fn in cases.items():
            start = time.perf_counter()
            for _ in range(inner):
                torch.autograd.grad(fn(x), x, grad)
            if round_ >= 2:
                times[name].append((time.perf_counter() - start) / inner)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--numel", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--inner", type=int, default=10)
    args = parser.parse_args()
    torch.manual_seed(0)
    x = torch.randn(args.numel)
    cases: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "F.silu": F.silu,
        "reference swish(x, 1.0)": lambda t: swish(t, 1.0),
        "reference swish(x, 1.7)": lambda t: swish(t, 1.7),
        "reference swish(x, beta tensor, requires_grad)": lambda t: swish(t, torch.tensor(1.7, requires_grad=True)),
        "plain autograd x*sigmoid(x)": lambda t: t * torch.sigmoid(t),
    }
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.numel} float32 elements on CPU")
    print(f"median of {args.repeats} rounds of {args.inner} forward+backward passes per case (ratio: median per round)")
    times = time_interleaved(cases, x, args.repeats, args.inner)
    base = times["F.silu"]
    print(f"{'':48s} {'median':>9s}  {'/ F.silu':>8s}  saved for backward")
    for name, fn in cases.items():
        ratio = statistics.median(t / b for t, b in zip(times[name], base))
        median = statistics.median(times[name])
        print(f"{name:48s} {median * 1e3:6.3f} ms  {ratio:7.2f}x  {saved_bytes(fn, x):>9d} bytes")

if __name__ == "__main__":
    main()
