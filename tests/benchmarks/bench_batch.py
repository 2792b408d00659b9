"""Batch grading against a serial baseline that starts one fresh Python process per submission.

Builds N submissions of every exercise in the registry (model answers, correct variants, mutants
and stubs, each file made unique so that no two submissions share a content hash),
then, in one run on this machine:

- baseline: ``python -m grader check --target SUB --profile grading --isolate --json ...``,
  one fresh process per submission, one after the other (``--baseline-mode inprocess``
  drops ``--isolate``, i.e. the cheapest per-submission command);
- batch: ``python -m grader batch SUBS --out OUT --workers W`` for each W in --workers.

It checks that every way of grading gives the same scores, and prints wall times and
speed-ups. Usage: python tests/benchmarks/bench_batch.py [--submissions 50] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from grader import registry  # noqa: E402
from tests.grading import MUTANTS, VARIANTS, files, student_source  # noqa: E402


def build(root: Path, n: int, seed: int = 0) -> None:
    """``n`` student folders; each exercise file drawn from the answers, variants, mutants and the stub."""
    rng = random.Random(seed)
    for i in range(n):
        folder = root / f"student{i:03d}"
        folder.mkdir(parents=True)
        for exercise in registry.EXERCISES:
            pool = [ROOT / "solutions" / exercise.filename] * 3 + files(VARIANTS / exercise.id)
            pool += files(MUTANTS / exercise.id) + [ROOT / "exercises" / exercise.filename]
            source = rng.choice(pool)
            text = student_source(source) if source.is_relative_to(ROOT / "tests") else source.read_text(encoding="utf-8")
            (folder / exercise.filename).write_text(text + f"\n# student {i}\n", encoding="utf-8")


def baseline(subs: Path, out: Path, isolate: bool) -> tuple[float, dict[str, float]]:
    scores = {}
    start = time.perf_counter()
    for folder in sorted(p for p in subs.iterdir() if p.is_dir()):
        target = out / folder.name / "results.json"
        cmd = [sys.executable, "-m", "grader", "check", "--target", str(folder), "--profile", "grading", "--json", str(target)]
        subprocess.run(cmd + (["--isolate"] if isolate else []), cwd=ROOT, check=True, capture_output=True)
        scores[folder.name] = json.loads(target.read_text(encoding="utf-8"))["score"]
    return time.perf_counter() - start, scores


def batch(subs: Path, out: Path, workers: int) -> tuple[float, dict[str, float]]:
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out), "--workers", str(workers)]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    with (out / "grades.csv").open(encoding="utf-8") as f:
        return elapsed, {row["student_id"]: float(row["total"]) for row in csv.DictReader(f)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--baseline-mode", choices=["isolated", "inprocess"], default="isolated")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        build(subs, args.submissions)
        print(f"machine: {os.cpu_count()} cores, {args.submissions} submissions of all {len(registry.EXERCISES)} exercises")
        base_time, base_scores = baseline(subs, Path(tmp) / "baseline", args.baseline_mode == "isolated")
        print(f"baseline ({args.baseline_mode}, one process per submission): {base_time:.1f} s")
        for workers in args.workers:
            elapsed, scores = batch(subs, Path(tmp) / f"batch{workers}", workers)
            same = "same scores" if scores == base_scores else f"DIFFERENT scores: {scores} vs {base_scores}"
            if scores != base_scores:  # keep the evidence: the temporary folder goes when the run ends
                kept = Path(tempfile.mkdtemp(prefix=f"bench-batch{workers}-"))
                shutil.copytree(Path(tmp), kept, dirs_exist_ok=True)
                same += f" (submissions and results kept in {kept})"
            print(f"batch --workers {workers}: {elapsed:.1f} s, {base_time / elapsed:.2f}x the baseline, {same}")


if __name__ == "__main__":
    main()
