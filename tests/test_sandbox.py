"""The OS sandbox (grader/isolation/sandbox.py): what a worker can see, reach and leave behind.

Each test loads a small exercise file in an isolated worker. Where an attack of
tests/hostile/ needs the sandbox to fail, the same file is also run without it
(``sandbox=False``), to show that the attack is real and that the sandbox is what stops it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from grader import registry
from grader.errors import GraderError
from grader.instructor import batch
from grader.isolation import fork_server, sandbox, worker
from grader.isolation.runner import IsolatedRunner, WorkerFailure
from grader.loader import LoadError
from grader.options import Limits
from grader.runner import StudentError
from tests.grading import ROOT

pytestmark = [
    pytest.mark.skipif(sandbox.problem() is not None, reason=f"no OS sandbox here: {sandbox.problem()}"),
    pytest.mark.xdist_group("sandbox"),
]

EX1 = registry.find("ex1")
HOSTILE = ROOT / "tests" / "hostile" / "ex1_last_token"
HIDDEN, LENGTHS = torch.randn(2, 3, 4), torch.tensor([1, 3])

#: An exercise file that reports what its worker sees, as the message of the error it raises at import.
REPORT = '''
import gc, json, os, socket, types
for obj in gc.get_objects():  # the audit hook off first (see tests/hostile): what is left is the OS's wall
    if isinstance(obj, types.FunctionType) and obj.__name__ == "hook" and obj.__closure__:
        for name, cell in zip(obj.__code__.co_freevars, obj.__closure__):
            if name in ("refuse", "check_open"):
                cell.cell_contents = lambda *args, **kwargs: None
facts = {"kit": sorted(os.listdir(KIT)), "root": sorted(os.listdir("/")), "env": sorted(os.environ),
         "cwd": os.getcwd(), "pid": os.getpid(), "uid": os.getuid()}
for name, path in {"kit": KIT + "/grader/x", "root": "/x"}.items():
    if not TRY_WRITES:  # never outside the sandbox: nothing would stop them
        break
    try:
        open(path, "w").close()
        facts["wrote_" + name] = True
    except OSError as err:
        facts["wrote_" + name] = type(err).__name__
try:
    socket.create_connection(("127.0.0.1", 9), timeout=1)
except OSError as err:
    facts["network"] = type(err).__name__
raise RuntimeError("<<" + json.dumps(facts) + ">>")
'''


@pytest.fixture(autouse=True, scope="module")
def _this_module_s_fork_servers() -> Iterator[None]:
    """The tests share their fork servers, as a batch's students do (a start costs 3-4 s); none outlives the module."""
    fork_server.close_all()
    yield
    fork_server.close_all()


@pytest.fixture
def fresh_fork_servers() -> Iterator[None]:
    """For a test whose fork server must start in this test's environment."""
    fork_server.close_all()
    yield
    fork_server.close_all()


def student(root: Path, name: str, text: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / EX1.filename).write_text(text, encoding="utf-8")
    return folder


def probe(root: Path, try_writes: bool) -> Path:
    return student(root, "probe", f"KIT = {str(ROOT)!r}\nTRY_WRITES = {try_writes}\n" + REPORT)


def facts(folder: Path, sandboxed: bool) -> dict:
    runner = IsolatedRunner(folder, sandbox=sandboxed)
    try:
        with pytest.raises(LoadError) as caught:
            runner.load(EX1)
    finally:
        runner.close()
    return json.loads(re.search(r"<<(\{.*?\})>>", str(caught.value)).group(1))


@pytest.mark.usefixtures("fresh_fork_servers")
def test_a_worker_sees_python_torch_and_the_engine_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTRUCTOR_SECRET_TOKEN", "s3cret")
    seen = facts(probe(tmp_path, try_writes=True), sandboxed=True)
    assert set(seen["kit"]) <= {"grader", ".venv"}, seen["kit"]  # no reference/, solutions/, tests/, .git
    assert "grader" in seen["kit"]
    assert not {"home", "work"} & set(seen["root"]) or str(tmp_path).split("/")[1] not in seen["root"]
    assert "INSTRUCTOR_SECRET_TOKEN" not in seen["env"]
    assert seen["wrote_kit"] == seen["wrote_root"] == "OSError"  # a read-only file system
    assert not (ROOT / "grader" / "x").exists()  # and nothing written into the kit, whatever the probe saw
    assert seen["network"] in ("OSError", "ConnectionRefusedError")
    assert seen["uid"] == sandbox.SANDBOX_UID and seen["cwd"].startswith(sandbox.SCRATCH)


@pytest.mark.usefixtures("fresh_fork_servers")
def test_without_the_sandbox_the_same_worker_sees_the_whole_kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe above can fail: outside the sandbox it does see the answers (it writes nothing there)."""
    monkeypatch.setenv("INSTRUCTOR_SECRET_TOKEN", "s3cret")
    seen = facts(probe(tmp_path, try_writes=False), sandboxed=False)
    assert {"reference", "solutions", "tests"} <= set(seen["kit"])
    assert "INSTRUCTOR_SECRET_TOKEN" in seen["env"]


def classmates(root: Path, attack: str) -> tuple[Path, Path]:
    victim = student(root, "victim", (ROOT / "solutions" / EX1.filename).read_text(encoding="utf-8"))
    attacker = student(root, "attacker", (HOSTILE / f"{attack}.py").read_text(encoding="utf-8"))
    return victim, attacker


def last_token_of(folder: Path, sandboxed: bool) -> torch.Tensor:
    runner = IsolatedRunner(folder, Limits(call_timeout_s=120), sandbox=sandboxed)
    try:
        return runner.load(EX1).last_token(HIDDEN, LENGTHS)
    finally:
        runner.close()


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param("search_machine_for_answers", marks=pytest.mark.slow),  # walks the whole file system: 8 s
        "read_without_an_audit_event",
        "switch_the_guard_off",
        "git_history",
    ],
)
def test_an_attack_that_finds_answers_without_the_sandbox_finds_none_inside(attack: str, tmp_path: Path) -> None:
    _, attacker = classmates(tmp_path, attack)
    torch.testing.assert_close(last_token_of(attacker, sandboxed=False), HIDDEN[[0, 1], [0, 2]])
    with pytest.raises(StudentError, match="not implemented"):
        last_token_of(attacker, sandboxed=True)


def test_a_classmate_s_file_is_never_written(tmp_path: Path) -> None:
    victim, attacker = classmates(tmp_path, "overwrite_classmates")
    before = (victim / EX1.filename).read_bytes()
    for sandboxed in (False, True):  # the worker holds a private copy either way; the sandbox adds a read-only disk
        with pytest.raises(StudentError):
            last_token_of(attacker, sandboxed)
    assert (victim / EX1.filename).read_bytes() == before


def namespace_processes(server: fork_server.ForkServer) -> list[int]:
    """The host PIDs of every process in the sandbox's PID namespace (the fork server included)."""
    namespace = os.readlink(f"/proc/{zygote_pid(server)}/ns/pid")
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.readlink(entry / "ns" / "pid") == namespace:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def zygote_pid(server: fork_server.ForkServer) -> int:
    """The host PID of the fork server: bubblewrap's child (it runs as the namespace's PID 1)."""
    return next(int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == server._process.pid)


def _parent(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def test_nothing_a_student_started_outlives_their_turn(tmp_path: Path) -> None:
    attacker = student(tmp_path, "attacker", (HOSTILE / "survivor_process.py").read_text(encoding="utf-8"))
    runner = IsolatedRunner(attacker, sandbox=True)
    runner.load(EX1)
    server = fork_server.server(True, runner._use_cuda)
    # the fork server, the worker, and the survivor it double-forked (its intermediate child exited)
    assert len(namespace_processes(server)) >= 3
    runner.close()
    assert len(namespace_processes(server)) == 1  # the fork server alone


def test_the_fork_server_survives_a_worker_that_kills_every_process_it_can(tmp_path: Path) -> None:
    killer = 'import gc, os, signal, types\n' + (HOSTILE / "survivor_process.py").read_text().split("def rewrite")[0].split('SKIP =')[0]
    killer += "for pid in (1, -1):\n    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n"
    folder = student(tmp_path, "killer", killer.replace('"""', "#", 2) + "\ndef last_token(h, l):\n    raise NotImplementedError\n")
    runner = IsolatedRunner(folder, sandbox=True)
    with pytest.raises((LoadError, StudentError, WorkerFailure)):
        runner.load(EX1).last_token(HIDDEN, LENGTHS)
    runner.close()
    # the next student's worker starts from the same fork server
    torch.testing.assert_close(last_token_of(ROOT / "solutions", sandboxed=True), HIDDEN[[0, 1], [0, 2]])


def test_a_worker_s_scratch_is_removed_when_it_ends(tmp_path: Path) -> None:
    seen = facts(probe(tmp_path, try_writes=False), sandboxed=False)
    assert seen["cwd"] and not Path(seen["cwd"]).exists()


def test_a_file_a_worker_writes_stops_at_the_size_limit_with_an_error_it_can_read(tmp_path: Path) -> None:
    writer = (
        "import errno, json\nwritten, why = 0, None\ntry:\n    with open('big', 'wb', buffering=0) as f:\n"
        "        while written < 2 * LIMIT:\n            written += f.write(bytes(2**20))\n"
        "except OSError as err:\n    why = errno.errorcode[err.errno]\n"
        "raise RuntimeError('<<' + json.dumps({'written': written, 'why': why}) + '>>')\n"
    )
    seen = facts(student(tmp_path, "writer", f"LIMIT = {worker.MAX_FILE_BYTES}\n" + writer), sandboxed=True)
    assert seen == {"written": worker.MAX_FILE_BYTES, "why": "EFBIG"}  # not killed by SIGXFSZ


def test_the_student_s_time_budget_ends_their_remaining_checks(tmp_path: Path) -> None:
    slow = (ROOT / "solutions" / EX1.filename).read_text(encoding="utf-8") + (
        "\n_real = last_token\n\ndef last_token(hidden, lengths):\n    import time\n    time.sleep(0.5)\n"
        "    return _real(hidden, lengths)\n"
    )
    runner = IsolatedRunner(student(tmp_path, "slow", slow), Limits(call_timeout_s=10, budget_s=2.0), sandbox=True)
    try:
        submission = runner.load(EX1)
        with pytest.raises(WorkerFailure, match="time budget") as caught:
            for _ in range(10):
                submission.last_token(HIDDEN, LENGTHS)
    finally:
        runner.close()
    assert any(phrase in str(caught.value) for phrase in batch.FLAG_PHRASES["over_budget"])  # flagged in grades.csv


def test_a_sandbox_that_ends_under_a_worker_is_the_kit_s_failure_not_the_student_s(tmp_path: Path) -> None:
    """PID 1 of the sandbox cannot be stopped from inside: if it goes during a call, the kit failed (no 0);
    the next call gets a fresh sandbox."""
    slow = (ROOT / "solutions" / EX1.filename).read_text(encoding="utf-8") + (
        "\n_real = last_token\n\ndef last_token(hidden, lengths):\n    import time\n    time.sleep(2)\n"
        "    return _real(hidden, lengths)\n"
    )
    runner = IsolatedRunner(student(tmp_path, "slow", slow), sandbox=True)
    try:
        submission = runner.load(EX1)
        server = fork_server.server(True, runner._use_cuda)
        threading.Timer(0.5, os.kill, (zygote_pid(server), signal.SIGKILL)).start()
        with pytest.raises(GraderError, match="fork server ended"):
            submission.last_token(HIDDEN, LENGTHS)
        submission.begin_check()
        torch.testing.assert_close(submission.last_token(HIDDEN, LENGTHS), HIDDEN[[0, 1], [0, 2]])
    finally:
        runner.close()


@pytest.mark.slow  # two batch runs
def test_batch_refuses_to_grade_without_the_sandbox_unless_told(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    student(submissions, "alice", (ROOT / "solutions" / EX1.filename).read_text(encoding="utf-8"))
    no_bwrap = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # bwrap is not on this PATH
    base = [sys.executable, "-m", "grader", "batch", str(submissions), "--exercises", "ex1", "--workers", "1",
            "--profile", "smoke", "--no-preflight"]  # fmt: skip
    refused = subprocess.run([*base, "--out", str(tmp_path / "a")], cwd=ROOT, env=no_bwrap, capture_output=True, text=True, timeout=600)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "sandbox" in refused.stdout and "--unsafe-no-sandbox" in refused.stdout
    assert not (tmp_path / "a" / "grades.csv").exists()
    unsafe = [*base, "--out", str(tmp_path / "b"), "--unsafe-no-sandbox"]
    allowed = subprocess.run(unsafe, cwd=ROOT, env=no_bwrap, capture_output=True, text=True, timeout=600)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "without the OS sandbox" in allowed.stdout
    assert "18" in (tmp_path / "b" / "grades.csv").read_text(encoding="utf-8")


def test_sandbox_problem_names_a_missing_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    sandbox.problem.cache_clear()
    try:
        assert "bubblewrap" in str(sandbox.problem())
    finally:
        monkeypatch.undo()
        sandbox.problem.cache_clear()
