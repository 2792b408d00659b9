"""Every check's ``needs_reference`` is truthful, and checks reach the reference only through the oracle.

A check declared ``needs_reference=False`` must never make an oracle call while grading
the model answers, and one declared True must make at least one: the oracle is traced
(grader/oracle.py, ``listening``; tests/traced_cli.py) in the CLI's run of ``solutions/``
under the smoke profile, which the CLI's tests read too (conftest's ``solutions_checked``).
A student release relies on this: the checks declared False need no recorded answers, and
an nbgrader course shows them to students.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader import registry
from tests.grading import SOLUTIONS_RUN

ROOT = Path(__file__).resolve().parent.parent
CHECKS = ROOT / "grader" / "checks"


@pytest.fixture
def traced(solutions_checked) -> dict:
    """The model answers' CLI run (conftest's ``solutions_checked``): each check's oracle calls,
    its declaration, and whether it got full marks."""
    assert solutions_checked.oracle is not None, "the model answers' run was not traced"
    full = {f"{t['tags'][0]}::{t['tags'][2]}": t["score"] == t["max_score"] for t in solutions_checked.results["tests"]}
    declared = solutions_checked.oracle["declared"]
    assert set(declared) == set(full) != set(), "the trace and results.json name different checks"
    checks = {name: {"declared": declared[name], "full": full[name]} for name in full}
    return {"calls": solutions_checked.oracle["calls"], "checks": checks}


@SOLUTIONS_RUN
def test_model_answers_get_full_marks_while_traced(traced):
    assert [name for name, c in traced["checks"].items() if not c["full"]] == []


@SOLUTIONS_RUN
def test_every_oracle_call_belongs_to_a_check(traced):
    assert set(traced["calls"]) <= set(traced["checks"]), "oracle calls outside any check"


@SOLUTIONS_RUN
def test_checks_declared_without_reference_make_no_oracle_call(traced):
    wrong = {name: traced["calls"][name] for name, c in traced["checks"].items() if not c["declared"] and name in traced["calls"]}
    assert wrong == {}, "declared needs_reference=False, but called the reference (calls per check)"


@SOLUTIONS_RUN
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
