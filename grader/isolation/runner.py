"""Run the student's code in worker processes, away from the grading process.

The grading process draws examples, computes the reference results, compares and
scores; it never imports a submission. An :class:`IsolatedRunner` gives the checks
the same :class:`~grader.runner.Submission` interface as the in-process runner, but
each call is a round trip to a worker (:mod:`grader.isolation.worker`) that holds one exercise
file. Workers are forked from a fork server that imported torch once (and has not
initialised CUDA), so a fresh worker costs milliseconds, not an ``import torch``.

A hang, a crash, ``os._exit``, or a worker killed for memory fails the call that
caused it (and the rest of that check at once, without waiting again); the next
check gets a fresh worker.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from grader import devices
from grader.errors import GraderError
from grader.feedback import CheckFailure
from grader.isolation import fork_server, sandbox, wire
from grader.loader import LoadError, find_source
from grader.registry import Exercise
from grader.options import Limits
from grader.runner import StudentError, builtin_exception, driver_key

#: Seconds a new worker may take to start and load the student's file.
START_TIMEOUT_S = 60.0

#: The largest exercise file sent to a worker (a class batch refuses larger files when it stages them).
MAX_SOURCE_BYTES = 16 * 2**20


class WorkerFailure(CheckFailure):
    """The worker did not answer: it hung, crashed or exited."""


class Worker:
    """One worker process running one exercise file; requests are answered one at a time.

    Starting one raises :class:`GraderError` when the kit's part fails (the fork server,
    the worker's set-up), and reports the student's part (loading their file) in
    :attr:`hello`, or as a :class:`WorkerFailure` if loading it hung or killed the worker.
    """

    def __init__(self, source: Path, exercise: Exercise, limits: Limits, use_cuda: bool, sandboxed: bool) -> None:
        self.limits = limits
        self._last_id = 0  # each request's id is one more: its reply must carry it
        self._conn, child = multiprocessing.Pipe(duplex=True)
        self.process = self._fork(child, exercise, use_cuda, sandboxed)
        self._set_up(exercise, use_cuda)
        try:
            self._conn.send_bytes(wire.encode_request({"filename": source.name, "source": _read_source(source)}))
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # it ended: the wait below says how
        self.hello = self._receive(START_TIMEOUT_S, what=f"{exercise.filename} の読み込み / loading {exercise.filename}")

    def _fork(self, child: Connection, exercise: Exercise, use_cuda: bool, sandboxed: bool) -> fork_server.WorkerProcess:
        """A worker from this process's fork server; one that ended is started again once (a kit's failure after that)."""
        for attempt in (1, 2):
            try:
                return fork_server.server(sandboxed, use_cuda).start(child, exercise.id, self.limits, use_cuda)
            except fork_server.ForkServerGone as err:
                if attempt == 2:
                    raise GraderError(f"the fork server could not start a worker for {exercise.id}: {err}") from err
        raise AssertionError("unreachable")

    def _set_up(self, exercise: Exercise, use_cuda: bool) -> None:
        """Wait for the worker's set-up report (see :func:`grader.isolation.worker.serve`): any failure there is the kit's."""
        where = f"a worker for {exercise.id}" + (" (CUDA)" if use_cuda else "")
        if not self._conn.poll(START_TIMEOUT_S):
            self.kill()
            raise GraderError(f"{where} did not finish its set-up within {START_TIMEOUT_S:g} s")
        try:
            report = wire.decode_reply(self._conn.recv_bytes(wire.MAX_REPLY_BYTES))
        except (EOFError, OSError, wire.NotData):
            raise GraderError(f"{where} ended before the student's file started to run: {self._exit_cause()}") from None
        if report.get("setup") != "ok":
            self.kill()
            raise GraderError(f"{where} could not be set up before the student's file ran:\n{report.get('setup_error', report)}")

    def request(self, request: dict[str, Any], timeout: float, what: str) -> dict[str, Any]:
        """The worker's reply to ``request``, which carries a new id that the reply must echo.

        A request that does not end with its own reply (a time limit, a refused reply,
        Ctrl-C) kills the worker: its late reply must never answer the next request. A
        reply with another id (one the student's code sent itself, say) kills it too.
        """
        self._last_id += 1
        awaited = self._last_id
        try:
            self._conn.send_bytes(wire.encode_request({**request, "id": awaited}))
        except (BrokenPipeError, ConnectionResetError, OSError):
            raise self._ended(what) from None
        try:
            reply = self._receive(timeout, what)
            got = reply.get("id")
            if type(got) is not int or got != awaited:
                raise WorkerFailure(
                    f"あなたのコードを実行していたプロセスが、{what} ではない依頼への返事を送りました / the process "
                    f"running your code sent a reply to another request than {what} (id {wire.truncate(repr(got), 40)}, "
                    f"awaited {awaited})"
                )
            return reply
        except BaseException:
            self.kill()
            raise

    def _receive(self, timeout: float, what: str) -> dict[str, Any]:
        try:
            ready = self._conn.poll(timeout)
        except (EOFError, OSError):
            raise self._ended(what) from None
        if not ready:
            self.kill()
            raise WorkerFailure(
                f"{what} が {timeout:g} 秒以内に終わりませんでした / {what} did not finish within {timeout:g} s "
                "(無限ループはありませんか? / an infinite loop?)"
            )
        try:
            payload = self._conn.recv_bytes(wire.MAX_REPLY_BYTES)
        except (EOFError, OSError, ConnectionResetError):
            raise self._ended(what) from None
        try:
            return wire.decode_reply(payload)
        except wire.NotData as err:
            raise CheckFailure(
                "あなたのコードがふつうのテンソルやふつうの値ではないもの (テンソルのサブクラス、複素数・疎・meta・"
                "量子化・nested のテンソル、大きすぎる値など) を返しました / your code returned something that is not "
                "a plain tensor or plain data (a tensor subclass; a complex, sparse, meta, quantized or nested tensor; "
                "too large a value, say)",
                detail=str(err),
            ) from None

    def _ended(self, what: str) -> WorkerFailure:
        """The student's failure when their worker ended; a :class:`GraderError` when the sandbox itself went."""
        cause = self._exit_cause()
        if self.process.lost_with_the_sandbox:
            raise GraderError(f"the sandbox's fork server ended while a worker ran {what}: {cause}")
        return WorkerFailure(
            f"{what} の途中で、あなたのコードを実行していたプロセスが終了しました / "
            f"the process running your code ended during {what}: {cause}"
            + ("" if self.process.exitcode is not None and self.process.exitcode < 0 else " (os._exit?)")
        )

    def _exit_cause(self) -> str:
        """How the worker process ended (it is killed if it has not), in a few words."""
        self.process.join(timeout=5)
        code = self.process.exitcode
        self.kill()
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            hints = {signal.SIGKILL: " (メモリ不足? / out of memory?)", signal.SIGXCPU: " (CPU 時間の上限 / CPU time limit)"}
            return f"signal {name}" + hints.get(-code, "")
        return f"exit code {code}"

    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self._conn.close()


class RemoteSubmission:
    """A submission's exercise file as the checks see it, with its code running in a worker."""

    def __init__(self, runner: IsolatedRunner, exercise: Exercise, path: Path) -> None:
        self.exercise = exercise
        self.path = path
        self._runner = runner
        self._broken: CheckFailure | None = None  # set when the worker failed during this check

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):  # private names are ours (and hypothesis's printer asks for _repr_pretty_)
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._request({"call": name, "args": args, "kwargs": kwargs}, f"{name}(...)")

        call.__name__ = name
        return call

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run the driver ``fn`` in the worker; its result comes back as data."""
        return self._request({"driver": driver_key(fn), "args": args, "kwargs": kwargs}, fn.__name__)

    def begin_check(self) -> None:
        self._broken = None

    def _request(self, request: dict[str, Any], what: str) -> Any:
        if self._broken is not None:
            raise WorkerFailure(
                f"この確認の前の例で、あなたのコードを実行するプロセスが止まりました / the process running your code "
                f"failed on an earlier example of this check:\n{self._broken}"
            )
        try:
            reply = self._runner.request(self.exercise, request, what)
        except WorkerFailure as err:
            self._broken = err
            raise
        return _unpack(reply, what)


def _unpack(reply: dict[str, Any], what: str) -> Any:
    if "ok" in reply:
        return reply["ok"]
    raised = reply.get("raised")
    original = builtin_exception(list(raised["types"]), str(raised["message"])) if raised else None
    if "failure" in reply:
        failure = reply["failure"]
        fields = dict(
            example=failure.get("example") or {},
            expected=failure.get("expected"),
            actual=failure.get("actual"),
        )
        problem, detail = str(failure.get("problem", "")), str(failure.get("detail", ""))
        if original is not None:
            raise StudentError("", original, fields["example"], detail, problem=problem)
        raise CheckFailure(problem, detail=detail, **fields)
    if original is not None:
        problem = (
            f"まだ実装されていない部分があります / your code is not implemented yet: {original}"
            if isinstance(original, NotImplementedError)
            else f"あなたのコードが例外を送出しました / your code raised {type(original).__name__}: {original}"
        )
        raise StudentError("", original, {}, str(reply.get("where", "")), problem=problem)
    raise CheckFailure(
        "あなたのコードを実行したプロセスから、読めない返事が届きました / "
        f"the process running your code sent back a reply the grader cannot read (keys {sorted(reply)})"
    )


class IsolatedRunner:
    """Loads each exercise of ``target`` in its own worker process, inside the sandbox when there is one.

    ``sandbox``: ``True`` requires the OS sandbox (:mod:`grader.isolation.sandbox`; a
    :class:`GraderError` where it cannot start), ``False`` runs workers without it (the
    audit hook is then the only guard), ``None`` uses it where it can start.
    The student's code has :attr:`Limits.budget_s` seconds of wall-clock time in all:
    after that, every remaining check fails at once.
    """

    def __init__(self, target: Path, limits: Limits | None = None, sandbox: bool | None = None) -> None:
        self.target = Path(target).resolve()
        self.limits = limits or Limits()
        self._workers: dict[str, Worker] = {}
        self._loaded: dict[str, RemoteSubmission | LoadError] = {}
        self._sources: dict[str, Path] = {}
        self._violations: dict[str, list[str]] = {}
        self._broken: dict[str, GraderError] = {}  # exercises the kit failed to grade: no worker is tried again
        self._use_cuda = devices.cuda_available()
        self._sandbox = sandbox
        self._spent = 0.0  # seconds the student's code has run (the budget's count)

    @property
    def sandboxed(self) -> bool:
        """Whether the workers run in the OS sandbox (decided on first use)."""
        if self._sandbox is None:
            self._sandbox = sandbox.problem() is None
        elif self._sandbox and sandbox.problem() is not None:
            raise GraderError(f"the sandbox cannot start on this machine: {sandbox.problem()}")
        return self._sandbox

    def load(self, exercise: Exercise) -> RemoteSubmission:
        if exercise.id not in self._loaded:
            try:
                path = find_source(self.target, exercise)
                if path.stat().st_size > MAX_SOURCE_BYTES:
                    raise LoadError(
                        f"{path.name} は {MAX_SOURCE_BYTES // 2**20} MiB を超えています / {path.name} is larger than "
                        f"{MAX_SOURCE_BYTES // 2**20} MiB"
                    )
                self._sources[exercise.id] = path
                hello = self._worker(exercise).hello
                if "load_error" in hello:
                    raise LoadError(str(hello["load_error"]))
                self._loaded[exercise.id] = RemoteSubmission(self, exercise, path)
            except (LoadError, CheckFailure) as err:
                self._loaded[exercise.id] = err if isinstance(err, LoadError) else LoadError(str(err))
        loaded = self._loaded[exercise.id]
        if isinstance(loaded, LoadError):
            raise loaded
        return loaded

    def request(self, exercise: Exercise, request: dict[str, Any], what: str) -> dict[str, Any]:
        worker = self._worker(exercise)
        left = self._budget_left()
        started = time.monotonic()
        try:
            reply = worker.request(request, min(self.limits.call_timeout_s, left), what)
        except WorkerFailure:
            self._spent += time.monotonic() - started
            self._budget_left()  # a time limit that was the budget's says so
            raise
        self._spent += time.monotonic() - started
        self._note(exercise, reply)
        return reply

    def violations(self, exercise: Exercise) -> list[str]:
        """Forbidden actions the exercise's code attempted (each costs the exercise its points)."""
        return list(self._violations.get(exercise.id, []))

    def close(self) -> None:
        """Kill the workers, and everything they left behind: nothing of this student outlives the run."""
        for worker in self._workers.values():
            worker.kill()
        self._workers.clear()
        if self._sandbox is not None:
            fork_server.sweep(self._sandbox, self._use_cuda)

    def _budget_left(self) -> float:
        left = self.limits.budget_s - self._spent
        if left <= 0:
            raise WorkerFailure(
                f"あなたのコードの実行時間が、この採点全体の持ち時間 {self.limits.budget_s:g} 秒を使い切りました。残りの確認は"
                f"採点されません (遅すぎる処理や待ち時間はありませんか?) / your code used up its time budget for this "
                f"grading run ({self.limits.budget_s:g} s); the remaining checks fail (is something very slow, or waiting?)"
            )
        return left

    def _worker(self, exercise: Exercise) -> Worker:
        if exercise.id in self._broken:
            raise self._broken[exercise.id]
        worker = self._workers.get(exercise.id)
        if worker is None or not worker.alive():
            if worker is not None:
                worker.kill()
            self._budget_left()
            try:
                fork_server.server(self.sandboxed, self._use_cuda)  # its start is the kit's time, not the student's
                started = time.monotonic()
                try:
                    worker = Worker(self._sources[exercise.id], exercise, self.limits, self._use_cuda, self.sandboxed)
                finally:
                    self._spent += time.monotonic() - started
            except GraderError as err:
                self._broken[exercise.id] = err
                raise
            self._workers[exercise.id] = worker
            self._note(exercise, worker.hello)
        return worker

    def _note(self, exercise: Exercise, reply: dict[str, Any]) -> None:
        seen = self._violations.setdefault(exercise.id, [])
        for line in reply.get("violations", []):
            if str(line) not in seen:
                seen.append(str(line))


def _read_source(path: Path) -> bytes:
    """The student's file, read by the grading process: the worker gets these bytes, never the path."""
    with path.open("rb") as f:
        data = f.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise LoadError(
            f"{path.name} は {MAX_SOURCE_BYTES // 2**20} MiB を超えています / {path.name} is larger than {MAX_SOURCE_BYTES // 2**20} MiB"
        )
    return data
