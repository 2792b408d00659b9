"""Wall time of the kit's test suite (or its fast loop), beside a measure of the machine's speed taken around it.

The development machine's speed swings by more than 2x from one day (or hour) to the next,
so a suite time alone says little. Each run here is bracketed by the speed reference,
``python -m grader check --target solutions --profile grading`` (single-threaded, CPU-bound),
and reported with it: the suite's seconds, the reference before and after, the ratio of the
suite to their mean, and the suite's seconds scaled to the reference of 19.8 s measured on
2026-12-05 (a quiet day; the issue's targets were set on such days).

Usage: python tests/benchmarks/bench_suite.py [--fast] [--runs 1]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = [sys.executable, "-m", "grader", "check", "--target", "solutions", "--profile", "grading"]
#: The reference's wall seconds on 2026-12-05 (README, "Performance").
QUIET_DAY_REFERENCE_S = 19.8
WHOLE = [sys.executable, "-m", "pytest", "-n", "auto", "--dist", "loadgroup", "-q"]  # README's test command
FAST = [sys.executable, "-m", "pytest", "-m", "not slow", "-n", "2", "--dist", "loadgroup", "-q"]


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds (this process's children) of ``cmd`` run from the kit's root, and its last line."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    lines = proc.stdout.strip().splitlines()
    return wall, cpu, lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="the fast inner loop (-m 'not slow') instead of the whole suite")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    suite = FAST if args.fast else WHOLE
    ratios = []
    for run in range(1, args.runs + 1):
        before, _, _ = timed(REFERENCE)
        wall, cpu, last = timed(suite)
        after, _, _ = timed(REFERENCE)
        reference = (before + after) / 2
        ratios.append(wall / reference)
        print(
            f"run {run}: {'fast loop' if args.fast else 'whole suite'} {wall:.1f} s wall, {cpu:.0f} s CPU ({last}); "
            f"reference {before:.1f} s before, {after:.1f} s after: {wall / reference:.2f}x the reference, "
            f"{wall / reference * QUIET_DAY_REFERENCE_S:.0f} s at the quiet day's reference ({QUIET_DAY_REFERENCE_S} s)",
            flush=True,
        )
    if args.runs > 1:
        median = statistics.median(ratios)
        print(f"median: {median:.2f}x the reference, {median * QUIET_DAY_REFERENCE_S:.0f} s at the quiet day's reference")


if __name__ == "__main__":
    main()
