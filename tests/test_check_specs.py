"""Every check's ``needs_reference`` is truthful, and checks reach the reference only through the oracle.

A check declared ``needs_reference=False`` must never make an oracle call while grading
the model answers, and one declared True must make at least one: the oracle is traced
(grader/oracle.py, ``listening``) in a subprocess grading ``solutions/`` under the smoke
profile. A student release relies on this: the checks declared False need no recorded
answers, and an nbgrader course shows them to students.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader import registry

ROOT = Path(__file__).resolve().parent.parent
CHECKS = ROOT / "grader" / "checks"

TRACE = """
import json
from pathlib import Path

from grader import oracle, registry
from grader.session import grade

calls = {}
with oracle.listening(lambda call: calls.__setitem__(str(call.check), calls.get(str(call.check), 0) + 1)):
    results = grade(list(registry.EXERCISES), Path("solutions"), "smoke")
checks = {
    f"{c.exercise.id}::{c.name}": {"declared": c.info.needs_reference, "full": c.score == c.max_score}
    for e in results.exercises
    for c in e.checks
}
print("TRACE " + json.dumps({"calls": calls, "checks": checks}))
"""


@pytest.fixture(scope="module")
def traced() -> dict:
    proc = subprocess.run([sys.executable, "-c", TRACE], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("TRACE "))
    return json.loads(line.removeprefix("TRACE "))


@pytest.mark.xdist_group("check_specs_trace")  # the trace is taken once, on one worker
def test_model_answers_get_full_marks_while_traced(traced):
    assert [name for name, c in traced["checks"].items() if not c["full"]] == []


@pytest.mark.xdist_group("check_specs_trace")  # the trace is taken once, on one worker
def test_every_oracle_call_belongs_to_a_check(traced):
    assert set(traced["calls"]) <= set(traced["checks"]), "oracle calls outside any check"


@pytest.mark.xdist_group("check_specs_trace")  # the trace is taken once, on one worker
def test_checks_declared_without_reference_make_no_oracle_call(traced):
    wrong = {name: traced["calls"][name] for name, c in traced["checks"].items() if not c["declared"] and name in traced["calls"]}
    assert wrong == {}, "declared needs_reference=False, but called the reference (calls per check)"


@pytest.mark.xdist_group("check_specs_trace")  # the trace is taken once, on one worker
def test_checks_declared_with_reference_make_oracle_calls(traced):
    wrong = [name for name, c in traced["checks"].items() if c["declared"] and name not in traced["calls"]]
    assert wrong == [], "declared needs_reference=True, but never called the reference"


#: Every module of every exercise's checks package (checks, drivers, oracles, ...).
CHECK_MODULES = sorted(CHECKS.glob("*/*.py"))


def test_every_checks_package_is_read():
    assert {registry.check_file(ex) for ex in registry.EXERCISES} <= set(CHECK_MODULES)


@pytest.mark.parametrize("path", CHECK_MODULES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_check_modules_reach_the_reference_only_through_the_oracle(path):
    """No ``import reference`` / ``from reference ...`` in a check package's module: only ``reference("topic")``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    direct = [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Import) and any(a.name.split(".")[0] == "reference" for a in node.names))
        or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "reference")
    ]
    assert direct == [], f"{path.name} imports reference directly (lines {direct})"
