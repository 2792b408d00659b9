"""What the OS sandbox costs: the fork server's start, a worker's start, and the budget the model answers use.

- fork server start, sandboxed (bubblewrap) and not: Python, torch, the check modules and
  the warm-up, once per grading process (median of --runs);
- a worker's start (fork, set-up, the student's file sent and loaded) and one round trip,
  sandboxed and not (median over --runs workers);
- the wall-clock time the model answers' code takes across all checks under the grading
  profile (what ``--budget`` must leave room for).

Usage: python tests/benchmarks/bench_sandbox.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from grader import registry  # noqa: E402
from grader.isolation import fork_server  # noqa: E402
from grader.isolation.runner import IsolatedRunner  # noqa: E402


def server_start(sandboxed: bool, runs: int) -> float:
    times = []
    for _ in range(runs):
        fork_server.close_all()
        start = time.perf_counter()
        fork_server.server(sandboxed, False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def worker_start(sandboxed: bool, runs: int) -> tuple[float, float]:
    ex1 = registry.find("ex1")
    fork_server.server(sandboxed, False)
    starts, calls = [], []
    hidden, lengths = torch.randn(2, 3, 4), torch.tensor([1, 3])
    for _ in range(runs):
        runner = IsolatedRunner(ROOT / "solutions", sandbox=sandboxed)
        start = time.perf_counter()
        submission = runner.load(ex1)
        starts.append(time.perf_counter() - start)
        start = time.perf_counter()
        submission.last_token(hidden, lengths)
        calls.append(time.perf_counter() - start)
        runner.close()
    return statistics.median(starts), statistics.median(calls)


def budget_used() -> float:
    from grader.session import grade

    spent = []
    close = IsolatedRunner.close

    def recording_close(self: IsolatedRunner) -> None:
        spent.append(self._spent)  # noqa: SLF001
        close(self)

    IsolatedRunner.close = recording_close
    try:
        grade(list(registry.EXERCISES), ROOT / "solutions", "grading", ["--isolate"])
    finally:
        IsolatedRunner.close = close
    return sum(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for sandboxed in (True, False):
        name = "sandboxed" if sandboxed else "without sandbox"
        print(f"fork server start, {name}: {server_start(sandboxed, args.runs):.2f} s (median of {args.runs})")
        start, call = worker_start(sandboxed, args.runs * 4)
        print(f"worker start + load ex1, {name}: {start * 1000:.1f} ms; one call: {call * 1000:.2f} ms (medians)")
    fork_server.close_all()
    print(f"the model answers' code, all exercises, grading profile: {budget_used():.1f} s of the budget")
    fork_server.close_all()


if __name__ == "__main__":
    main()
