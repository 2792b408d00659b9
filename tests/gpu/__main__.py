"""The kit's GPU verification: ``PYTHONPATH=. python3 -m tests.gpu OUT_DIR``.

Runs with the GPU machine's own python3 and packages (torch, pytest, hypothesis, rich;
no nbformat, no install) from a checkout of the kit, in about 8 minutes on one GPU and
16 cores, and writes ``OUT_DIR/gpu_summary.md`` (and the same as ``gpu_summary.json``):

- speed: in-process grading of the model answers under the grading profile, with the
  CUDA cases and without them (``CUDA_VISIBLE_DEVICES=``), run side by side, and where
  the CUDA cases' time goes (per check and dtype);
- (a) model answers full and stubs zero, in-process and isolated, with every CUDA case run;
- (b) every mutant and variant fails exactly its declared checks with CUDA present
  (``EXPECTED_FAILURES`` plus ``EXPECTED_FAILURES_WITH_CUDA``), under the grading profile;
- (c) a small isolated ``batch`` (with its preflight) gives the same grades.csv on the GPU
  as with the GPU hidden.

On a machine without CUDA it runs too (``--quick``: a few mutants), to try the script out;
its summary then says that no CUDA case ran.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch

from tests.grading import MUTANTS, ROOT, VARIANTS, expected_failures, files, grade_files, student_source

EXERCISES = ("ex1_last_token", "ex2_swish", "ex3_residual_mlp", "ex4_sgdr", "ex5_transformer")
CHUNK = 4  # mutant/variant files per grading process


def grader(args: list[str], *, hide_gpu: bool = False, timeout: float) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if hide_gpu:
        env["CUDA_VISIBLE_DEVICES"] = ""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return proc, time.perf_counter() - start


def check(target: Path, out: Path, profile: str, *, isolate: bool = False, hide_gpu: bool = False, timeout: float = 420) -> dict[str, Any]:
    args = ["check", "--target", str(target), "--profile", profile, "--json", str(out), "--timings"] + (["--isolate"] if isolate else [])
    proc, seconds = grader(args, hide_gpu=hide_gpu, timeout=timeout)
    results = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    cases = [c for t in results.get("tests", []) for c in t["extra_data"]["cases"].items()]
    return {
        "command": f"{'CUDA_VISIBLE_DEVICES= ' if hide_gpu else ''}python -m grader check --profile {profile}" + (" --isolate" if isolate else ""),
        "exit": proc.returncode,
        "seconds": round(seconds, 1),
        "score": results.get("score"),
        "max": results.get("max_score"),
        "cuda_cases_run": sum(1 for case, outcome in cases if case.startswith("cuda") and outcome != "skipped"),
        "cuda_cases_skipped": sum(1 for case, outcome in cases if case.startswith("cuda") and outcome == "skipped"),
        "failed_checks": [t["name"] for t in results.get("tests", []) if t["status"] != "passed"][:20],
        "stderr_tail": proc.stderr[-1500:] if proc.returncode not in (0,) else "",
        "_results": results,
    }


def where_cuda_time_goes(results: dict[str, Any]) -> dict[str, Any]:
    """Seconds per device, per dtype case, and the checks whose CUDA cases cost the most."""
    by_case: dict[str, float] = defaultdict(float)
    by_check: list[tuple[float, str]] = []
    for test in results.get("tests", []):
        seconds = test["extra_data"].get("seconds", {})
        for case, s in seconds.items():
            by_case[case] += s
        cuda = sum(s for case, s in seconds.items() if case.startswith("cuda"))
        cpu = sum(s for case, s in seconds.items() if not case.startswith("cuda"))
        by_check.append((cuda, f"{test['name'][:90]}: cuda {cuda:.2f} s, cpu {cpu:.2f} s"))
    return {
        "seconds_by_case": {k: round(v, 2) for k, v in sorted(by_case.items())},
        "cuda_total": round(sum(v for k, v in by_case.items() if k.startswith("cuda")), 2),
        "cpu_total": round(sum(v for k, v in by_case.items() if not k.startswith("cuda")), 2),
        "costliest_cuda_checks": [line for _, line in sorted(by_check, reverse=True)[:15]],
    }


def _grade_chunk(work: Path, chunk: list[Path]) -> tuple[dict, str]:
    """In-process first; a chunk whose process broke (a device-side assert poisons its CUDA context) isolated."""
    try:
        return grade_files(Path(tempfile.mkdtemp(dir=work)), chunk, "grading", 480), ""
    except AssertionError as err:
        note = f"graded isolated after the in-process run broke: {str(err)[-300:]}"
        return grade_files(Path(tempfile.mkdtemp(dir=work)), chunk, "grading", 480, isolate=True), note


def mutants_and_variants(work: Path, sources: list[Path]) -> dict[str, Any]:
    chunks = [sources[i : i + CHUNK] for i in range(0, len(sources), CHUNK)]
    mismatches, graded, notes = [], 0, []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(len(chunks), (os.cpu_count() or 2) - 4))) as pool:
        futures = {pool.submit(_grade_chunk, work, chunk): chunk for chunk in chunks}
        for future in concurrent.futures.as_completed(futures):
            try:
                results, note = future.result()
            except Exception as err:  # noqa: BLE001 - reported, not fatal: the other chunks still say something
                mismatches.append({"file": ", ".join(s.stem for s in futures[future]), "error": str(err)[-1500:]})
                continue
            if note:
                notes.append(f"{[s.stem for s in futures[future]]}: {note}")
            for source, result in results.items():
                graded += 1
                expected = expected_failures(source) if source.is_relative_to(MUTANTS) else set()
                if result.failed != expected:
                    mismatches.append({
                        "file": str(source.relative_to(ROOT)),
                        "failed": sorted(result.failed),
                        "expected": sorted(expected),
                        "outputs": {c: result.output(c)[:1200] for c in sorted(result.failed ^ expected) if c in result.failed},
                    })  # fmt: skip
    return {"graded": graded, "of": len(sources), "mismatches": mismatches, "notes": notes}


def small_batch(work: Path) -> dict[str, Any]:
    """A class of 8, graded isolated on the GPU and with the GPU hidden: the same grades.csv."""
    submissions = work / "class"
    solutions = {e: (ROOT / "solutions" / f"{e}.py").read_text(encoding="utf-8") for e in EXERCISES}
    stubs = {e: (ROOT / "exercises" / f"{e}.py").read_text(encoding="utf-8") for e in EXERCISES}
    students: dict[str, dict[str, str]] = {"correct": solutions, "stubs": stubs}
    for source in [*files(VARIANTS)[::4], *[m for m in files(MUTANTS) if "WITH_CUDA" not in m.read_text()][::12]][:6]:
        students[f"{source.parent.parent.name}_{source.stem}"] = {source.parent.name: student_source(source)}
    for name, sources in students.items():
        (submissions / name).mkdir(parents=True)
        for exercise_id, text in sources.items():
            (submissions / name / f"{exercise_id}.py").write_text(text, encoding="utf-8")
    runs = {}
    for label, hide in (("gpu", False), ("cpu", True)):
        out = work / f"out_{label}"
        proc, seconds = grader(["batch", str(submissions), "--out", str(out), "--workers", "4", "--profile", "smoke"], hide_gpu=hide, timeout=420)
        grades = (out / "grades.csv").read_text(encoding="utf-8") if (out / "grades.csv").exists() else ""
        runs[label] = {"exit": proc.returncode, "seconds": round(seconds, 1), "grades_csv": grades,
                       "stdout_tail": proc.stdout[-1500:] if proc.returncode else ""}  # fmt: skip
    return {"students": len(students), "same": runs["gpu"]["grades_csv"] == runs["cpu"]["grades_csv"] != "", **runs}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.gpu")
    parser.add_argument("out", type=Path)
    parser.add_argument("--quick", action="store_true", help="a few mutants only (to try the script out on a CPU)")
    parser.add_argument("--deadline", type=float, default=480, help="seconds; then the summary so far is written and the run ends")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    summary: dict[str, Any] = {
        "machine": {
            "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA",
            "torch": torch.__version__,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d"),
        }
    }
    work = Path(tempfile.mkdtemp(prefix="kit-gpu-"))

    def out_of_time() -> None:
        summary["deadline_reached"] = True
        summary["seconds"] = round(time.perf_counter() - started, 1)
        (args.out / "gpu_summary.md").write_text(render(summary), encoding="utf-8")
        print(render(summary), flush=True)
        os._exit(2)

    threading.Timer(args.deadline, out_of_time).start()
    try:
        # Speed first, alone: the same in-process grading with and without the CUDA cases, side by side.
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            with_cuda = pool.submit(check, ROOT / "solutions", work / "with.json", "grading")
            without = pool.submit(check, ROOT / "solutions", work / "without.json", "grading", hide_gpu=True)
            with_cuda, without = with_cuda.result(), without.result()
        summary["speed"] = {
            "with_cuda_s": with_cuda["seconds"],
            "without_cuda_s": without["seconds"],
            "overhead": round(with_cuda["seconds"] / without["seconds"] - 1, 3) if without["seconds"] else None,
            "where": where_cuda_time_goes(with_cuda.pop("_results")),
        }
        without.pop("_results")
        summary["a"] = {"solutions in-process (grading)": with_cuda, "solutions in-process, GPU hidden (grading)": without}

        sources = files(MUTANTS) + files(VARIANTS)
        if args.quick:
            sources = sources[::10]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            jobs = {
                "solutions isolated (grading)": pool.submit(check, ROOT / "solutions", work / "iso.json", "grading", isolate=True),
                "stubs in-process (smoke)": pool.submit(check, ROOT / "exercises", work / "stubs.json", "smoke"),
                "stubs isolated (smoke)": pool.submit(check, ROOT / "exercises", work / "stubs_iso.json", "smoke", isolate=True),
            }
            batch = pool.submit(small_batch, work)
            summary["b"] = mutants_and_variants(work, sources)
            for name, future in jobs.items():
                summary["a"][name] = future.result()
                summary["a"][name].pop("_results")
            summary["c"] = batch.result()
    finally:
        summary["seconds"] = round(time.perf_counter() - started, 1)
        (args.out / "gpu_summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (args.out / "gpu_summary.md").write_text(render(summary), encoding="utf-8")
        shutil.rmtree(work, ignore_errors=True)
    print(render(summary), flush=True)
    os._exit(0 if verdict(summary) else 1)  # not sys.exit: the deadline's timer thread must not keep it alive


def verdict(summary: dict[str, Any]) -> bool:
    a = summary.get("a", {})
    full = all(r["exit"] == 0 and r["score"] == r["max"] for k, r in a.items() if k.startswith("solutions"))
    zero = all(r["exit"] == 0 and r["score"] == 0 for k, r in a.items() if k.startswith("stubs"))
    return full and zero and not summary.get("b", {}).get("mismatches", [1]) and summary.get("c", {}).get("same", False)


def render(summary: dict[str, Any]) -> str:
    m = summary["machine"]
    lines = [f"# GPU verification: {m['device']}, torch {m['torch']}, Python {m['python']}, {m['cpus']} CPUs, {m['date']}",
             f"took {summary.get('seconds')} s; verdict: {'PASS' if verdict(summary) else 'FAIL'}"
             + (" (deadline reached: the parts below are what finished)" if summary.get("deadline_reached") else ""), ""]  # fmt: skip
    if "speed" in summary:
        s = summary["speed"]
        lines += [f"speed (grading profile, in-process, model answers): with CUDA {s['with_cuda_s']} s, without "
                  f"{s['without_cuda_s']} s, overhead {s['overhead']:.0%}" if s["overhead"] is not None else "speed: n/a",
                  f"  seconds by case: {s['where']['seconds_by_case']}", *("  " + x for x in s["where"]["costliest_cuda_checks"]), ""]  # fmt: skip
    for name, r in summary.get("a", {}).items():
        lines.append(f"(a) {name}: {r['score']} / {r['max']}, exit {r['exit']}, CUDA cases run {r['cuda_cases_run']}, "
                     f"skipped {r['cuda_cases_skipped']}, {r['seconds']} s" + (f"\n    failed: {r['failed_checks']}" if r["failed_checks"] and r['score'] else "")
                     + (f"\n    stderr: {r['stderr_tail']}" if r["stderr_tail"] else ""))  # fmt: skip
    b = summary.get("b")
    if b:
        lines += ["", f"(b) mutants and variants: {b['graded']} of {b['of']} graded, {len(b['mismatches'])} mismatches"]
        lines += [f"    {x['file']}: failed {x.get('failed')}, expected {x.get('expected')} {x.get('error', '')[-600:]}" for x in b["mismatches"]]
        lines += [f"    note: {n}" for n in b.get("notes", [])]
    c = summary.get("c")
    if c:
        lines += ["", f"(c) batch of {c['students']}: same grades.csv on GPU and CPU: {c['same']} "
                  f"(gpu exit {c['gpu']['exit']}, {c['gpu']['seconds']} s; cpu exit {c['cpu']['exit']}, {c['cpu']['seconds']} s)"]  # fmt: skip
        if not c["same"]:
            lines += ["gpu:", c["gpu"]["grades_csv"], c["gpu"]["stdout_tail"], "cpu:", c["cpu"]["grades_csv"], c["cpu"]["stdout_tail"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
