"""Nothing a worker sends back can hurt the grading process (grader/isolation/wire.py, runner.py).

A reply is checked before use, on both sides of the pipe: the worker refuses to send what
the grading process would refuse to read, and the grading process reads bytes the
student's code may have written itself. Refused: tensors that are not plain, strided and
of a real or bool dtype (complex, sparse, meta, quantized, nested), tensors or replies too
large (an ``expand`` to 2**40 elements), containers too deep or too long, huge ints; every
string is cut. Each request carries an id its reply must echo, so a reply the student's
code sent on its own never answers a request.
"""

from __future__ import annotations

import io
import multiprocessing
import time
from typing import Any

import pytest
import torch

from grader import registry
from grader.feedback import CheckFailure
from grader.isolation import wire
from grader.isolation.runner import IsolatedRunner, Worker, WorkerFailure
from grader.options import Limits

#: Seconds within which any refusal must come (the measured attacks took minutes, or crashed).
QUICK_S = 5.0


def forged(reply: dict[str, Any], legacy: bool = False) -> bytes:
    """Bytes as the student's code could write them in the worker, past the worker's own checks.

    ``torch.load`` reads both of torch's formats: the zip format (the default) and the
    legacy one that the worker writes.
    """
    buffer = io.BytesIO()
    torch.save(reply, buffer, _use_new_zipfile_serialization=not legacy)
    return buffer.getvalue()


def quantized() -> torch.Tensor:
    return torch.quantize_per_tensor(torch.zeros(2), 0.1, 0, torch.quint8)


def nested() -> torch.Tensor:
    return torch.nested.nested_tensor([torch.zeros(2), torch.zeros(3)])


def jagged() -> torch.Tensor:
    return torch.nested.nested_tensor([torch.zeros(2), torch.zeros(3)], layout=torch.jagged)


HOSTILE = {
    "expanded 2**40": (lambda: torch.zeros(1).expand(2**40), "2**40 elements"),
    "expanded 2**36 (2-d)": (lambda: torch.zeros(1, 1).expand(2**18, 2**18), "elements"),
    "complex": (lambda: torch.zeros(2, dtype=torch.complex64), "complex64"),
    "sparse coo": (lambda: torch.eye(3).to_sparse(), "sparse_coo"),
    "sparse csr": (lambda: torch.eye(3).to_sparse_csr(), "sparse_csr"),
    "meta": (lambda: torch.zeros(2**40, device="meta"), "meta"),
    "quantized": (quantized, "quantized"),
    "nested": (nested, "nested"),
    "jagged": (jagged, "subclass"),
    "tagged": (lambda: _tagged(), "attributes"),
}


def _tagged() -> torch.Tensor:
    t = torch.zeros(2)
    t.note = "x" * 100
    return t


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_tensor_is_refused_when_read(kind: str) -> None:
    make, named = HOSTILE[kind]
    payload = forged({"ok": {"out": [make()]}, "violations": []})
    start = time.perf_counter()
    with pytest.raises(wire.NotData) as refused:
        wire.decode_reply(payload)
    assert time.perf_counter() - start < QUICK_S
    message = str(refused.value)
    assert "reply['ok']['out'][0]" in message, message  # says where
    assert (str(2**40) if named == "2**40 elements" else named) in message, message  # and what


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_tensor_in_the_legacy_format_is_refused_when_read(kind: str) -> None:
    """Refused by name, or (a nested tensor, whose sizes this format loses) by torch.load itself."""
    with pytest.raises(wire.NotData):
        wire.decode_reply(forged({"ok": HOSTILE[kind][0]()}, legacy=True))


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_tensor_is_refused_when_written(kind: str) -> None:
    """The worker checks too, so that it can tell the student what it refused."""
    with pytest.raises(wire.NotData):
        wire.encode_reply({"ok": HOSTILE[kind][0]()})


def test_a_small_expanded_view_is_read_as_a_plain_tensor() -> None:
    base = torch.arange(3.0)
    view = base[:, None].expand(3, 1000)
    back = wire.decode_reply(forged({"ok": view}))["ok"]
    assert type(back) is torch.Tensor and back.is_contiguous() and 0 not in back.stride()
    assert back.untyped_storage().nbytes() == 3 * 1000 * 4  # it owns its elements
    assert torch.equal(back, view)


def test_views_that_fit_their_storage_stay_as_sent() -> None:
    """Slices and transposes are not copied (nor are Parameters changed)."""
    base = torch.randn(4, 5)
    reply = {"ok": {"t": base.t(), "s": base[1:, ::2], "p": torch.nn.Parameter(torch.randn(3))}}
    back = wire.decode_reply(forged(reply))["ok"]
    assert back["t"].stride() == (1, 5) and torch.equal(back["t"], base.t())
    assert back["s"].stride() == (5, 2) and torch.equal(back["s"], base[1:, ::2])
    assert type(back["p"]) is torch.nn.Parameter and back["p"].requires_grad


@pytest.mark.parametrize("dtype", sorted(wire.REAL_DTYPES, key=str))
def test_every_real_dtype_is_read_back(dtype: torch.dtype) -> None:
    t = torch.ones(2, 3, dtype=dtype)
    assert torch.equal(wire.decode_reply(wire.encode_reply({"ok": t}))["ok"], t)


def test_the_tensors_of_one_reply_are_bounded_together() -> None:
    one = torch.zeros(wire.MAX_TENSOR_NUMEL, dtype=torch.float64)  # 128 MiB, within the per-tensor cap
    assert wire.decode_reply(forged({"ok": [one]}))["ok"][0].numel() == wire.MAX_TENSOR_NUMEL
    with pytest.raises(wire.NotData, match="MiB together"):
        wire.decode_reply(forged({"ok": [one, one, one]}))  # one storage, but three views to compare
    with pytest.raises(wire.NotData, match="at most"):
        wire.decode_reply(forged({"ok": torch.zeros(wire.MAX_TENSOR_NUMEL + 1, dtype=torch.bool)}))


def test_a_huge_string_is_cut_visibly_everywhere() -> None:
    huge = "x" * (24 * 2**20)
    reply = {"raised": {"types": ["ValueError"], "message": huge}, "where": [huge], huge: 1, "b": huge.encode()}
    start = time.perf_counter()
    back = wire.decode_reply(forged(reply))
    assert time.perf_counter() - start < QUICK_S
    cut = "x" * wire.MAX_STR_CHARS + wire.TRUNCATED
    assert back["raised"]["message"] == cut and back["where"] == [cut] and back[cut] == 1
    assert back["b"] == cut.encode()
    assert wire.decode_reply(wire.encode_reply({"m": huge}))["m"] == cut  # the worker cuts before sending
    assert wire.decode_reply(forged({"m": "short"}))["m"] == "short"


@pytest.mark.parametrize(
    "value, named",
    [
        ("huge int", None),  # str(10**5000) raises ValueError in Python 3.11+ (pytest's ids too); torch.load refuses it
        ("long list", "items"),
        ("deep", "deep"),
        ("cycle", "deep"),
        ("shared", "items"),
    ],
)
def test_containers_and_ints_are_bounded(value: object, named: str | None) -> None:
    if value == "huge int":
        value = 10**5000
    elif value == "long list":
        value = list(range(wire.MAX_ITEMS + 1))
    elif value == "deep":
        value = []
        for _ in range(200):  # torch.save itself fails on much deeper lists
            value = [value]
    elif value == "cycle":
        value = []
        value.append(value)
    elif value == "shared":
        value = [0]
        for _ in range(wire.MAX_DEPTH - 2):  # 2**30 paths through 30 lists, each walked
            value = [value, value]
    start = time.perf_counter()
    with pytest.raises(wire.NotData, match=named):
        wire.decode_reply(forged({"ok": value}))
    assert time.perf_counter() - start < QUICK_S


def test_the_worker_refuses_a_huge_int() -> None:
    with pytest.raises(wire.NotData, match="bits"):
        wire.encode_reply({"ok": {"n": 2**wire.MAX_INT_BITS}})
    assert wire.decode_reply(wire.encode_reply({"ok": 2**wire.MAX_INT_BITS - 1}))["ok"] == 2**wire.MAX_INT_BITS - 1


class FakeProcess:
    """Stands for a worker process: records whether the runner killed it."""

    def __init__(self) -> None:
        self.killed = False
        self.exitcode: int | None = None

    def is_alive(self) -> bool:
        return not self.killed

    def kill(self) -> None:
        self.killed = True
        self.exitcode = -9

    def join(self, timeout: float | None = None) -> None:
        pass


def fake_worker() -> tuple[Worker, Any]:
    """A :class:`Worker` whose other end of the pipe is this test's, and whose process is a :class:`FakeProcess`."""
    worker = object.__new__(Worker)
    worker.limits = Limits()
    worker._last_id = 0
    worker._conn, other = multiprocessing.Pipe(duplex=True)
    worker.process = FakeProcess()
    return worker, other


def test_requests_carry_increasing_ids_and_their_replies_are_taken() -> None:
    worker, other = fake_worker()
    for expected_id in (1, 2, 3):
        other.send_bytes(forged({"ok": expected_id, "id": expected_id, "violations": []}))
        assert worker.request({"call": "f", "args": (), "kwargs": {}}, 5, "f(...)")["ok"] == expected_id
        assert wire.decode_request(other.recv_bytes())["id"] == expected_id
    assert not worker.process.killed


@pytest.mark.parametrize("reply_id", [None, 0, 2, True, "1", 1.0])
def test_a_reply_to_another_request_kills_the_worker(reply_id: object) -> None:
    """A late reply (id 0), one sent ahead (2), none, or one that only compares equal: never an answer to request 1."""
    worker, other = fake_worker()
    reply: dict[str, Any] = {"ok": "forged", "violations": []}
    if reply_id is not None:
        reply["id"] = reply_id
    other.send_bytes(forged(reply))
    with pytest.raises(WorkerFailure, match="another request"):
        worker.request({"call": "f", "args": (), "kwargs": {}}, 5, "f(...)")
    assert worker.process.killed


def test_a_refused_reply_kills_the_worker() -> None:
    """Its request did not end with a usable reply: the worker is not asked again."""
    worker, other = fake_worker()
    other.send_bytes(forged({"ok": torch.zeros(1).expand(2**40), "id": 1, "violations": []}))
    with pytest.raises(CheckFailure, match="not a plain tensor") as refused:
        worker.request({"call": "f", "args": (), "kwargs": {}}, 5, "f(...)")
    assert not isinstance(refused.value, WorkerFailure)  # the student's doing: a failed check, not a broken worker
    assert worker.process.killed


# What the student's code sends through the worker's own pipe, found among its objects.
SEND_ON_THE_SIDE = '''
import gc, io
from multiprocessing.connection import Connection


def send(reply):
    buffer = io.BytesIO()
    torch.save(reply, buffer, _use_new_zipfile_serialization=False)
    for obj in gc.get_objects():
        if isinstance(obj, Connection) and not obj.closed:
            obj.send_bytes(buffer.getvalue())
'''

STUDENTS = {
    "expanded": "import torch\n\ndef last_token(hidden, lengths):\n    return hidden.new_zeros(1).expand(2**40)\n",
    "complex": "import torch\n\ndef last_token(hidden, lengths):\n    return torch.zeros(2, dtype=torch.complex64)\n",
    "sparse": "import torch\n\ndef last_token(hidden, lengths):\n    return torch.eye(2).to_sparse()\n",
    "huge_message": "def last_token(hidden, lengths):\n    raise ValueError('x' * 24 * 2**20)\n",
    "forged_ahead": "import torch\n" + SEND_ON_THE_SIDE
    + "\ndef last_token(hidden, lengths):\n    send({'ok': 'forged', 'id': 999, 'violations': []})\n    return 1\n",
    "import_error": "raise ValueError('x' * 24 * 2**20)\n",
}


@pytest.fixture(scope="module")
def students(tmp_path_factory: pytest.TempPathFactory) -> dict[str, IsolatedRunner]:
    """One runner per student above (their workers start on first use), closed at the end."""
    runners = {}
    for name, source in STUDENTS.items():
        folder = tmp_path_factory.mktemp(name)
        (folder / "ex1_last_token.py").write_text(source, encoding="utf-8")
        runners[name] = IsolatedRunner(folder, Limits(call_timeout_s=30))
    yield runners
    for runner in runners.values():
        runner.close()


def call_last_token(runner: IsolatedRunner) -> Any:
    student = runner.load(registry.find("ex1_last_token"))
    student.begin_check()
    return student.last_token(torch.zeros(2, 3, 4), torch.tensor([1, 3]))


@pytest.mark.parametrize("name, named", [("expanded", str(2**40)), ("complex", "complex64"), ("sparse", "sparse_coo")])
def test_a_worker_refuses_to_send_a_hostile_tensor(students: dict[str, IsolatedRunner], name: str, named: str) -> None:
    start = time.perf_counter()
    with pytest.raises(CheckFailure) as refused:
        call_last_token(students[name])
    assert time.perf_counter() - start < 30
    assert "not a tensor or plain data" in refused.value.problem and named in refused.value.detail, refused.value


def test_a_huge_exception_message_comes_back_cut(students: dict[str, IsolatedRunner]) -> None:
    with pytest.raises(CheckFailure) as raised:
        call_last_token(students["huge_message"])
    message = str(raised.value.original)
    assert type(raised.value.original) is ValueError and message.startswith("xxxx"), raised.value
    assert len(message) <= wire.MAX_STR_CHARS + len(wire.TRUNCATED)


def test_a_huge_import_error_comes_back_cut(students: dict[str, IsolatedRunner]) -> None:
    start = time.perf_counter()
    with pytest.raises(Exception) as failed:  # noqa: PT011 - a LoadError, whatever its wording
        call_last_token(students["import_error"])
    assert time.perf_counter() - start < 60
    assert "ValueError" in str(failed.value) and len(str(failed.value)) < 3 * wire.MAX_STR_CHARS


def test_a_reply_the_students_code_sent_itself_kills_its_worker(students: dict[str, IsolatedRunner]) -> None:
    runner = students["forged_ahead"]
    with pytest.raises(WorkerFailure, match="another request"):
        call_last_token(runner)
    worker = runner._workers["ex1_last_token"]  # noqa: SLF001
    assert not worker.alive()
