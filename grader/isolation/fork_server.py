"""The grading process's side of the fork server (:mod:`grader.isolation.zygote`): start it, ask it for workers.

One fork server per grading process and kind (sandboxed or not, GPU nodes or not),
started on first use and again if it ended. Workers are its children, in its PID
namespace when sandboxed, so their PIDs mean nothing here: everything about a worker
(is it running, how did it end, kill it) is asked of the fork server, which is their
parent and reaper.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from typing import Any

from grader.errors import GraderError
from grader.isolation import sandbox
from grader.options import Limits

#: Seconds the fork server may take to start (import torch and the check modules, warm up).
START_TIMEOUT_S = 120.0
#: Seconds it may take to answer one request (a kill or a sweep waits for processes to end).
ANSWER_TIMEOUT_S = 60.0
MAX_MESSAGE = 65536


class ForkServerGone(Exception):
    """The fork server ended (or stopped answering) after it had started."""


class ForkServer:
    """A running fork server; :meth:`start` asks it for a worker."""

    def __init__(self, sandboxed: bool, cuda: bool) -> None:
        self.sandboxed = sandboxed
        where = "in its sandbox" if sandboxed else "(without a sandbox)"
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._log = tempfile.TemporaryFile()
        python = [sys.executable, "-c", f"from grader.isolation.zygote import main; main({theirs.fileno()})"]
        env = None
        try:
            if sandboxed:
                argv = sandbox.command(python, cuda=cuda)
            else:
                argv = python
                env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(sandbox.KIT_ROOT), os.environ.get("PYTHONPATH", "")])}
            self._process = subprocess.Popen(
                argv, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                env=env, cwd=tempfile.gettempdir(), start_new_session=True,
            )  # fmt: skip
        except (OSError, sandbox.SandboxUnavailable) as err:
            raise GraderError(f"the fork server could not start {where}: {err}") from err
        finally:
            theirs.close()
        self._control = ours
        try:
            ready = self._receive(START_TIMEOUT_S)
        except ForkServerGone as err:
            self.close()
            raise GraderError(f"the fork server could not start {where}: {err}") from None
        if not ready.get("ready"):
            self.close()
            raise GraderError(f"the fork server could not start {where}: its preload failed:\n{ready.get('error')}")

    def start(self, conn: Connection, exercise_id: str, limits: Limits, use_cuda: bool) -> WorkerProcess:
        """Fork a worker for ``exercise_id`` that talks over ``conn`` (its end is passed, then closed here)."""
        request = {"op": "start", "exercise": exercise_id, "limits": limits.__dict__, "use_cuda": use_cuda}
        try:
            reply = self.ask(request, [conn.fileno()])
        finally:
            conn.close()
        return WorkerProcess(self, int(reply["pid"]))

    def ask(self, request: dict[str, Any], fds: list[int] | None = None) -> dict[str, Any]:
        try:
            socket.send_fds(self._control, [json.dumps(request).encode()], fds or [])
        except OSError as err:
            raise ForkServerGone(f"it ended ({self._how_it_ended()})") from err
        reply = self._receive(ANSWER_TIMEOUT_S)
        if "error" in reply:
            raise GraderError(f"the fork server failed to {request['op']}: {reply['error']}")
        return reply

    def sweep(self) -> None:
        """End every process the workers left behind, and empty the scratch space (between students)."""
        self.ask({"op": "sweep"})

    def alive(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        """Hang up: the fork server sweeps and ends (and, sandboxed, its namespace with it)."""
        self._control.close()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()

    def _receive(self, timeout: float) -> dict[str, Any]:
        self._control.settimeout(timeout)
        try:
            message = self._control.recv(MAX_MESSAGE)
        except TimeoutError:
            self._process.kill()
            raise ForkServerGone(f"it did not answer within {timeout:g} s") from None
        except OSError:
            message = b""
        if not message:
            raise ForkServerGone(f"it ended ({self._how_it_ended()})")
        return json.loads(message)

    def _how_it_ended(self) -> str:
        try:
            code = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "still running, but not answering"
        self._log.seek(0)
        output = self._log.read()[-3000:].decode(errors="replace").strip()
        return f"exit code {code}" + (f"; it said:\n{output}" if output else "")


class WorkerProcess:
    """One worker, as its parent the fork server sees it (the few calls of multiprocessing.Process the runner uses)."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server, self.pid = server, pid
        self._exitcode: int | None = None
        self._gone = False

    @property
    def exitcode(self) -> int | None:
        if self._exitcode is None and not self._gone:
            self._exitcode = self._ask("status")
        return self._exitcode

    def is_alive(self) -> bool:
        return self.exitcode is None and not self._gone

    @property
    def lost_with_the_sandbox(self) -> bool:
        """It ended because the sandbox's fork server did (PID 1 there: no student code can stop it, so the kit failed)."""
        return self._gone and self.server.sandboxed

    def kill(self) -> None:
        if self.is_alive():
            self._exitcode = self._ask("kill")

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)

    def _ask(self, op: str) -> int | None:
        try:
            return self.server.ask({"op": op, "pid": self.pid})["exitcode"]
        except ForkServerGone:  # the fork server and its workers are gone
            self._gone = True
            return None


_servers: dict[tuple[bool, bool], ForkServer] = {}


def server(sandboxed: bool, cuda: bool) -> ForkServer:
    """This process's fork server of that kind, started (again) if it is not running."""
    key = (sandboxed, cuda)
    running = _servers.get(key)
    if running is None or not running.alive():
        if running is not None:
            running.close()
        _servers[key] = running = ForkServer(sandboxed, cuda)
    return running


def sweep(sandboxed: bool, cuda: bool) -> None:
    """After a student: nothing of theirs may outlive their turn (a fork server that ended took it all along)."""
    running = _servers.get((sandboxed, cuda))
    if running is None:
        return
    try:
        running.sweep()
    except ForkServerGone:
        running.close()
        del _servers[(sandboxed, cuda)]


def close_all() -> None:
    """Hang up on every fork server of this process (each sweeps and ends); the next worker starts a fresh one."""
    while _servers:
        _servers.popitem()[1].close()


os.register_at_fork(after_in_child=_servers.clear)  # a forked process starts its own
