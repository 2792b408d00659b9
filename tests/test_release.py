"""The student release: the oracle bank's keys and replay, and a release tried as a new student would.

The first tests are quick: keys, the bank file, what a replayed oracle call does when the
bank holds the answer, when it does not (inside and outside a hypothesis example), and
the release profile's examples. The slow ones build a release with ``python -m grader
release``, search it for answers, then copy it to a fresh folder, set it up with its
README's commands in a fresh virtual environment, and grade a model answer and two
mutants there.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import hypothesis
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import bank, oracle, registry
from grader.instructor.release import Recorder
from tests.grading import MUTANTS, expected_failures, student_source

ROOT = Path(__file__).resolve().parent.parent


@oracle.oracle
def doubled(x: torch.Tensor, scale: float = 2.0, device: str = "cpu") -> dict[str, torch.Tensor]:
    """A stand-in oracle: plain data in, plain data out."""
    return {"y": x * scale}


@oracle.oracle(per_device=True)
def on_its_device(x: torch.Tensor, device: str = "cpu") -> torch.Tensor:
    """A stand-in for an oracle whose result depends on the device (dropout masks from its generator)."""
    return x + 1


@dataclass(frozen=True)
class Placed:
    size: int
    device: str


# -- keys ---------------------------------------------------------------------------------------------


def test_keys_ignore_device_layout_and_requires_grad():
    x = torch.arange(12.0).reshape(3, 4)
    same = [
        {"x": x},
        {"x": x.t().contiguous().t()},  # other strides, same values
        {"x": x.clone().requires_grad_(True)},
        {"x": x, "device": "cuda"},
        {"x": x, "device": torch.device("cpu")},
    ]
    assert len({bank.key("f", arguments) for arguments in same}) == 1
    assert bank.key("f", {"p": Placed(3, "cpu")}) == bank.key("f", {"p": Placed(3, "cuda")})


def test_keys_tell_names_dtypes_values_and_floats_apart():
    x = torch.arange(4.0)
    different = [
        bank.key("f", {"x": x}),
        bank.key("g", {"x": x}),
        bank.key("f", {"x": x.double()}),
        bank.key("f", {"x": x.reshape(2, 2)}),
        bank.key("f", {"x": x + 1}),
        bank.key("f", {"x": 0.1}),
        bank.key("f", {"x": 0.1 + 2**-56}),
        bank.key("f", {"x": 1}),
        bank.key("f", {"x": True}),
        bank.key("f", {"x": (1,)}),
        bank.key("f", {"x": [1]}),
        bank.key("f", {"x": Placed(3, "cpu")}),
        bank.key("f", {"x": torch.nn.GELU}),
    ]
    assert len(set(different)) == len(different)


def test_keys_refuse_what_is_not_plain_data():
    with pytest.raises(TypeError, match="plain data"):
        bank.key("f", {"model": torch.nn.Linear(2, 2)})


def test_bank_round_trip_with_weights_only(tmp_path):
    entries = {
        "a": {"w": torch.randn(3, 4), "b": torch.zeros(0, 2), "n": torch.tensor(2.5, dtype=torch.float64)},
        "b": (torch.tensor([True, False]), torch.randn(2, dtype=torch.bfloat16), None, "text", 3, 0.25),
        "c": [[0.1, 0.2], [0.3, 0.4]],
    }
    path = tmp_path / "bank.pt"
    bank.save(path, entries, {"test_x::test_y": {"cpu-float32"}}, {"name": "release"})
    loaded = bank.Bank(path)
    assert loaded.cases == {"test_x::test_y": ["cpu-float32"]}
    assert loaded.mismatch() is None
    for name, value in entries.items():
        got = loaded.entries[name]
        flat_expected, flat_got = _leaves(value), _leaves(got)
        assert len(flat_expected) == len(flat_got)
        for want, have in zip(flat_expected, flat_got):
            if isinstance(want, torch.Tensor):
                assert have.dtype == want.dtype and have.shape == want.shape and torch.equal(have, want)
            else:
                assert have == want


def _leaves(value):
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    return [value]


# -- replay -------------------------------------------------------------------------------------------


def _record(tmp_path: Path, *xs: float) -> Path:
    """A bank holding ``doubled`` of each x, recorded in the running test."""
    recorder = Recorder()
    with oracle.listening(recorder):
        for x in xs:
            doubled(torch.tensor([x]))
    path = tmp_path / "bank.pt"
    bank.save(path, recorder.entries, recorder.cases, {"name": "test"})
    return path


def test_replay_answers_recorded_calls(tmp_path, monkeypatch):
    path = _record(tmp_path, 1.0, 2.0)
    monkeypatch.setenv(oracle.BANK_ENV, str(path))
    # keyword or positional, the default given or not, another device named: the same call
    result = doubled(x=torch.tensor([2.0]), scale=2.0, device="meta")
    assert result["y"].device.type == "meta"
    assert torch.equal(doubled(torch.tensor([1.0]))["y"], torch.tensor([2.0]))


def test_replay_miss_outside_hypothesis_is_an_error_naming_the_check(tmp_path, monkeypatch):
    monkeypatch.setenv(oracle.BANK_ENV, str(_record(tmp_path, 1.0)))
    with pytest.raises(oracle.OracleMiss, match="test_release::test_replay_miss_outside_hypothesis"):
        doubled(torch.tensor([3.0]))


def test_replay_miss_inside_hypothesis_rejects_the_example(tmp_path, monkeypatch):
    monkeypatch.setenv(oracle.BANK_ENV, str(_record(tmp_path, 2.0, 5.0)))
    answered = []

    @settings(max_examples=30, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, 9))
    def uses_the_oracle(x):
        answered.append((x, doubled(torch.tensor([float(x)]))["y"].item()))

    uses_the_oracle()
    assert answered and set(answered) <= {(2, 4.0), (5, 10.0)}

    @settings(max_examples=5, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.integers(10, 19))
    def never_recorded(x):
        doubled(torch.tensor([float(x)]))

    with pytest.raises(hypothesis.errors.Unsatisfiable):
        never_recorded()


def test_replay_skips_a_case_never_recorded(tmp_path, monkeypatch):
    recorder = Recorder()
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "grader/checks/ex9_x/checks.py::test_y[cpu-float32] (call)")
    with oracle.listening(recorder):
        doubled(torch.tensor([1.0]))
    path = tmp_path / "bank.pt"
    bank.save(path, recorder.entries, recorder.cases, {"name": "test"})
    monkeypatch.setenv(oracle.BANK_ENV, str(path))
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "grader/checks/ex9_x/checks.py::test_y[cuda-float16] (call)")
    with pytest.raises(pytest.skip.Exception):
        doubled(torch.tensor([1.0], dtype=torch.float16))
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "grader/checks/ex9_x/checks.py::test_y[cuda-float32] (call)")
    with pytest.raises(oracle.OracleMiss):  # the CPU twin was recorded: a miss there is an error
        doubled(torch.tensor([7.0]))


def test_replay_skips_a_device_dependent_call_on_a_device_never_recorded(tmp_path, monkeypatch):
    recorder = Recorder()
    with oracle.listening(recorder):
        on_its_device(torch.tensor([1.0]))
    path = tmp_path / "bank.pt"
    bank.save(path, recorder.entries, recorder.cases, {"name": "test"}, recorder.devices)
    monkeypatch.setenv(oracle.BANK_ENV, str(path))
    assert torch.equal(on_its_device(torch.tensor([1.0])), torch.tensor([2.0]))
    with pytest.raises(pytest.skip.Exception):
        on_its_device(torch.tensor([1.0]), device="meta")


def test_replay_refuses_other_versions(tmp_path, monkeypatch):
    monkeypatch.setattr(bank, "versions", lambda: {"torch": "0.0.1", "hypothesis": "1.0.0"})
    path = _record(tmp_path, 1.0)
    monkeypatch.undo()
    monkeypatch.setenv(oracle.BANK_ENV, str(path))
    with pytest.raises(oracle.OracleMiss, match="hypothesis==1.0.0"):
        doubled(torch.tensor([1.0]))


# -- the release profile --------------------------------------------------------------------------------

DRAWS = """
import json, sys
from hypothesis import given, settings, strategies as st
from grader import profiles

def draws():
    seen = []

    @given(st.integers(0, 10**6), st.floats(-1e3, 1e3))
    def drawn(n, x):
        seen.append([n, x])

    drawn()
    return seen

profiles.load(profiles.GRADING)
graded_first = draws()
profiles.load(profiles.RELEASE)
first = draws()
sys.path.insert(0, sys.argv[1])
import release_constants_probe  # hypothesis now and then draws constants of loaded local modules
again = draws()
profiles.load(profiles.GRADING)
print(json.dumps({"first": first, "again": again, "graded_first": graded_first, "graded": draws(),
                  "n": settings.get_profile("release").max_examples}))
"""


def test_release_profile_draws_its_own_examples_whatever_modules_are_loaded(tmp_path):
    """Fixed examples, not the grading profile's, and not moved by the constants of a loaded module
    (such as the student's own file, graded in-process): neither the release's nor the grading profile's.

    (In a subprocess: the constants hypothesis collects from loaded modules stay collected.)
    """
    # (not named like a test file: hypothesis takes no constants from those)
    (tmp_path / "release_constants_probe.py").write_text(
        "VALUES = [" + ", ".join(str(n * 7919) for n in range(1, 120)) + "]\nX = [0.5, 123.25, -77.5]\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", DRAWS, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    drawn = json.loads(proc.stdout.splitlines()[-1])
    assert drawn["first"] == drawn["again"] and len(drawn["first"]) == drawn["n"]
    assert drawn["graded_first"] == drawn["graded"], "a loaded module's constants moved the grading profile's examples"
    shared = {tuple(d) for d in drawn["first"]} & {tuple(d) for d in drawn["graded"]}
    assert len(shared) <= 2, f"the release profile draws the grading profile's examples: {sorted(shared)}"


# -- a release, as a student gets it (slow) -------------------------------------------------------------


#: Stripped lines that reveal nothing: keyword arguments passed on as they are.
FORWARDED = re.compile(r"^\w+=(self\.)?\w+,?$")


def _significant(text: str) -> list[str]:
    """The lines of a source that could carry an answer: not blank, short, a comment, an import or plain argument passing."""
    lines = [line.strip() for line in text.splitlines()]
    skipped = ("#", '"""', "'''", "import ", "from ")
    return [s for s in lines if len(s) >= 16 and not s.startswith(skipped) and not FORWARDED.match(s)]


def _answer_snippets() -> set[tuple[str, str]]:
    """Each pair of consecutive significant lines of solutions/ and reference/ that the stubs do not share."""
    stubs = {s for p in (ROOT / "exercises").glob("*.py") for s in _significant(p.read_text(encoding="utf-8"))}
    pairs = set()
    for folder in ("solutions", "reference"):
        for path in (ROOT / folder).glob("*.py"):
            lines = _significant(path.read_text(encoding="utf-8"))
            pairs |= {(a, b) for a, b in zip(lines, lines[1:]) if not (a in stubs and b in stubs)}
    return pairs


def _function_bodies(source: str) -> set[str]:
    """The bodies (docstrings left out) of every function with two statements or more, normalised."""
    bodies = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            if len(body) >= 2:
                bodies.add(ast.dump(ast.Module(body=body, type_ignores=[])))
    return bodies


@pytest.fixture(scope="session")  # not "module": built once even when xdist interleaves other modules
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "pytorch-chapter"
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "release", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "oracle bank: grader/oracle_bank.pt" in proc.stdout
    return out


@pytest.mark.slow
@pytest.mark.xdist_group("release")
def test_release_holds_stubs_public_grader_and_bank_only(release):
    assert sorted(p.name for p in release.iterdir()) == ["README.md", "exercises", "grader", "pyproject.toml"]
    for ex in registry.EXERCISES:  # the stubs as they are, and every exercise's checks
        assert (release / "exercises" / ex.filename).read_bytes() == (ROOT / "exercises" / ex.filename).read_bytes()
        assert (release / "grader" / "checks" / ex.id / "checks.py").is_file()
    files = [p.relative_to(release) for p in release.rglob("*") if p.is_file()]
    answers = {p.read_bytes() for folder in ("solutions", "reference") for p in (ROOT / folder).glob("*.py") if p.stat().st_size}
    for path in files:
        assert not {"solutions", "reference", "tests", "mutants", "variants", "hostile"} & set(path.parts), path
        assert (release / path).read_bytes() not in answers, f"{path} is a copy of a model answer or of the reference"
    assert not any("instructor" in p.parts for p in files)  # the release is grader/ without grader/instructor/
    assert not {"release.py", "batch.py", "gradebook.py"} & {p.name for p in files}
    assert Path("grader/oracle_bank.pt") in files


@pytest.mark.slow
@pytest.mark.xdist_group("release")
def test_release_holds_no_solution_or_reference_code(release):
    snippets = _answer_snippets()
    bodies = set()
    for folder in ("solutions", "reference"):
        for path in (ROOT / folder).glob("*.py"):
            bodies |= _function_bodies(path.read_text(encoding="utf-8"))
    stub_bodies = set().union(*(_function_bodies(p.read_text(encoding="utf-8")) for p in (ROOT / "exercises").glob("*.py")))
    found = []
    for path in sorted(p for p in release.rglob("*") if p.is_file()):
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:  # the bank: no source text may be in it either
            found += [f"{path.name}: {a}" for a, _b in snippets if a.encode() in data and len(a) >= 24]
            continue
        lines = _significant(text)
        found += [f"{path.name}: {pair}" for pair in zip(lines, lines[1:]) if pair in snippets]
        if path.suffix == ".py":
            found += [f"{path.name}: a function body" for body in _function_bodies(text) & bodies - stub_bodies]
    assert found == []


def _setup_commands(readme: Path) -> list[str]:
    """The commands of the README's set-up block (the first ```bash block after "Set-up")."""
    text = readme.read_text(encoding="utf-8")
    block = re.search(r"Set-up.*?```bash\n(.*?)```", text, re.S)
    assert block, "the README has no set-up commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def _scores(output: str) -> dict[str, tuple[float, float]]:
    """The score table's rows: exercise id -> (score, max)."""
    rows = re.findall(r"│ (ex\d_\w+)\s*│.*?│\s*([\d.]+) / ([\d.]+) │", output)
    return {ex: (float(score), float(top)) for ex, score, top in rows}


@pytest.mark.slow
@pytest.mark.xdist_group("release")
def test_a_new_student_sets_up_the_release_and_gets_graded(release, tmp_path_factory):
    home = tmp_path_factory.mktemp("student") / "chapter"
    shutil.copytree(release, home)
    # the README's commands as they are; PIP_NO_COMPILE only spares byte-compiling torch (half the install time)
    env = {**os.environ, "COLUMNS": "200", "PYTHONDONTWRITEBYTECODE": "1", "PIP_NO_COMPILE": "1"}
    for name in (oracle.BANK_ENV, "PYTHONPATH"):
        env.pop(name, None)
    for command in _setup_commands(home / "README.md"):
        # python3: the interpreter running this suite (the local CPU torch wheel is built for it)
        command = re.sub(r"^python3 ", f"{sys.executable} ", command)
        proc = subprocess.run(["bash", "-c", command], cwd=home, env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    python, pytest_bin = home / ".venv" / "bin" / "python", home / ".venv" / "bin" / "pytest"
    # no reference anywhere: the fresh environment answers from the bank
    where = "import importlib.util, grader.oracle as o; print(o.replaying(), importlib.util.find_spec('reference'))"
    probe = subprocess.run([python, "-c", where], cwd=home, env=env, capture_output=True, text=True)
    assert probe.stdout.split() == ["True", "None"], probe.stdout + probe.stderr

    # a correct answer in one stub: bare `pytest` grades every exercise and prints the grader's report
    (home / "exercises" / "ex1_last_token.py").write_text(
        (ROOT / "solutions" / "ex1_last_token.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    proc = subprocess.run([pytest_bin], cwd=home, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    scores = _scores(proc.stdout)
    assert set(scores) == {ex.id for ex in registry.EXERCISES}, proc.stdout[-3000:]
    top = scores["ex1_last_token"][1]
    assert scores["ex1_last_token"] == (top, top), proc.stdout[-3000:]
    assert all(score == 0 for ex, (score, _) in scores.items() if ex != "ex1_last_token"), scores
    assert "採点結果 / Scores" in proc.stdout and re.search(r"✓\s+3 / 3\s+last_token の値", proc.stdout)

    # wrong answers lose the points their mistakes cost in the kit, no more and no less
    for name in ("sum_minus_one", "python_loop"):
        mutant = MUTANTS / "ex1_last_token" / f"{name}.py"
        (home / "exercises" / "ex1_last_token.py").write_text(student_source(mutant), encoding="utf-8")
        out = home / f"{name}.json"
        proc = subprocess.run(
            [python, "-m", "grader", "check", "ex1", "--json", str(out)], cwd=home, env=env, capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "採点結果 / Scores" in proc.stdout
        tests = json.loads(out.read_text(encoding="utf-8"))["tests"]
        failed = {t["tags"][2] for t in tests if t["score"] < t["max_score"]}
        assert failed == expected_failures(mutant, cuda=False), [t["output"][:500] for t in tests if t["output"]]


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ("grader/checks/ex1_last_token/checks.py::test_x[cpu-float32] (call)", ("ex1_last_token::test_x", "cpu-float32")),
        ("/home/s/kit/grader/checks/ex5_transformer/checks.py::test_y (call)", ("ex5_transformer::test_y", None)),
        ("tests/test_release.py::test_z (setup)", ("test_release::test_z", None)),
        ("", (None, None)),
    ],
)
def test_the_current_check_is_named_by_its_exercise(node, expected, monkeypatch):
    """Bank entries are kept per exercise and check: two exercises' checks of one name must not share a key."""
    monkeypatch.setenv("PYTEST_CURRENT_TEST", node)
    assert oracle.current_check() == expected
