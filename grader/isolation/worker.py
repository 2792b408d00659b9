"""An isolated worker: runs one exercise file of one submission, and answers requests.

Forked, at the grading process's request (:mod:`grader.isolation.runner`), by a fork
server that already imported torch and the check modules (for their drivers; see
:mod:`grader.isolation.zygote`), so a worker starts in milliseconds, inside the sandbox
(:mod:`grader.isolation.sandbox`). Before the student's file runs, the worker limits its
memory, CPU time and files, silences its output, moves to its scratch folder and installs
:mod:`grader.isolation.guard`. Then it receives the file, loads it and serves
requests: "call the student's function ``name``" or "run this driver". Each reply is
plain data (see :mod:`grader.isolation.wire`), or a failure to report.
"""

from __future__ import annotations

import importlib
import os
import resource
import signal
import sys
import tempfile
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import torch

from grader import registry
from grader.feedback import CheckFailure, plain
from grader.isolation import guard, wire
from grader.loader import LoadError, load_module, student_traceback
from grader.options import Limits
from grader.runner import DRIVERS, StudentError, Submission

KIT_ROOT = Path(__file__).resolve().parents[2]

#: The folder of the worker's scratch that holds its private copy of the student's file.
SUBMISSION = "submission"

#: The largest file a worker may write (its scratch space as a whole is bounded by the sandbox).
MAX_FILE_BYTES = 64 * 2**20

#: Processes and threads a sandbox's user may run at once (torch's own threads included).
MAX_PROCESSES = 64

#: Workers run at a lower priority than the grading process, which measures their time.
NICENESS = 10


def preload() -> None:
    """Import every check module (for its drivers), and make sure none of them imported the reference."""
    importlib.import_module("grader.drivers")
    for exercise in registry.EXERCISES:
        importlib.import_module(exercise.check_module)
    leaked = sorted(m for m in sys.modules if m.split(".", 1)[0] in guard.FORBIDDEN_PACKAGES)
    if leaked:  # a check module read ``ref`` at import time: that would hand the answers to the worker
        raise RuntimeError(f"a worker must not hold the reference, but these modules are imported: {leaked}")


def serve(conn: Connection, exercise_id: str, limits: Limits, use_cuda: bool, scratch: Path, sandboxed: bool) -> None:
    """The worker's whole life: set up and guard, receive and load the file, then answer requests until hung up.

    Forked by the fork server (:mod:`grader.isolation.zygote`) in its own ``scratch``
    folder. The first message says whether the set-up (the kit's part) worked, before
    any of the student's code runs: ``{"setup": "ok"}``, or ``{"setup_error": ...}`` when
    it did not (a guard that cannot be installed, CUDA that cannot initialise). A worker
    that ends before it sent either failed in the kit's part too. So the grading process
    can tell the kit's failures (no score: :class:`~grader.errors.GraderError`) from the
    student's (a load error, a crash while loading), and never blames a student for ours.
    ``use_cuda`` is the grading process's decision: this worker asks CUDA only when told to.

    The student's file then arrives as bytes (``{"filename": ..., "source": ...}``) and is
    written into ``scratch/submission/``: a private copy, never a link to their folder.
    """
    try:
        _set_up(limits, use_cuda, scratch, sandboxed)
    except BaseException:  # noqa: BLE001 - whatever broke, it broke before the student's code ran
        conn.send_bytes(wire.encode_reply({"setup_error": traceback.format_exc(limit=8)[-4000:]}))
        return
    conn.send_bytes(wire.encode_reply({"setup": "ok"}))

    exercise = registry.find(exercise_id)
    try:
        submission = wire.decode_request(conn.recv_bytes())
    except EOFError:
        return
    folder = scratch / SUBMISSION
    (folder / Path(submission["filename"]).name).write_bytes(submission["source"])
    try:
        module = load_module(folder, exercise)
        student: Submission | None = Submission(exercise, module, Path(module.__file__))
        hello: dict[str, Any] = {"ready": True}
    except LoadError as err:
        student, hello = None, {"load_error": str(err)}
    _reply(conn, hello)
    while student is not None:
        try:
            request = wire.decode_request(conn.recv_bytes())
        except EOFError:
            return
        _reply(conn, _handle(student, request), request.get("id"))


def _set_up(limits: Limits, use_cuda: bool, scratch: Path, sandboxed: bool) -> None:
    """Everything before the student's file runs: limits, CUDA when asked, the scratch folder, the guard."""
    preload()
    _die_with_parent()
    _silence_output()
    torch.set_num_threads(1)
    _limit_resources(limits, sandboxed)
    if use_cuda:
        torch.cuda.init()  # before the guard: CUDA loads its libraries through ctypes
        torch.cuda.device_count()  # so does this count (through NVML), until CUDA caches it
    else:
        _limit_memory(limits.memory_mb)
    sys.dont_write_bytecode = True  # torch's lazy imports must not write __pycache__ under the guard
    os.environ["TMPDIR"] = os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(scratch)
    tempfile.tempdir = str(scratch)
    os.chdir(scratch)
    (scratch / SUBMISSION).mkdir()
    guard.install(KIT_ROOT, scratch / SUBMISSION, scratch)


def _handle(student: Submission, request: dict[str, Any]) -> dict[str, Any]:
    try:
        if "call" in request:
            value = getattr(student, request["call"])(*request["args"], **request["kwargs"])
        else:
            value = DRIVERS[request["driver"]](student, *request["args"], **request["kwargs"])
        return {"ok": value}
    except StudentError as err:
        return {"failure": _failure(err), "raised": _raised(err.original)}
    except CheckFailure as err:
        return {"failure": _failure(err)}
    except BaseException as err:  # noqa: BLE001 - whatever the student's code raised (SystemExit too) is a failure
        return {"raised": _raised(err), "where": student_traceback(err, student.path)}


def _failure(err: CheckFailure) -> dict[str, Any]:
    return {
        "problem": str(err.problem),
        "example": plain(err.example),
        "expected": plain(err.expected),
        "actual": plain(err.actual),
        "detail": str(err.detail),
    }


def _raised(err: BaseException) -> dict[str, Any]:
    # a lone string argument as it was (str(KeyError("k")) would add quotes to the rebuilt KeyError's)
    message = err.args[0] if len(err.args) == 1 and type(err.args[0]) is str else _safe_str(err)
    return {"types": [t.__name__ for t in type(err).__mro__], "message": message[:2000]}


def _safe_str(err: BaseException) -> str:
    try:
        return str(err)[:2000]
    except Exception:  # noqa: BLE001 - a student's __str__ may raise
        return type(err).__name__


def _reply(conn: Connection, reply: dict[str, Any], request_id: int | None = None) -> None:
    """Send ``reply`` (or why it cannot be sent), with the guard's violations and the id of the request it answers.

    The grading process takes no reply but the one to the request it awaits (see
    :meth:`grader.isolation.runner.Worker.request`); the first messages answer no request.
    """
    stamp: dict[str, Any] = {"violations": list(guard.VIOLATIONS)}
    if request_id is not None:
        stamp["id"] = request_id
    try:
        payload = wire.encode_reply({**reply, **stamp})
    except wire.NotData as err:
        payload = wire.encode_reply({**_cannot_send(
            "あなたのコードがテンソルやふつうの値ではないもの、または大きすぎる値を返しました / "
            "your code returned something that is not a tensor or plain data, or too large a value",
            str(err),
        ), **stamp})  # fmt: skip
    except Exception:  # noqa: BLE001 - e.g. a tensor whose storage cannot be serialised
        detail = traceback.format_exc(limit=1)
        payload = wire.encode_reply({**_cannot_send("返り値を送れません / the result cannot be sent back", detail), **stamp})
    conn.send_bytes(payload)


def _cannot_send(problem: str, detail: str) -> dict[str, Any]:
    return {"failure": {"problem": problem, "example": {}, "expected": None, "actual": None, "detail": detail}}


def _die_with_parent() -> None:
    """Linux: be killed when the fork server goes (it goes with the grading process), even while looping."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: a hung worker is still killed by its call's time limit


def _silence_output() -> None:
    """The submission's prints go nowhere: fake "PASSED" lines must not reach a log or a terminal."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _limit_resources(limits: Limits, sandboxed: bool) -> None:
    """CPU time (every thread counts), file size, no core dumps, a lower priority; a process count in the sandbox.

    Outside a sandbox the process count is the user's across the machine, so it is left alone there.
    """
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(4, 1)  # PR_SET_DUMPABLE, which the fork server turned off for itself
    cpu = int(limits.cpu_s)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))  # SIGXCPU, then SIGKILL
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG (an OSError to read), not a kill
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sandboxed:
        resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
    os.nice(NICENESS)


def _limit_memory(memory_mb: int) -> None:
    """Address space: what the worker has mapped now (torch included) plus ``memory_mb``."""
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    limit = mapped + memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
