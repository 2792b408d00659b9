"""Benchmark: reference MultiHeadAttention against ``nn.MultiheadAttention`` on CPU.

Not a test: run ``.venv/bin/python tests/benchmarks/bench_attention.py``. Both modules hold the same
weights (W_q, W_k, W_v stacked into ``in_proj_weight``, W_o as ``out_proj``) and are timed on
self-attention, B=8, L=S=256, d_model=256, 8 heads by default: the median of several
interleaved rounds after warm-up, the ratio taken round by round. ``nn.MultiheadAttention``
runs with ``need_weights=False`` (ours returns no weights either), and the default
``need_weights=True`` is shown for reference. Masks: none, a causal (L, S) mask and a
(B, 1, 1, S) key-padding mask, each in PyTorch's own convention for nn.MultiheadAttention.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from reference.transformer import MultiHeadAttention, causal_mask  # noqa: E402


def torch_twin(ours: MultiHeadAttention) -> nn.MultiheadAttention:
    """An ``nn.MultiheadAttention`` with exactly our weights."""
    theirs = nn.MultiheadAttention(ours.d_model, ours.num_heads, batch_first=True)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.cat([ours.W_q.weight, ours.W_k.weight, ours.W_v.weight]))
        theirs.in_proj_bias.copy_(torch.cat([ours.W_q.bias, ours.W_k.bias, ours.W_v.bias]))
        theirs.out_proj.weight.copy_(ours.W_o.weight)
        theirs.out_proj.bias.copy_(ours.W_o.bias)
    return theirs


def time_interleaved(cases: dict[str, Callable[[], object]], repeats: int, inner: int) -> dict[str, list[float]]:
    """Seconds per call of each case, ``repeats`` rounds of ``inner`` calls; the cases take turns in each round."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(repeats + 2):  # the first two rounds are warm-up
        for name, fn in cases.items():
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            if round_ >= 2:
                times[name].append((time.perf_counter() - start) / inner)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--inner", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: leave as is)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    B, L, d_model, H = args.batch, args.length, args.d_model, args.heads
    ours = MultiHeadAttention(d_model, H).eval()
    theirs = torch_twin(ours).eval()
    x = torch.randn(B, L, d_model)
    causal = causal_mask(L)  # True = may attend (ours)
    padding = torch.ones(B, 1, 1, L, dtype=torch.bool)
    padding[:, :, :, L - L // 4 :] = False  # the last quarter of every sequence is padding
    with torch.no_grad():  # the two agree before we time them
        torch.testing.assert_close(ours(x, x, x), theirs(x, x, x, need_weights=False)[0], rtol=1e-4, atol=1e-5)

    def forward(fn: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            with torch.no_grad():
                return fn()

        return run

    def forward_backward(module: nn.Module, fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[], object]:
        xg = x.clone().requires_grad_()

        def run() -> object:
            module.zero_grad(set_to_none=True)
            fn(xg).sum().backward()

        return run

    groups: dict[str, dict[str, Callable[[], object]]] = {
        "forward, no mask": {
            "nn.MultiheadAttention": forward(lambda: theirs(x, x, x, need_weights=False)),
            "reference": forward(lambda: ours(x, x, x)),
            "nn.MultiheadAttention, need_weights=True": forward(lambda: theirs(x, x, x)),
        },
        "forward, causal (L, S) mask": {
            "nn.MultiheadAttention": forward(lambda: theirs(x, x, x, attn_mask=~causal, need_weights=False)),
            "reference": forward(lambda: ours(x, x, x, causal)),
        },
        "forward, (B, 1, 1, S) key padding": {
            "nn.MultiheadAttention": forward(
                lambda: theirs(x, x, x, key_padding_mask=~padding.view(B, L), need_weights=False)
            ),
            "reference": forward(lambda: ours(x, x, x, padding)),
        },
        "forward + backward, no mask": {
            "nn.MultiheadAttention": forward_backward(theirs, lambda t: theirs(t, t, t, need_weights=False)[0]),
            "reference": forward_backward(ours, lambda t: ours(t, t, t)),
        },
        "forward + backward, causal (L, S) mask": {
            "nn.MultiheadAttention": forward_backward(
                theirs, lambda t: theirs(t, t, t, attn_mask=~causal, need_weights=False)[0]
            ),
            "reference": forward_backward(ours, lambda t: ours(t, t, t, causal)),
        },
    }
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    print(f"self-attention B={B}, L=S={L}, d_model={d_model}, num_heads={H}, float32, eval mode, dropout 0")
    print(f"median of {args.repeats} interleaved rounds of {args.inner} calls (ratio: median of per-round ratios)\n")
    print(f"{'case':42s} {'module':42s} {'median':>10s} {'/ nn.MHA':>9s}")
    for group, cases in groups.items():
        times = time_interleaved(cases, args.repeats, args.inner)
        base = times["nn.MultiheadAttention"]
        for name, samples in times.items():
            ratio = statistics.median(t / b for t, b in zip(samples, base))
            median = statistics.median(samples)
            print(f"{group:42s} {name:42s} {median * 1e3:7.2f} ms {ratio:8.2f}x")
            group = ""


if __name__ == "__main__":
    main()
