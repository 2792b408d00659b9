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

import contextlib
import multiprocessing
import signal
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from grader import devices
from grader.errors import GraderError
from grader.feedback import CheckFailure
from grader.isolation import wire
from grader.loader import LoadError, find_source
from grader.registry import Exercise
from grader.runner import Limits, StudentError, builtin_exception, driver_key

#: Seconds a new worker may take to start and load the student's file.
START_TIMEOUT_S = 60.0

_context: multiprocessing.context.ForkServerContext | None = None


def context() -> multiprocessing.context.ForkServerContext:
    """The fork server that workers start from: torch and the check modules preloaded, CUDA untouched."""
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["grader.isolation.preload"])
    return _context


@contextlib.contextmanager
def _bare_main() -> Iterator[None]:
    """Start a worker without re-importing this program's ``__main__`` in it, even from a daemon.

    multiprocessing imports the parent's main module in every child it starts. For a
    worker that would be whatever program runs the grader (a test runner, a Dask
    worker, a script), none of which the student's code should share a process with.
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    # A Dask worker is a daemonic process, and multiprocessing refuses children to those
    # (they could outlive it). Ours cannot: each dies with its fork server (see worker.serve).
    config = multiprocessing.current_process()._config  # noqa: SLF001
    daemon = config.pop("daemon", None)
    try:
        yield
    finally:
        sys.modules["__main__"] = main
        if daemon is not None:
            config["daemon"] = daemon


class WorkerFailure(CheckFailure):
    """The worker did not answer: it hung, crashed or exited."""


class Worker:
    """One worker process running one exercise file; requests are answered one at a time.

    Starting one raises :class:`GraderError` when the kit's part fails (the fork server,
    the worker's set-up), and reports the student's part (loading their file) in
    :attr:`hello`, or as a :class:`WorkerFailure` if loading it hung or killed the worker.
    """

    def __init__(self, target: Path, exercise: Exercise, limits: Limits, use_cuda: bool) -> None:
        from grader.isolation import worker

        self.limits = limits
        self._last_id = 0  # each request's id is one more: its reply must carry it
        try:
            ctx = context()
            self._conn, child = ctx.Pipe(duplex=True)
            self.process = ctx.Process(
                target=worker.serve, args=(child, str(target), exercise.id, limits, use_cuda), daemon=True
            )
            with _bare_main():
                self.process.start()
            child.close()
        except Exception as err:  # noqa: BLE001 - no worker at all: the fork server could not start or fork
            raise GraderError(f"the fork server could not start a worker for {exercise.id}: {type(err).__name__}: {err}") from err
        self._set_up(exercise, use_cuda)
        self.hello = self._receive(START_TIMEOUT_S, what=f"{exercise.filename} の読み込み / loading {exercise.filename}")

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
        return WorkerFailure(
            f"{what} の途中で、あなたのコードを実行していたプロセスが終了しました / "
            f"the process running your code ended during {what}: {self._exit_cause()}"
            + ("" if self.process.exitcode is not None and self.process.exitcode < 0 else " (os._exit?)")
        )

    def _exit_cause(self) -> str:
        """How the worker process ended (it is killed if it has not), in a few words."""
        self.process.join(timeout=5)
        code = self.process.exitcode
        self.kill()
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            return f"signal {name}" + (" (メモリ不足? / out of memory?)" if -code == signal.SIGKILL else "")
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
    """Loads each exercise of ``target`` in its own worker process."""

    def __init__(self, target: Path, limits: Limits | None = None) -> None:
        self.target = Path(target).resolve()
        self.limits = limits or Limits()
        self._workers: dict[str, Worker] = {}
        self._loaded: dict[str, RemoteSubmission | LoadError] = {}
        self._violations: dict[str, list[str]] = {}
        self._broken: dict[str, GraderError] = {}  # exercises the kit failed to grade: no worker is tried again
        self._use_cuda = devices.cuda_available()

    def load(self, exercise: Exercise) -> RemoteSubmission:
        if exercise.id not in self._loaded:
            try:
                path = find_source(self.target, exercise)
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
        reply = self._worker(exercise).request(request, self.limits.call_timeout_s, what)
        self._note(exercise, reply)
        return reply

    def violations(self, exercise: Exercise) -> list[str]:
        """Forbidden actions the exercise's code attempted (each costs the exercise its points)."""
        return list(self._violations.get(exercise.id, []))

    def close(self) -> None:
        for worker in self._workers.values():
            worker.kill()
        self._workers.clear()

    def _worker(self, exercise: Exercise) -> Worker:
        if exercise.id in self._broken:
            raise self._broken[exercise.id]
        worker = self._workers.get(exercise.id)
        if worker is None or not worker.alive():
            if worker is not None:
                worker.kill()
            try:
                worker = Worker(self.target, exercise, self.limits, self._use_cuda)
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

