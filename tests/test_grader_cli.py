"""The grader as students and instructors use it: CLI, JSON, failures that stay contained.

A grading run that several tests read is made once, in a fixture, and its tests share an
``xdist_group`` so that one worker makes it: the model answers (conftest's ``solutions_checked``,
also read by tests/test_check_specs.py; ex1 named by both its ids) and the stubs (neither
exercises nor target named: the CLI's defaults), each with ``--json`` and ``--plots``; a mutant
of ex1 under the grading profile; a folder of awkward files (broken, missing, notebooks).

The model answers' run here, in the fast loop, uses the smoke profile (the CLI, its JSON and
its plots are what it tests); their full marks on every example of the grading profile are
held by the slow :func:`test_isolated_grading_gives_solutions_full_marks_and_stubs_zero`, the
way a class is graded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import registry
from tests.grading import MUTANTS, ROOT, SOLUTIONS_RUN, Checked, by_exercise, check_with_plots, grade

ALL = [ex.id for ex in registry.EXERCISES]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


SOLUTIONS = SOLUTIONS_RUN  # one worker grades the model answers once for these (conftest's solutions_checked)
STUBS = pytest.mark.xdist_group("cli_stubs")  # one worker grades the stubs once for these
EX1_MUTANT = pytest.mark.xdist_group("cli_ex1_mutant")  # one worker grades the mutant once for these
AWKWARD = pytest.mark.xdist_group("cli_awkward")  # one worker grades the awkward folder once for these


@pytest.fixture(scope="module")
def stubs_checked(tmp_path_factory) -> Checked:
    """``grader check --json --plots`` with neither exercises nor a target named: every stub, in ``exercises/``."""
    return check_with_plots([], None, "grading", tmp_path_factory.mktemp("stubs_checked"))


@pytest.fixture
def solutions_results(solutions_checked) -> dict:
    return solutions_checked.results


@pytest.fixture
def stub_results(stubs_checked) -> dict:
    return stubs_checked.results


@SOLUTIONS
def test_solutions_get_full_marks_on_every_check(solutions_results):
    failed = [t["name"] + "\n" + t["output"] for t in solutions_results["tests"] if t["score"] != t["max_score"]]
    assert failed == []
    assert solutions_results["score"] == solutions_results["max_score"] > 0
    assert set(solutions_results["exercises"]) == set(ALL)


@STUBS
def test_stubs_get_zero_on_every_check(stub_results):
    scored = [t["name"] for t in stub_results["tests"] if t["score"] != 0]
    assert scored == []
    assert all(t["status"] == "failed" for t in stub_results["tests"])
    assert "not implemented yet" in stub_results["tests"][0]["output"]


@pytest.mark.slow  # every exercise in workers; tests/test_grader_errors.py keeps the isolated path in the fast loop
@pytest.mark.parametrize("folder, full_marks", [("solutions", True), ("exercises", False)])
def test_isolated_grading_gives_solutions_full_marks_and_stubs_zero(folder, full_marks, tmp_path):
    """The same checks with the code in worker processes, as ``batch`` grades: the model answers
    keep their full marks on every example of the grading profile."""
    for ex in registry.EXERCISES:
        shutil.copy(ROOT / folder / ex.filename, tmp_path)
    # zero needs no more than a few examples each; full marks are held to the grading profile
    results = grade(tmp_path, ALL, isolate=True, profile="grading" if full_marks else "smoke")
    wrong = [t["name"] + "\n" + t["output"] for t in results["tests"] if (t["score"] == t["max_score"]) != full_marks]
    assert wrong == []
    assert all(not e["violations"] for e in results["exercises"].values())


@SOLUTIONS
def test_results_json_is_gradescope_shaped(solutions_results):
    assert set(solutions_results) >= {"score", "max_score", "tests", "exercises"}
    for t in solutions_results["tests"]:
        assert set(t) >= {"name", "score", "max_score", "status", "output", "tags"}
        assert t["status"] in ("passed", "failed")
        assert t["tags"][0] in ALL and t["tags"][1] == registry.find(t["tags"][0]).short
    for ex_id, summary in solutions_results["exercises"].items():
        tests = [t for t in solutions_results["tests"] if t["tags"][0] == ex_id]
        assert summary["max_score"] == pytest.approx(sum(t["max_score"] for t in tests))


@pytest.fixture(scope="module")
def awkward(tmp_path_factory) -> dict:
    """One student's folder of awkward files, graded once (student profile) for the tests below: ex1 a
    notebook holding the model answer among markdown, magics and prints; ex2 a syntax error; ex3
    missing; ex4 a file that calls ``sys.exit`` at import; ex5 a notebook whose second cell raises."""
    target = tmp_path_factory.mktemp("awkward")
    write_notebook(
        target / "ex1_last_token.ipynb",
        ("markdown", "# 演習問題 1"),
        ("code", "%matplotlib inline\n!pip list"),
        ("code", (ROOT / "solutions" / "ex1_last_token.py").read_text(encoding="utf-8")),
        ("code", "print(last_token)"),
    )
    (target / "ex2_swish.py").write_text("def swish(x, beta:\n    pass\n", encoding="utf-8")
    (target / "ex4_sgdr.py").write_text("import sys\nsys.exit(0)\n", encoding="utf-8")
    write_notebook(target / "ex5_transformer.ipynb", ("code", "import torch"), ("code", "x = 1\nraise RuntimeError('oops')"))
    return grade(target, ["ex1", "ex2", "ex3", "ex4", "ex5"], profile="student")


def outputs(raw: dict, exercise_id: str) -> list[str]:
    """The report of each of ``exercise_id``'s checks (there is at least one)."""
    graded = by_exercise(raw, exercise_id)
    assert graded.checks, f"no check of {exercise_id} in the results"
    return [graded.output(check) for check in graded.checks]


@AWKWARD
def test_a_broken_file_costs_only_its_own_exercise(awkward):
    scores = {ex_id: (e["score"], e["max_score"]) for ex_id, e in awkward["exercises"].items()}
    assert scores["ex1_last_token"] == (18, 18)
    assert all(score == 0 for ex_id, (score, _) in scores.items() if ex_id != "ex1_last_token"), scores
    assert all("SyntaxError" in output and "line 1" in output for output in outputs(awkward, "ex2_swish"))
    assert all("SystemExit" in output for output in outputs(awkward, "ex4_sgdr"))


@AWKWARD
def test_a_missing_file_scores_zero_and_says_so(awkward):
    assert awkward["exercises"]["ex3_residual_mlp"]["score"] == 0
    assert all("was not found" in output for output in outputs(awkward, "ex3_residual_mlp"))


@AWKWARD
def test_a_notebook_is_graded_from_its_code_cells(awkward):
    """Markdown, IPython magics and shell escapes are skipped; the code cells define the answer."""
    assert awkward["exercises"]["ex1_last_token"]["score"] == 18


@AWKWARD
def test_a_notebook_error_points_at_its_code(awkward):
    for output in outputs(awkward, "ex5_transformer"):
        assert "raise RuntimeError('oops')" in output and "RuntimeError: oops" in output


@pytest.fixture(scope="module")
def sum_minus_one(tmp_path_factory) -> tuple[Path, dict]:
    """A folder holding ex1's mutant ``sum_minus_one``, and its results under the grading profile."""
    target = tmp_path_factory.mktemp("sum_minus_one")
    shutil.copy(MUTANTS / "ex1_last_token" / "sum_minus_one.py", target / "ex1_last_token.py")
    return target, grade(target, ["ex1"])


@EX1_MUTANT
def test_failure_shows_smallest_example_expected_actual_and_hint(sum_minus_one):
    output = by_exercise(sum_minus_one[1], "ex1_last_token").output("test_last_token_masked_values")
    for part in ("例 / example:", "mask", "期待 / expected:", "実際 / actual:", "Mismatched elements", "ヒント:", "Hint:"):
        assert part in output
    assert "hypothesis" not in output.lower() and "Traceback" not in output
    # the smallest example: the contract's left-padding scenario in its smallest form (explicit
    # examples run first and are shown unshrunk, so each is written as the smallest of its kind)
    assert "shape=(1, 2, 1)" in output and "tensor([[0., 1.]])" in output


@EX1_MUTANT
def test_grading_profile_is_deterministic(sum_minus_one):
    target, first = sum_minus_one
    second = grade(target, ["ex1"])  # the same folder again, in a process of its own
    assert first == second


@SOLUTIONS
def test_cli_accepts_short_and_long_ids_and_reports_a_table(solutions_checked):
    """ex1 was named twice (``ex1`` and ``ex1_last_token``): graded once, its line in the table."""
    assert "ex1_last_token" in solutions_checked.stdout and "18 / 18" in solutions_checked.stdout
    ex1 = [t["tags"][2] for t in solutions_checked.results["tests"] if t["tags"][0] == "ex1_last_token"]
    assert len(ex1) == len(set(ex1)) > 0, ex1


@pytest.mark.parametrize(
    ("args", "message"),
    [(("check", "ex9"), "unknown exercise"), (("check", "--target", "no/such/dir"), "does not exist")],
)
def test_cli_exits_non_zero_only_when_it_cannot_grade(args, message):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert message in proc.stdout + proc.stderr


@STUBS
def test_student_failures_still_exit_zero(stubs_checked):
    """Every check of every stub fails, and ``grader check`` still exits 0 (:func:`check_with_plots` asserts it)."""
    assert "0 / 18" in stubs_checked.stdout


def test_pytest_entry_point_marks_and_scores(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "grader", "-m", "ex1", "--target", "solutions", "-q", "-p", "no:randomly"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "18 / 18" in proc.stdout
    assert "deselected" in proc.stdout  # the other exercises' checks were filtered out by -m ex1


@SOLUTIONS
def test_json_file_is_valid_utf8_with_japanese(solutions_checked):
    text = solutions_checked.json_file.read_text(encoding="utf-8")
    assert json.loads(text)["score"] == json.loads(text)["max_score"] > 0
    assert "値が参照実装と一致" in text


def write_notebook(path, *cells: tuple[str, str]) -> None:
    import nbformat

    make = {"markdown": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    nbformat.write(nbformat.v4.new_notebook(cells=[make[kind](text) for kind, text in cells]), path)


@pytest.mark.parametrize(
    "checked",
    [
        pytest.param("solutions_checked", id="solutions", marks=SOLUTIONS),
        pytest.param("stubs_checked", id="exercises", marks=STUBS),
    ],
)
def test_plots_are_written_for_working_and_unfinished_code(checked, request):
    """``check --plots DIR`` (in the fixture's run, which exited 0) drew ex2, ex4 and ex6."""
    plots = request.getfixturevalue(checked).plots
    for name in ("ex2_swish.png", "ex4_sgdr.png", "ex6_training_loop.png"):
        assert (plots / name).read_bytes().startswith(b"\x89PNG")


def test_plots_in_a_release_say_why_there_are_none(tmp_path, monkeypatch):
    """A release replays the bank and holds no reference: ``--plots`` says so, and draws nothing."""
    import argparse
    import io

    from rich.console import Console

    from grader import cli, oracle

    monkeypatch.setattr(oracle, "replaying", lambda: True)
    out = io.StringIO()
    args = argparse.Namespace(target=ROOT / "solutions", plots=tmp_path / "plots")
    cli._plots(list(registry.EXERCISES), args, Console(file=out, width=300))
    assert "plots cannot be drawn in a student release" in out.getvalue()
    assert not (tmp_path / "plots").exists()
