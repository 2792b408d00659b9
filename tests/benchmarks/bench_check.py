"""Wall time of `python -m grader check` on the bundled solutions (student profile), median of N runs.

Usage: python tests/benchmarks/bench_check.py [--runs 5] [--profile student] [EXERCISE ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("exercises", nargs="*")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", default="student")
    args = parser.parse_args()
    cmd = [sys.executable, "-m", "grader", "check", *args.exercises, "--target", "solutions", "--profile", args.profile]
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    print(f"machine: {os.cpu_count()} cores; command: {' '.join(cmd[1:])}")
    print(f"runs: {', '.join(f'{t:.2f}' for t in times)} s")
    print(f"median: {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
