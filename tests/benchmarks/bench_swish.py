"""Benchmark: reference swish (custom autograd Function) against ``F.silu`` on CPU.

Not a test: run ``.venv/bin/python tests/benchmarks/bench_swish.py [--threads N]``. For 1M float32
elements it times forward + backward (median of several interleaved rounds, after warm-up)
and measures the bytes each saves for backward with ``torch.autograd.graph.saved_tensors_hooks``.
The goal: reference swish(x, 1.0) within 1.5x of F.silu, saving no more than F.silu does.

Two more rows explain the reference's design: the same Function with a backward made of
ordinary tensor operations (what the reference does only when building a graph for
double backward), and plain autograd of ``x * sigmoid(x)``, which saves three times as much.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from reference.swish import swish  # noqa: E402


class PureOpsSwish(torch.autograd.Function):
    """The reference's forward, with a backward of ordinary tensor operations (no fused kernel)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        return torch.sigmoid(x).mul_(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x)
        out = torch.addcmul(x, x, s, value=-1)  # x * (1 - s)
        return out.add_(1).mul_(s).mul_(grad)  # s * (1 + x * (1 - s)) * grad, in place


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
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(args.numel)
    cases: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "F.silu": F.silu,
        "reference swish(x, 1.0)": lambda t: swish(t, 1.0),
        "reference swish(x, 1.7)": lambda t: swish(t, 1.7),
        "reference swish(x, beta tensor, requires_grad)": lambda t: swish(t, torch.tensor(1.7, requires_grad=True)),
        "same Function, backward of plain tensor ops": PureOpsSwish.apply,
        "plain autograd x * sigmoid(x)": lambda t: t * torch.sigmoid(t),
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
    ratio = statistics.median(t / b for t, b in zip(times["reference swish(x, 1.0)"], base))
    same_memory = saved_bytes(cases["reference swish(x, 1.0)"], x) <= saved_bytes(F.silu, x)
    verdict = "within" if ratio <= 1.5 else "NOT within"
    print(f"reference swish(x, 1.0): {ratio:.2f}x F.silu, {verdict} 1.5x; saves no more than F.silu: {same_memory}")


if __name__ == "__main__":
    main()
