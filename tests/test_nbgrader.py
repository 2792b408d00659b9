"""The nbgrader course (``python -m grader nbgrader``) through the real nbgrader CLI.

Fast tests check the source notebooks against nbgrader's own metadata validator, the
test cells' entry point (``grader.notebook.run_check``) and the loader. The slow ones
run a real cycle on a course in a temporary folder, with the smoke profile:
``nbgrader generate_assignment`` -> submissions in ``submitted/<student>/<assignment>/``
-> ``nbgrader autograde`` -> ``generate_feedback`` -> ``export``, and
``python -m grader batch --nbgrader`` on a copy of the same course, whose gradebook must
end up with the same grades.
"""

from __future__ import annotations

import ast
import csv
import html
import json
import re
import shutil
import warnings
from pathlib import Path

import pytest

from grader import registry
from grader.notebook import checks
from grader.loader import is_autograder_test as is_test_cell
from grader.loader import LOAD_ERROR_PHRASES, LoadError, load_module
from grader.notebook import CheckFailed, profile_for_kernel, run_check
from grader.instructor.nbgrader.solution_code import BEGIN, END
from tests.grading import MUTANTS, ROOT, constants, student_source
from tests.nbgrading import TIMESTAMP, cell_outputs, grader, grades, nbgrader, submit

pytestmark = pytest.mark.xdist_group("nbgrader")

# nbformat and nbgrader (and the kit's modules built on them) are imported in the tests that use
# them: importing them takes 6 s, which every xdist worker would pay just to collect this module.

EX1 = registry.find("ex1")
ONE = "one"  # the assignment the cycle grades: ex1 alone (cheap, with hidden and visible checks)
ALL = "chapter"  # every exercise: its release is checked, nobody submits it
SOLUTION = (ROOT / "solutions" / EX1.filename).read_text(encoding="utf-8")
POINTS = {c.name: c.info.points for c in checks(EX1)}
FULL = sum(POINTS.values())
MUTANT = MUTANTS / EX1.id / "no_validation.py"
PARTIAL = FULL - sum(POINTS[name] for name in constants(MUTANT, "EXPECTED_FAILURES")["EXPECTED_FAILURES"])
#: A correct answer that makes torch warn while the checks run (copy-constructing a tensor).
WARNS = SOLUTION.replace(
    "    index = (lengths.long() - 1)", "    lengths = torch.tensor(lengths)  # UserWarning: use clone().detach()\n    index = (lengths.long() - 1)"
)
ECHO_ENV = '\nimport os\nprint("NBGRADER_EXECUTION =", os.environ.get("NBGRADER_EXECUTION"))\n'


# -- the source notebooks --------------------------------------------------------------------------


@pytest.mark.parametrize("exercise", registry.EXERCISES, ids=lambda e: e.short)
def test_source_notebook_passes_nbgraders_validator(exercise):
    import nbformat
    from nbgrader.nbgraderformat import MetadataValidator

    from grader.instructor.nbgrader.source_notebook import build

    notebook = build(exercise)
    nbformat.validate(notebook)
    MetadataValidator().validate_nb(notebook)  # schema v3, grade ids unique, points on grade cells
    assert all(set(cell.metadata) == {"nbgrader"} for cell in notebook.cells)
    tests = [c for c in notebook.cells if c.metadata["nbgrader"]["grade"]]
    declared = checks(exercise)
    assert [c.metadata["nbgrader"]["grade_id"] for c in tests] == [c.grade_id for c in declared]
    for cell, check in zip(tests, declared):
        meta = cell.metadata["nbgrader"]
        assert meta["locked"] and not meta["solution"] and meta["points"] == check.info.points
        assert ("### BEGIN HIDDEN TESTS" in cell.source) == check.info.needs_reference
        assert f"run_check({exercise.short!r}, {check.name!r}, globals())" in cell.source
    [solution] = [c for c in notebook.cells if c.metadata["nbgrader"]["solution"]]
    assert solution.cell_type == "code" and BEGIN in solution.source and END in solution.source
    prompt = notebook.cells[0]
    assert prompt.cell_type == "markdown" and prompt.source.startswith("# 演習問題") and "Exercise" in prompt.source


@pytest.mark.parametrize("exercise", registry.EXERCISES, ids=lambda e: e.short)
def test_solution_cell_is_the_stub_with_the_answers_bodies(exercise):
    """Without its markers the cell defines what the stub declares, with the model answer's code."""
    from grader.instructor.nbgrader.source_notebook import build

    [cell] = [c for c in build(exercise).cells if c.metadata["nbgrader"]["solution"]]
    code = "\n".join(line for line in cell.source.splitlines() if line.strip() not in (BEGIN, END))
    stub = ast.parse((ROOT / "exercises" / exercise.filename).read_text(encoding="utf-8"))
    answer = (ROOT / "solutions" / exercise.filename).read_text(encoding="utf-8")
    ours = ast.parse(code)
    assert _signatures(stub) <= _signatures(ours)
    for node in ast.walk(ours):  # every body that was NotImplementedError is the answer's now
        assert not (isinstance(node, ast.Raise) and "NotImplementedError" in ast.unparse(node)), ast.unparse(node)
    for line in answer.splitlines():  # the answer's code lines are all there (its docstrings are not)
        if line.strip() and not line.lstrip().startswith(('"""', "#")) and line.startswith(" " * 8):
            assert line.strip() in code, line


def _signatures(tree: ast.Module) -> set[str]:
    found = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.add(f"{node.name}{ast.unparse(node.args) if isinstance(node, ast.FunctionDef) else ''}")
        if isinstance(node, ast.ClassDef):
            found |= {f"{node.name}.{m.name}({ast.unparse(m.args)})" for m in node.body if isinstance(m, ast.FunctionDef)}
    return found


# -- the test cells' entry point, in this process ----------------------------------------------------


def test_profile_rule():
    assert profile_for_kernel({}) == "student"
    assert profile_for_kernel({"NBGRADER_EXECUTION": "autograde"}) == "grading"
    assert profile_for_kernel({"NBGRADER_EXECUTION": "validate"}) == "grading"
    assert profile_for_kernel({"NBGRADER_EXECUTION": "autograde", "GRADER_PROFILE": "smoke"}) == "smoke"
    with pytest.raises(CheckFailed):
        profile_for_kernel({"GRADER_PROFILE": "fast"})


def test_run_check_passes_quietly_even_when_the_answer_warns(capfd, monkeypatch):
    monkeypatch.setenv("GRADER_PROFILE", "smoke")
    namespace: dict = {"__name__": "__main__"}
    exec(compile(WARNS, "<cell>", "exec"), namespace)
    with warnings.catch_warnings(record=True) as seen:  # the answer does warn (else this test proves nothing)
        warnings.simplefilter("always")
        namespace["last_token"](*_example())
    assert any(issubclass(w.category, UserWarning) for w in seen)
    capfd.readouterr()
    assert run_check("ex1", "test_last_token_values", namespace) is None  # a value would be partial credit
    out, err = capfd.readouterr()
    assert err == ""
    assert out.startswith("✓ 3 / 3") and "[ex1, smoke]" in out and "UserWarning" in out
    assert namespace["__name__"] == "__main__"


def test_run_check_fails_with_the_graders_report(monkeypatch):
    monkeypatch.setenv("GRADER_PROFILE", "smoke")
    namespace: dict = {}
    exec(compile(student_source(MUTANT), "<cell>", "exec"), namespace)
    with pytest.raises(CheckFailed) as failed:
        run_check("ex1", "test_last_token_rejects_bad_input", namespace)
    text = str(failed.value)
    assert "✗" in text and "0 / 2" in text and "ValueError" in text
    assert "ヒント" in text and "Hint" in text and "例 / example" in text
    assert "run_check" not in "".join(failed.value._render_traceback_())  # IPython shows no test source
    with pytest.raises(CheckFailed, match="test_last_token_values"):
        run_check("ex1", "test_no_such_check", namespace)


def _example():
    import torch

    return torch.randn(2, 3, 4), torch.tensor([1, 3])


def test_loader_runs_an_nbgrader_notebook_cell_by_cell_without_its_test_cells(tmp_path):
    import nbformat

    from grader.instructor.nbgrader.source_notebook import build

    notebook = build(EX1)
    [solution] = [c for c in notebook.cells if c.metadata["nbgrader"]["solution"]]
    solution.source = SOLUTION + "\nraise RuntimeError('a cell that fails does not stop the next ones')\n"
    notebook.cells.insert(2, nbformat.v4.new_code_cell("AFTER_THE_ERROR = True"))
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = "raise SystemExit('a test cell must not run')"
    nbformat.write(notebook, tmp_path / f"{EX1.id}.ipynb")
    module = load_module(tmp_path, EX1)
    assert module.AFTER_THE_ERROR and callable(module.last_token)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"cells": [{"cell_type": "code", "source": "', "is not a readable notebook"),
        (b"\xff\xfe not utf-8", "is not a readable notebook"),
        (b'["a list"]', "has no list of cells"),
        (b'{"nbformat": 4, "cells": {"0": {}}}', "has no list of cells"),
        (b'{"nbformat": 4, "cells": [1]}', "cell 1 of ex1_last_token.ipynb is malformed (not an object)"),
        (b'{"nbformat": 4, "cells": [{"source": "x = 1"}]}', "(cell_type is not a string)"),
        (b'{"nbformat": 4, "cells": [{"cell_type": "code", "source": ["x", 1]}]}', "(source is not text)"),
        (b'{"nbformat": 4, "cells": [{"cell_type": "code", "source": "", "metadata": []}]}', "(metadata is not an object)"),
        (b'{"nbformat": 4, "cells": [{"cell_type": "code", "source": "", "metadata": {"nbgrader": "yes"}}]}',
         "(metadata.nbgrader is not an object)"),
    ],
    ids=["truncated", "not_utf8", "no_object", "cells_not_a_list", "cell_not_an_object", "no_cell_type",
         "source_not_text", "metadata_not_an_object", "nbgrader_not_an_object"],
)
def test_loader_refuses_a_malformed_notebook_with_what_is_wrong(tmp_path, content, why):
    """One test of a readable notebook, shared by the worker and the gradebook: each defect named, no traceback."""
    from grader.instructor.nbgrader import gradebook

    (tmp_path / f"{EX1.id}.ipynb").write_bytes(content)
    with pytest.raises(LoadError) as refused:
        load_module(tmp_path, EX1)
    assert why in str(refused.value) and "Traceback" not in str(refused.value)
    assert any(phrase in str(refused.value) for phrase in LOAD_ERROR_PHRASES)  # flagged ex1:load_error in grades.csv
    assert gradebook.submitted_notebook(content, f"{EX1.id}.ipynb") == (None, str(refused.value))


# -- the real nbgrader cycle -------------------------------------------------------------------------


@pytest.fixture(scope="session")  # not "module": built once even when xdist interleaves other modules
def course(tmp_path_factory) -> Path:
    """A course with two assignments, generated by ``python -m grader nbgrader`` and released by nbgrader."""
    root = tmp_path_factory.mktemp("course")
    grader("nbgrader", str(root), "--assignment", ALL)
    grader("nbgrader", str(root), "--assignment", ONE, "--exercises", "ex1")
    nbgrader(root, "generate_assignment", ALL)
    nbgrader(root, "generate_assignment", ONE)
    return root


@pytest.mark.slow
def test_release_reads_like_the_stubs(course):
    """No answers and no hidden tests in the release, and each solution cell runs and defines the stub's names."""
    import nbformat

    from grader.instructor.nbgrader.clear_solutions import HELPER_STUB

    for exercise in registry.EXERCISES:
        notebook = nbformat.read(course / "release" / ALL / f"{exercise.id}.ipynb", as_version=4)
        text = nbformat.writes(notebook)
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
        stub_text = (ROOT / "exercises" / exercise.filename).read_text(encoding="utf-8")
        leaked = [line for line in _answer_lines(course / "source" / ALL / f"{exercise.id}.ipynb") if line in text]
        assert not [line for line in leaked if line not in stub_text], "the release holds lines of the answer"
        for cell, check in zip([c for c in notebook.cells if c.metadata["nbgrader"]["grade"]], checks(exercise)):
            assert ("run_check" in cell.source) != check.info.needs_reference
        [solution] = [c for c in notebook.cells if c.metadata["nbgrader"].get("solution")]
        assert "ここに解答を書いてください / YOUR CODE HERE" in solution.source  # the course's config was used
        assert (HELPER_STUB in solution.source) == (exercise.short in ("ex3", "ex4", "ex5", "ex6"))  # answers' extra helpers
        namespace: dict = {}
        exec(compile(solution.source, exercise.filename, "exec"), namespace)  # must not raise
        stub = ast.parse((ROOT / "exercises" / exercise.filename).read_text(encoding="utf-8"))
        assert {n.name for n in stub.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))} <= set(namespace)


def _answer_lines(source_notebook: Path) -> list[str]:
    """The code lines between the SOLUTION markers of a source notebook."""
    import nbformat

    lines, inside = [], False
    for cell in nbformat.read(source_notebook, as_version=4).cells:
        for line in cell.source.splitlines():
            inside = (inside or BEGIN in line) and END not in line
            if inside and BEGIN not in line and line.strip() and not line.lstrip().startswith("#"):
                lines.append(line.strip())
    return lines


@pytest.fixture(scope="session")  # not "module": built once even when xdist interleaves other modules
def cycle(course, tmp_path_factory) -> dict:
    """Five students hand in ex1; a copy of the course (same release, empty gradebook) waits for the batch."""
    batch_course = tmp_path_factory.mktemp("batch") / "course"
    shutil.copytree(course, batch_course)
    mutant = student_source(MUTANT)
    class_ = {
        "correct": (SOLUTION + ECHO_ENV, None, FULL),
        "release": (None, None, 0.0),
        "partial": (mutant, None, PARTIAL),
        "partial_edits_tests": (mutant, "print('all tests pass')", PARTIAL),
        "warns": (WARNS, None, FULL),
    }
    for root in (course, batch_course):
        for student, (code, edit, _) in class_.items():
            submit(root, ONE, student, EX1.id, code, edit_tests=edit)
    _hand_in_broken_notebooks(batch_course)
    nbgrader(course, "autograde", ONE)
    nbgrader(course, "export")
    return {"course": course, "batch_course": batch_course, "expected": {s: e for s, (_, _, e) in class_.items()}}


#: Notebooks that only ``batch --nbgrader`` grades (nbgrader's own autograde is not asked), and their totals.
BROKEN = {"not_json": 0.0, "hand_edited": 0.0, "renamed_cells": FULL}


def _hand_in_broken_notebooks(course: Path) -> None:
    """The model answer, handed in as no JSON at all, with its answer cell's nbgrader metadata edited into a
    string, and with cells renamed, duplicated and their points edited (which must gain nothing)."""
    submit(course, ONE, "not_json", EX1.id, SOLUTION).write_bytes(b'{"cells": [{"cell_type": "code", "source": "')
    for student in ("hand_edited", "renamed_cells"):
        path = submit(course, ONE, student, EX1.id, SOLUTION)
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook["cells"]
        answer = next(c for c in cells if c["metadata"].get("nbgrader", {}).get("solution"))
        tests = [c for c in cells if is_test_cell(c)]
        if student == "hand_edited":
            answer["metadata"]["nbgrader"] = "solution"
        else:
            answer["metadata"]["nbgrader"]["grade_id"] = "my_own_cell"
            tests[0]["metadata"]["nbgrader"]["points"] = "1000"
            cells.insert(cells.index(tests[1]), json.loads(json.dumps(tests[1])))
        path.write_text(json.dumps(notebook), encoding="utf-8")


def _export(course: Path) -> dict[str, dict[str, str]]:
    with (course / "grades.csv").open(encoding="utf-8") as f:
        return {row["student_id"]: row for row in csv.DictReader(f) if row["assignment"] == ONE}


@pytest.mark.slow
def test_autograde_scores(cycle):
    """Full marks, nothing for the release, partial credit, and nothing gained by editing test cells."""
    exported = _export(cycle["course"])
    assert {s: float(row["score"]) for s, row in exported.items()} == cycle["expected"]
    assert all(float(row["max_score"]) == FULL for row in exported.values())
    autograded = cycle["course"] / "autograded"
    edited = cell_outputs(autograded / "partial_edits_tests" / ONE / f"{EX1.id}.ipynb")
    assert not any("all tests pass" in str(o) for outputs in edited.values() for o in outputs)
    solution_out = cell_outputs(autograded / "correct" / ONE / f"{EX1.id}.ipynb")[f"{EX1.short}_solution"]
    assert "NBGRADER_EXECUTION = autograde" in str(solution_out)  # what grader.notebook's profile rule relies on


@pytest.mark.slow
def test_passing_checks_leave_stderr_empty_when_the_answer_warns(cycle):
    outputs = cell_outputs(cycle["course"] / "autograded" / "warns" / ONE / f"{EX1.id}.ipynb")
    tests = {gid: outs for gid, outs in outputs.items() if gid.startswith(f"{EX1.short}_test_")}
    assert len(tests) == len(POINTS)
    for grade_id, outs in tests.items():
        assert [o["name"] for o in outs if o["output_type"] == "stream"] == ["stdout"], (grade_id, outs)
        assert not [o for o in outs if o["output_type"] == "error"], grade_id
    assert any("UserWarning" in o.get("text", "") for outs in tests.values() for o in outs)  # it did warn


@pytest.mark.slow
def test_feedback_shows_results_but_no_hidden_test_source(cycle):
    course = cycle["course"]
    nbgrader(course, "generate_feedback", ONE)
    hidden = [c for c in checks(EX1) if c.info.needs_reference]
    for student in ("correct", "partial"):
        page = _text(course / "feedback" / student / ONE / f"{EX1.id}.html")
        assert "HIDDEN TESTS" not in page
        assert page.count("run_check(") == len(POINTS) - len(hidden)  # the visible tests' calls only
        for check in hidden:
            assert f"run_check({EX1.short!r}, {check.name!r}" not in page and check.info.en in page  # title, no call
    failed = _text(course / "feedback" / "partial" / ONE / f"{EX1.id}.html")
    assert "ValueError" in failed and "Hint" in failed


def _text(page: Path) -> str:
    """What an HTML page says (code is highlighted token by token, so read it without its tags)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


@pytest.mark.slow
def test_batch_nbgrader_writes_the_same_grades_into_the_gradebook(cycle):
    course, batch_course = cycle["course"], cycle["batch_course"]
    assert not grades(batch_course, ONE)  # nobody is in this gradebook yet
    grader("batch", "--nbgrader", str(batch_course), "--assignment", ONE, "--workers", "2", "--profile", "smoke")
    honest = set(cycle["expected"])
    ours = {key: score for key, score in grades(batch_course, ONE).items() if key[0] in honest}
    assert ours == grades(course, ONE)  # every grade cell, hidden tests included
    nbgrader(batch_course, "export")
    exported, theirs = _export(batch_course), _export(course)
    assert {s: row for s, row in exported.items() if s in honest} == theirs
    assert all(row["timestamp"].startswith(TIMESTAMP[:19]) for row in exported.values())
    with (batch_course / "grader-batch" / ONE / "grades.csv").open(encoding="utf-8") as f:
        assert {row["student_id"]: float(row["total"]) for row in csv.DictReader(f)} == cycle["expected"] | BROKEN
    for student in cycle["expected"]:  # autograded notebooks for formgrader: the same cells fail as under nbgrader
        name = Path(student) / ONE / f"{EX1.id}.ipynb"
        assert _failing(batch_course / "autograded" / name) == _failing(course / "autograded" / name), student
    nbgrader(batch_course, "generate_feedback", ONE)  # every student's, the broken notebooks' included
    page = _text(batch_course / "feedback" / "partial" / ONE / f"{EX1.id}.html")
    assert "HIDDEN TESTS" not in page and "ValueError" in page and f"{PARTIAL:g}" in page


@pytest.mark.slow
def test_batch_nbgrader_records_broken_notebooks_as_their_load_error(cycle):
    """An unreadable or hand-edited notebook is that student's load error in the batch and in the gradebook
    alike, with an autograded notebook saying why; renamed cells and edited points gain nothing."""
    import nbformat

    from grader.instructor.nbgrader.autograded import UNREADABLE

    batch_course = cycle["batch_course"]
    if not grades(batch_course, ONE):  # the batch runs in the test above; alone, this test runs it
        grader("batch", "--nbgrader", str(batch_course), "--assignment", ONE, "--workers", "2", "--profile", "smoke")
    scores = {s: float(row["score"]) for s, row in _export_now(batch_course).items()}
    assert {s: scores[s] for s in BROKEN} == BROKEN
    tests = {c.grade_id for c in checks(EX1)}
    with (batch_course / "grader-batch" / ONE / "grades.csv").open(encoding="utf-8") as f:
        flags = {row["student_id"]: row["flags"] for row in csv.DictReader(f)}
    for student in ("not_json", "hand_edited"):
        assert f"{EX1.short}:load_error" in flags[student], flags[student]
        notebook = nbformat.read(batch_course / "autograded" / student / ONE / f"{EX1.id}.ipynb", as_version=4)
        assert notebook.cells[0].source.startswith(UNREADABLE)
        assert _failing(batch_course / "autograded" / student / ONE / f"{EX1.id}.ipynb") == tests
    assert "malformed" in notebook.cells[0].source  # the loader's reason, for the hand-edited one
    assert not _failing(batch_course / "autograded" / "renamed_cells" / ONE / f"{EX1.id}.ipynb") & tests


def _export_now(course: Path) -> dict[str, dict[str, str]]:
    nbgrader(course, "export")
    return _export(course)


def _failing(notebook: Path) -> set[str]:
    """The grade ids of the cells whose output nbgrader scores 0 (an error, or anything on stderr)."""
    return {
        grade_id
        for grade_id, outputs in cell_outputs(notebook).items()
        if any(o["output_type"] == "error" or o.get("name") == "stderr" for o in outputs)
    }
