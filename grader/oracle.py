"""The reference implementations, as the checks reach them: through oracle calls.

Every use of the reference in a check is an *oracle call*: a function of plain data
(tensors, numbers, strings, None, and tuples, lists, dicts and dataclasses of those) that
returns plain data. Two kinds:

- ``ref = reference("swish")``, then ``ref.swish(x, beta)``: a reference function, called
  through a stand-in for ``reference.<topic>``;
- ``@oracle`` on a small function of a check module that builds or differentiates the
  reference (e.g. builds a reference model and returns its state_dict and outputs). In its
  body, ``ref.<name>`` is the reference itself (classes too).

Where the answers come from:

- in the kit, ``reference/`` is importable: the function runs (imported on first use, in
  the grading process only; isolated workers import check modules for their drivers and
  must never hold the reference), once per content in each process (a memo: batch
  grading gives every student the same examples), without touching torch's global
  generator. Listeners (:func:`listening`) see every call: that is how ``python -m grader
  release`` records the bank, and how the kit's tests trace which checks use the reference.
- in a student release there is no ``reference/``, and a recorded bank lies beside the
  grader (grader/bank.py, :func:`replaying`): results come from it, looked up by the call's content. A call
  the bank does not hold is an example that was not recorded: inside a hypothesis example
  it is rejected (``hypothesis.reject()``), so hypothesis moves on and shrinks only within
  recorded examples; a check case the bank never recorded (a half-precision CUDA case, or
  a ``per_device`` call on a GPU when the bank was recorded on the CPU) is skipped;
  anywhere else it is an error that names the check, never a silent pass.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import copy
import functools
import importlib
import importlib.util
import inspect
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import torch

from grader import bank as banks

F = TypeVar("F", bound=Callable[..., Any])

#: Set to a bank file to replay it even where ``reference/`` is importable (the kit's tests).
BANK_ENV = "GRADER_ORACLE_BANK"

#: True while an oracle call computes: nested calls (``ref.x`` inside an ``@oracle`` body) run directly.
_computing: contextvars.ContextVar[bool] = contextvars.ContextVar("oracle_computing", default=False)


class OracleMiss(RuntimeError):
    """The recorded bank holds no result for a call made outside a hypothesis example."""


@dataclass(frozen=True)
class Call:
    """One oracle call, as listeners see it: which oracle, with what, for which check case, and its result."""

    name: str
    arguments: dict[str, Any]
    result: Any
    check: str | None
    case: str | None


_listeners: list[Callable[[Call], None]] = []


@contextlib.contextmanager
def listening(listener: Callable[[Call], None]) -> Iterator[None]:
    """Let ``listener`` see every oracle call computed with the reference while the block runs."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


# -- where answers come from ----------------------------------------------------------------------

_bank: banks.Bank | None = None


_reference_importable: bool | None = None


def replaying() -> bool:
    """Whether answers come from a recorded bank rather than from ``reference/``.

    A release is a grader with a bank beside it (``grader/oracle_bank.pt``) and no
    ``reference/``; the kit computes with its reference even if a bank lands in grader/.
    ``GRADER_ORACLE_BANK`` names a bank to replay anyway (the kit's tests).
    """
    global _reference_importable
    if os.environ.get(BANK_ENV):
        return True
    if not banks.BANK_PATH.is_file():
        return False
    if _reference_importable is None:
        _reference_importable = importlib.util.find_spec("reference") is not None
    return not _reference_importable


def _the_bank() -> banks.Bank:
    global _bank
    path = Path(os.environ.get(BANK_ENV) or banks.BANK_PATH)
    if _bank is None or _bank.path != path.resolve():
        _bank = banks.Bank(path.resolve())
    return _bank


def current_check() -> tuple[str | None, str | None]:
    """The check running now, as ``(ex1_last_token::test_last_token_values, cpu-float32)``; Nones outside pytest.

    Read from pytest's node id of the check, ``.../grader/checks/<exercise>/checks.py::<check>[<case>]``
    (any other test file ``.../<name>.py::<test>`` reads as ``<name>::<test>``).
    """
    found = re.match(
        r"(?:.*?/)?(?:([^/]+)/checks|([^/]+))\.py::([^\[\s]+)(?:\[(.*)\])? \(\w+\)$",
        os.environ.get("PYTEST_CURRENT_TEST", ""),
    )
    if not found:
        return None, None
    return f"{found.group(1) or found.group(2)}::{found.group(3)}", found.group(4)


# -- calls ----------------------------------------------------------------------------------------


class OracleFunction:
    """A callable that answers through the oracle: computed with the reference, or looked up in the bank."""

    def __init__(
        self,
        name: str,
        compute: Callable[..., Any],
        signature: inspect.Signature | None = None,
        per_device: bool = False,
    ) -> None:
        self.name = name
        self._compute = compute
        self._signature = signature
        self.per_device = per_device

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _computing.get():  # inside another oracle call: just compute
            return self._compute(*args, **kwargs)
        arguments = self._arguments(args, kwargs)
        if replaying():
            return _look_up(self, arguments)
        memo_key = _memo_key(self.name, arguments)
        result = _memo.get(memo_key, _MISSING)
        if result is _MISSING:
            token = _computing.set(True)
            try:
                with torch.random.fork_rng(devices=[]):  # a hit draws nothing: neither may a computation
                    result = banks.plain(self._compute(*args, **kwargs), what=self.name)
            finally:
                _computing.reset(token)
            _remember(memo_key, result)
        else:
            _memo.move_to_end(memo_key)
        result = copy.deepcopy(result)  # the caller may change what it gets; the memo must not change
        if _listeners:
            check, case = current_check()
            call = Call(self.name, arguments, result, check, case)
            for listener in list(_listeners):
                listener(call)
        return result

    def _arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's arguments by parameter name (positions as "0", "1", ... where no signature is known)."""
        if self._signature is not None:
            bound = self._signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
        else:
            arguments = {**{str(i): value for i, value in enumerate(args)}, **kwargs}
        if self.per_device:  # part of the key: the device type the result was computed on
            arguments[PER_DEVICE] = (banks.device_of(arguments) or _CPU).type
        return arguments

    def __repr__(self) -> str:
        return f"<oracle {self.name}>"


def _look_up(function: OracleFunction, arguments: dict[str, Any]) -> Any:
    name = function.name
    bank = _the_bank()
    problem = bank.mismatch()
    if problem:
        raise OracleMiss(problem)
    found = bank.entries.get(banks.key(name, arguments), _MISSING)
    if found is not _MISSING:
        return banks.moved(found, banks.device_of(arguments))
    check, case = current_check()
    unrecorded_device = function.per_device and arguments[PER_DEVICE] not in bank.devices
    if unrecorded_device or (check is not None and not bank.covers(check, case)):
        import pytest

        pytest.skip(f"記録された参照結果にこのケースはありません / the recorded results do not cover {case}")
    import hypothesis

    if hypothesis.currently_in_test_context():
        hypothesis.reject()  # an example that was not recorded: hypothesis draws (or shrinks to) another
    raise OracleMiss(
        f"記録された参照結果に {name} の答えがありません (チェック {check or '?'}) / the recorded reference results "
        f"hold no answer for {name} in check {check or '?'}: this grader and its oracle_bank.pt do not belong "
        "together (ask for a fresh release)"
    )


_MISSING = object()
_CPU = torch.device("cpu")

# -- the memo: reference results computed once per grading process ------------------------------------

#: Results kept (least recently used first). Batch grading runs many students in one process, and
#: the deterministic profiles give them the same examples: each reference result is computed once.
MEMO_SIZE = 20_000
_memo: collections.OrderedDict[str, Any] = collections.OrderedDict()


def _memo_key(name: str, arguments: dict[str, Any]) -> str:
    """The bank's content key, and the device type (the bank's key leaves devices out; a memo must not)."""
    return banks.key(name, {**arguments, "<memo device>": (banks.device_of(arguments) or _CPU).type})


def _remember(memo_key: str, result: Any) -> None:
    _memo[memo_key] = result
    if len(_memo) > MEMO_SIZE:
        _memo.popitem(last=False)

#: The key entry of a ``per_device`` oracle call: the device type its result was computed on.
PER_DEVICE = "<device type>"


def oracle(fn: F | None = None, *, per_device: bool = False) -> Any:
    """Make ``fn`` (a function of plain data returning plain data) an oracle call, keyed by its content.

    Its body may use the reference freely (``ref.ResidualMLP(...)``, autograd through
    ``ref.swish``); arguments named ``device`` are not part of the key. ``per_device=True``
    (``@oracle(per_device=True)``) is for a result that depends on the device itself, such
    as dropout masks from the device's generator: its key holds the device type, and a
    release recorded on the CPU skips that call's GPU cases.
    """

    def wrap(fn: F) -> F:
        wrapped = OracleFunction(f"{fn.__module__}.{fn.__qualname__}", fn, inspect.signature(fn), per_device)
        return functools.wraps(fn)(wrapped)  # type: ignore[return-value]

    return wrap if fn is None else wrap(fn)


# -- the reference, as check modules name it ---------------------------------------------------------


class Reference:
    """A stand-in for ``reference.<topic>``: each attribute is an oracle call of that reference function.

    Inside an oracle call (an ``@oracle`` body) attributes are the reference's own objects,
    imported on first use.
    """

    def __init__(self, topic: str) -> None:
        self._name = f"reference.{topic}"
        self._module: ModuleType | None = None

    def _load(self) -> ModuleType:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return self._module

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):  # pytest's collection probes names like _mock_name: no import for those
            raise AttributeError(attribute)
        if _computing.get():
            return getattr(self._load(), attribute)
        return OracleFunction(f"{self._name}.{attribute}", lambda *a, **k: getattr(self._load(), attribute)(*a, **k))

    def __repr__(self) -> str:
        return f"<reference {self._name}, reached through the oracle>"


def reference(topic: str) -> Any:
    """``reference.<topic>``, reached through oracle calls (see the module docstring)."""
    return Reference(topic)
