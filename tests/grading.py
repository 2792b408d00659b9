"""Grade folders the way an instructor would (the CLI, grading profile) and read back the JSON.

Grading one submission costs a Python start-up and ``import torch`` (~2.5 s here)
before its checks run; the mutant and variant suites grade dozens of files, so
:func:`grade_files` grades a whole group of them in one process, one pytest session
each (``python -m tests.grading``), exactly as ``python -m grader check`` would.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "tests" / "mutants"
VARIANTS = ROOT / "tests" / "variants"
REAL = ROOT / "tests" / "real"

#: The xdist group of the tests that read conftest's ``solutions_checked``: one worker makes that run.
SOLUTIONS_RUN = pytest.mark.xdist_group("cli_solutions")

#: Case ids of half precision: a mistake may show there and not in float32/float64 (rounding).
HALF_CASES = ("float16", "bfloat16")


@dataclass
class Graded:
    """One exercise's outcome: check name -> (score, max_score), and the raw JSON (which may hold other exercises)."""

    exercise_id: str
    checks: dict[str, tuple[float, float]]
    raw: dict

    @property
    def failed(self) -> set[str]:
        return {name for name, (score, top) in self.checks.items() if score < top}

    def test(self, check: str) -> dict:
        """results.json's entry for this exercise's ``check`` (two exercises may have checks of one name)."""
        return next(t for t in self.raw["tests"] if t["tags"][0] == self.exercise_id and t["tags"][2] == check)

    def output(self, check: str) -> str:
        return self.test(check)["output"]

    def cases(self, check: str) -> dict[str, str]:
        """The outcome of each case of ``check`` that ran (results.json's ``extra_data.cases``)."""
        test = self.test(check)
        return {case: outcome for case, outcome in test["extra_data"]["cases"].items() if outcome != "skipped"}

    def uneven(self) -> dict[str, dict[str, str]]:
        """Checks whose full-precision cases did not all end alike: check -> {case: outcome}.

        A mistake that does not depend on the dtype must cost the same share of a check in
        every case (the contract's scenarios are explicit examples of every case).
        """
        uneven = {}
        for check in self.checks:
            cases = {c: o for c, o in self.cases(check).items() if not c.endswith(HALF_CASES)}
            if len(set(cases.values())) > 1:
                uneven[check] = cases
        return uneven


def check(
    exercises: list[str],
    target: Path | None,
    out: Path,
    profile: str = "grading",
    timeout: float = 600,
    isolate: bool = False,
    plots: Path | None = None,
    oracle_calls: Path | None = None,
) -> tuple[subprocess.CompletedProcess[str], dict]:
    """Run ``python -m grader check`` (``--isolate``, ``--plots``, if asked) from the kit's root; it must exit 0.

    ``target=None`` names no target: the CLI grades its default, ``exercises/``. ``oracle_calls``:
    run it as ``python -m tests.traced_cli``, which also writes there the oracle calls each check
    made (see tests/traced_cli.py). Returns the finished process (its table on stdout) and the
    results.json it wrote to ``out``.
    """
    program = ["tests.traced_cli", str(oracle_calls)] if oracle_calls else ["grader"]
    cmd = [sys.executable, "-m", *program, "check", *exercises, "--json", str(out), "--profile", profile]
    cmd += ["--target", str(target)] if target else []
    cmd += ["--isolate"] if isolate else []
    cmd += ["--plots", str(plots)] if plots else []
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"grader failed to run ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc, json.loads(out.read_text(encoding="utf-8"))


def grade(
    target: Path, exercises: list[str], profile: str = "grading", timeout: float = 600, isolate: bool = False
) -> dict:
    """``python -m grader check`` (:func:`check`) of ``target``: its results.json (written into ``target``)."""
    return check(exercises, target, target / "results.json", profile, timeout, isolate)[1]


@dataclass(frozen=True)
class Checked:
    """A ``grader check --json --plots`` run: its table (stdout), its results.json (the file and
    its content), the folder it drew its plots in, and, when traced, its oracle calls
    (tests/traced_cli.py: ``{"calls": ..., "declared": ...}``)."""

    stdout: str
    json_file: Path
    results: dict
    plots: Path
    oracle: dict | None = None


def check_with_plots(
    exercises: list[str], target: Path | None, profile: str, workdir: Path, traced: bool = False
) -> Checked:
    """``grader check EXERCISES --json --plots`` of ``target`` (``None``: the CLI's default, ``exercises/``),
    graded in place (grading writes nothing there), its JSON, plots and trace in ``workdir``; it must exit 0."""
    out, plots = workdir / "results.json", workdir / "plots"
    calls = workdir / "oracle_calls.json" if traced else None
    proc, results = check(exercises, target, out, profile, plots=plots, oracle_calls=calls)
    return Checked(proc.stdout, out, results, plots, json.loads(calls.read_text(encoding="utf-8")) if calls else None)


def by_exercise(raw: dict, exercise_id: str) -> Graded:
    checks = {t["tags"][2]: (t["score"], t["max_score"]) for t in raw["tests"] if t["tags"][0] == exercise_id}
    return Graded(exercise_id, checks, raw)


def student_source(source: Path) -> str:
    """The exercise file a mutant or variant stands for.

    Most are complete files. A mutant that is the model answer with one small mistake
    is written as a patch instead: ``PATCH = [(old, new), ...]``, each ``old`` found
    exactly once in ``solutions/<exercise_id>.py`` and replaced by ``new``.
    """
    patch = constants(source, "PATCH").get("PATCH")
    if patch is None:
        return source.read_text(encoding="utf-8")
    solution = ROOT / "solutions" / f"{source.parent.name}.py"
    text = solution.read_text(encoding="utf-8")
    for old, new in patch:
        count = text.count(old)
        assert count == 1, f"{source.name}: PATCH text occurs {count} times in {solution.name} (must be once):\n{old}"
        text = text.replace(old, new)
    return text


def grade_files(
    workdir: Path,
    sources: list[Path],
    profile: str = "grading",
    timeout: float = 900,
    isolate: bool = False,
    timeout_s: float | None = None,
) -> dict[Path, Graded]:
    """Grade each exercise file in ``sources`` (named ``tests/<kind>/<exercise_id>/<name>.py``) in one process.

    ``isolate`` grades as ``batch`` does, with the student's code in worker processes;
    ``timeout_s`` is then the time limit of one call.
    """
    jobs = []
    for i, source in enumerate(sources):
        exercise_id = source.parent.name
        target = workdir / f"{i:03d}_{source.stem}"
        target.mkdir()
        (target / f"{exercise_id}.py").write_text(student_source(source), encoding="utf-8")
        jobs.append({"exercise": exercise_id, "target": str(target), "json": str(target / "results.json")})
    spec = workdir / "jobs.json"
    spec.write_text(json.dumps({"profile": profile, "isolate": isolate, "timeout_s": timeout_s, "jobs": jobs}), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "tests.grading", str(spec)], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"grading failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return {
        source: by_exercise(json.loads(Path(job["json"]).read_text(encoding="utf-8")), job["exercise"])
        for source, job in zip(sources, jobs)
    }


def expected_failures(source: Path, *, cuda: bool | None = None) -> set[str]:
    """The checks a mutant file declares it must fail (read without importing it).

    ``EXPECTED_FAILURES`` holds on every machine; a mutant whose mistake also shows in
    the half-precision CUDA cases adds those checks as ``EXPECTED_FAILURES_WITH_CUDA``.
    """
    declared = constants(source, "EXPECTED_FAILURES")
    if "EXPECTED_FAILURES" not in declared:
        raise AssertionError(f"{source} declares no EXPECTED_FAILURES")
    expected = set(declared["EXPECTED_FAILURES"])
    if torch.cuda.is_available() if cuda is None else cuda:
        expected |= set(declared.get("EXPECTED_FAILURES_WITH_CUDA", ()))
    return expected


def constants(source: Path, prefix: str) -> dict[str, object]:
    """Module-level constants whose names start with ``prefix``, read without importing the file."""
    text = source.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text)
    except SyntaxError:  # a deliberately broken file: read its one-line constants alone
        tree = ast.parse("\n".join(line for line in text.splitlines() if line.startswith(prefix)))
    return {
        target.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id.startswith(prefix)
    }


def check_names(exercise_id: str) -> set[str]:
    """The checks of an exercise: the ``test_*`` functions its check module defines or imports from its
    section modules (read, not imported)."""
    path = ROOT / "grader" / "checks" / exercise_id / "checks.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom):
            names |= {alias.asname or alias.name for alias in node.names}
    return {name for name in names if name.startswith("test_")}


def check_points(exercise_id: str) -> dict[str, float]:
    """Each check's points, read from its ``@check(points, ...)`` decorator (in whichever module of the package)."""
    names = check_names(exercise_id)
    points = {}
    for path in sorted((ROOT / "grader" / "checks" / exercise_id).glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            for decorator in getattr(node, "decorator_list", []):
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "check" and node.name in names:
                    points[node.name] = float(ast.literal_eval(decorator.args[0]))
    return points


def dtype_dependent(source: Path) -> set[str]:
    """The checks a file declares its mistake really depends on the dtype for (``DTYPE_DEPENDENT``; none by default)."""
    return set(constants(source, "DTYPE_DEPENDENT").get("DTYPE_DEPENDENT", ()))


def expected_score(source: Path) -> float:
    """What a mutant or hostile file must score: its ``EXPECTED_SCORE``, or all points minus its expected failures."""
    declared = constants(source, "EXPECTED_SCORE").get("EXPECTED_SCORE")
    if declared is not None:
        return float(declared)
    points = check_points(source.parent.name)
    return sum(points.values()) - sum(points[name] for name in expected_failures(source))


def files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*/*.py") if not p.name.startswith("_"))


def _main(spec_path: str) -> None:
    """Grade every job of a jobs.json in this one process (see :func:`grade_files`).

    ``python -m tests.grading write MUTANT.py DIR`` instead writes the exercise file a
    mutant stands for into DIR, to grade it by hand.
    """
    from grader import registry, report
    from grader.session import grade as grade_in_process

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    extra = ["--isolate"] if spec.get("isolate") else []
    if spec.get("timeout_s"):
        extra += ["--call-timeout", str(spec["timeout_s"])]
    for job in spec["jobs"]:
        results = grade_in_process([registry.find(job["exercise"])], Path(job["target"]), spec["profile"], extra)
        report.write_json(results, Path(job["json"]))


def _verify(exercise: str, isolate: bool) -> int:
    """Grade every mutant, variant and real-code file of one exercise and print each whose outcome is not the expected one.

    Expected: exactly its ``EXPECTED_FAILURES`` (none for a variant), each lost alike in
    every full-precision case unless the file declares it ``DTYPE_DEPENDENT``.
    """
    import tempfile

    from grader import registry

    exercise_id = registry.find(exercise).id
    sources = [s for s in files(MUTANTS) + files(VARIANTS) + files(REAL) if s.parent.name == exercise_id]
    with tempfile.TemporaryDirectory() as tmp:
        graded = grade_files(Path(tmp), sources, isolate=isolate)
    wrong = 0
    for source, result in graded.items():
        expected = set() if source.is_relative_to(VARIANTS) else expected_failures(source)
        uneven = {c: cases for c, cases in result.uneven().items() if c not in dtype_dependent(source)}
        if result.failed != expected or uneven:
            wrong += 1
            print(f"MISMATCH {source.relative_to(ROOT)}: failed {sorted(result.failed)}, expected {sorted(expected)}")
            for check, cases in sorted(uneven.items()):
                print(f"  {check} ended differently by case: {cases}")
            for check in sorted(result.failed ^ expected):
                if check in result.failed:
                    print("  " + result.output(check).replace("\n", "\n  ")[:3000])
    print(f"{len(sources) - wrong} of {len(sources)} files as expected ({'isolated' if isolate else 'in-process'})")
    return 1 if wrong else 0


if __name__ == "__main__":
    if sys.argv[1] == "verify":  # python -m tests.grading verify ex2 [--isolate]
        sys.exit(_verify(sys.argv[2], "--isolate" in sys.argv[3:]))
    elif sys.argv[1] == "write":
        source, folder = Path(sys.argv[2]), Path(sys.argv[3])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{source.parent.name}.py").write_text(student_source(source), encoding="utf-8")
    else:
        _main(sys.argv[1])
