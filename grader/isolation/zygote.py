"""The fork server: a process that imported torch and the check modules once, and forks a worker on request.

It runs as ``python -c "from grader.isolation.zygote import main; main(FD)"``, inside the
sandbox (:mod:`grader.isolation.sandbox`, where it is PID 1) or, where none can start,
as a plain child of the grading process. ``FD`` is its end of a ``SOCK_SEQPACKET``
socket to the grading process (:mod:`grader.isolation.fork_server`), which sends one JSON
request per message and reads one JSON reply:

- ``{"op": "start", "exercise": ..., "limits": {...}, "use_cuda": ...}`` with the
  worker's end of its pipe attached: fork a worker (:func:`grader.isolation.worker.serve`)
  in a fresh scratch folder; reply ``{"pid": ...}``;
- ``{"op": "status", "pid": ...}``: ``{"exitcode": None}`` while it runs, else its exit
  code (``-N`` for signal N, as multiprocessing says it);
- ``{"op": "kill", "pid": ...}``: kill the worker and everything in its process group,
  wait for it, remove its scratch;
- ``{"op": "sweep"}``: kill every process but itself (all a student's workers and whatever
  they left behind) and empty the scratch space; the grading process asks after each
  student.

No student code ever runs here: it runs only in the forked children, which close this
socket first. Nothing here may ask CUDA anything (see :mod:`grader.isolation.preload`).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import tempfile
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4
MAX_MESSAGE = 65536


class Zygote:
    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.sandboxed = os.getpid() == 1  # PID 1 of the sandbox's own PID namespace
        self.scratch_root = Path(tempfile.mkdtemp(prefix="grader-fork-server-"))
        self.scratch: dict[int, Path] = {}  # live (or unreaped) workers and their scratch folders
        self.exitcodes: dict[int, int] = {}

    def serve(self) -> None:
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(self.control, MAX_MESSAGE, 1)
            except OSError:
                message, fds = b"", []
            if not message:  # the grading process hung up
                self.sweep()
                shutil.rmtree(self.scratch_root, ignore_errors=True)
                return
            request = json.loads(message)
            try:
                reply = self.handle(request, fds)
            except Exception:  # noqa: BLE001 - reported to the grading process, which calls it a grader error
                reply = {"error": traceback.format_exc(limit=4)[-2000:]}
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self.control.send(json.dumps(reply).encode())

    def handle(self, request: dict[str, Any], fds: list[int]) -> dict[str, Any]:
        self.reap()
        op = request["op"]
        if op == "start":
            return {"pid": self.start(request, fds[0])}
        pid = int(request.get("pid", 0))
        if op == "status":
            return {"exitcode": self.exitcodes.get(pid)}
        if op == "kill":
            self.kill(pid)
            return {"exitcode": self.exitcodes.get(pid)}
        if op == "sweep":
            return {"swept": self.sweep()}
        raise ValueError(f"unknown request {op!r}")

    def start(self, request: dict[str, Any], fd: int) -> int:
        from grader.isolation import worker
        from grader.options import Limits

        scratch = Path(tempfile.mkdtemp(prefix="worker-", dir=self.scratch_root))
        pid = os.fork()
        if pid == 0:  # the worker
            try:
                self.control.close()
                os.setpgid(0, 0)  # its own process group: a kill reaches what it starts
                conn = Connection(fd)
                worker.serve(conn, request["exercise"], Limits(**request["limits"]), request["use_cuda"], scratch, self.sandboxed)
            finally:
                os._exit(0)
        self.scratch[pid] = scratch
        return pid

    def kill(self, pid: int) -> None:
        if pid not in self.scratch:
            return
        for target in (-pid, pid):  # its group, then itself (if it left the group)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(target, signal.SIGKILL)
        self.wait_for(lambda: pid not in self.scratch)

    def sweep(self) -> int:
        """Kill every process but this one, reap them, and empty the scratch space."""
        doomed = set(self.scratch) | set(_children())
        if self.sandboxed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(-1, signal.SIGKILL)  # from PID 1: every other process of the namespace
        else:
            for pid in doomed:
                for target in (-pid, pid):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(target, signal.SIGKILL)
        self.wait_for(lambda: not self.scratch and not _children())
        for entry in self.scratch_root.iterdir():
            shutil.rmtree(entry, ignore_errors=True)
        if self.sandboxed:  # whatever else was written in the sandbox's writable places
            for folder in (Path(tempfile.gettempdir()), Path("/dev/shm")):
                for entry in folder.iterdir():
                    if entry == self.scratch_root:
                        continue
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        entry.unlink(missing_ok=True)
        return len(doomed)

    def wait_for(self, done: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.reap()
            if done() or time.monotonic() > deadline:
                return
            time.sleep(0.005)

    def reap(self) -> None:
        """Collect every ended child (orphans included: this process is their reaper) and remove workers' scratch."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            code = os.waitstatus_to_exitcode(status)
            if pid in self.scratch:
                self.exitcodes[pid] = code
                shutil.rmtree(self.scratch.pop(pid), ignore_errors=True)


def _children() -> list[int]:
    """This process's children (orphans adopted included), from /proc."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                    found.append(int(entry.name))
    return found


def main(fd: int) -> None:
    """Preload, say whether that worked, then fork workers until the grading process hangs up."""
    control = socket.socket(fileno=fd)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1)  # outside a sandbox, orphans come back here to be swept
    libc.prctl(PR_SET_DUMPABLE, 0)  # no worker may attach a debugger to this process
    try:
        import grader.isolation.preload  # noqa: F401 - torch, the check modules, the warm-up
    except BaseException:  # noqa: BLE001 - the kit's failure: reported, never blamed on a student
        control.send(json.dumps({"ready": False, "error": traceback.format_exc(limit=8)[-4000:]}).encode())
        return
    control.send(json.dumps({"ready": True}).encode())
    Zygote(control).serve()
