"""A second, independent witness of the operators a call ran: torch's C++ RecordFunction events.

The op recorder (:mod:`grader.probing.recorder`) is a Python dispatch mode: a student's
code can step around it (``torch.utils._python_dispatch._disable_current_modes()``,
``torch._C._DisableTorchDispatch()``, popping the mode stack), run operators inside
its own Python code that the mode then cannot see (a tensor subclass's
``__torch_dispatch__``, an operator of its own defined with ``torch.library``), or
change what it wrote down. The dispatcher announces every operator call to the
RecordFunction observers whatever the Python modes are, and the legacy CPU profiler
(``torch.autograd._enable_profiler_legacy``, about 40 µs a call here; the Kineto one
costs ten times more) writes them down as nested push/pop events.

The recorder wraps each operator it handles in a :data:`MARKER` event, so the witness
tells seen from unseen: an ``aten`` operator that ran outside every marker and has no
marker inside it, or that ran inside Python code nested in a seen operator, was hidden
from the recorder. Three kinds are let off: operators whose every overload is
``CompositeImplicitAutograd`` (they decompose into operators that are checked in their
turn, or do nothing), :data:`BUILDING` (what torch itself runs with the Python key off
when it builds a tensor from Python data: ``torch.tensor``, ``.tolist()``,
``nn.Parameter``), and what torch runs to print a tensor (it switches the modes off
itself; the witness marks those calls, :data:`PRINTING`). Only this thread's events are
recorded: work in another thread is left to :mod:`grader.probing.provenance`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch
import torch._tensor_str
from torch._C._profiler import ProfilerConfig, ProfilerState, _ExperimentalConfig

from grader.probing.seal import protect
from grader.probing.tampering import tampered

MARKER = "grader::seen"
PRINTING = "grader::printing"
BEGIN = "grader::begin:"

#: Operators torch runs with every mode off when it makes a tensor from Python data (``torch.tensor``,
#: ``.tolist()``, ``nn.Parameter``), and that compute nothing: they make it, or move it to the device asked
#: for (``torch.tensor(data, device="cuda")``: torch/csrc/utils/tensor_new.h, "torch.tensor, lift_fresh,
#: and device movement"). Copies cannot compute what the checks look for: a row picked by a Python loop
#: needs an indexing operator, SiLU a sigmoid or silu, and those are never let off.
BUILDING = frozenset(
    {"aten::empty", "aten::empty_strided", "aten::detach", "aten::detach_", "aten::resolve_conj", "aten::resolve_neg"}
    | {"aten::lift_fresh", "aten::alias", "aten::_to_copy", "aten::copy_"}
)

#: Operators that RecordFunction never announces (c10's ObservedOperators.cpp).
UNOBSERVED = frozenset(
    {"aten::size", "aten::is_leaf", "aten::output_nr", "aten::_version", "aten::is_complex"}
    | {f"profiler::_record_function_{s}" for s in ("enter", "enter_new", "exit")}
)

# Taken at import, before any student code runs: later rebinding of the torch names changes nothing here.
enter_event = torch.autograd._record_function_with_args_enter
exit_event = torch.autograd._record_function_with_args_exit
_enable = torch.autograd._enable_profiler_legacy
_disable = torch.autograd._disable_profiler_legacy
_enabled = torch.autograd._profiler_enabled
_CONFIG = ProfilerConfig(ProfilerState.CPU, False, False, False, False, False, _ExperimentalConfig())
_print_tensor = torch._tensor_str._str
_PLAIN = (torch.Tensor, torch.nn.Parameter)


def _composite_names() -> frozenset[str]:
    """aten operators every overload of which decomposes above the Python key (CompositeImplicitAutograd)."""
    by_name: dict[str, bool] = {}
    for overload in torch._C._dispatch_get_all_op_names():
        if overload.startswith("aten::"):
            name = overload.split(".", 1)[0]
            composite = torch._C._dispatch_has_kernel_for_dispatch_key(overload, "CompositeImplicitAutograd")
            by_name[name] = by_name.get(name, True) and composite
    return frozenset(name for name, composite in by_name.items() if composite)


COMPOSITE = _composite_names()


def _marked_print(self: torch.Tensor, *, tensor_contents: Any = None) -> str:
    """torch's tensor printing, inside a :data:`PRINTING` event when the tensor is a plain one."""
    if type(self) not in _PLAIN:  # a subclass's printing runs its own Python code: no excuse for it
        return _print_tensor(self, tensor_contents=tensor_contents)
    handle = enter_event(PRINTING, None)
    try:
        return _print_tensor(self, tensor_contents=tensor_contents)
    finally:
        exit_event(handle)


@dataclass
class Testimony:
    """What the witness saw: the operator inside each marker, in order, and the operators hidden from the recorder."""

    inside_markers: list[str | None] = field(default_factory=list)  # None: no event of the recorded name inside
    hidden: list[str] = field(default_factory=list)


class Witness:
    """Record RecordFunction events while in the ``with`` block; :meth:`testimony` reads them."""

    def __init__(self) -> None:
        self._begin = BEGIN + os.urandom(8).hex()  # no event of a restarted profiler can carry it
        self._events: list[list[Any]] | None = None

    def __enter__(self) -> Witness:
        if _enabled():
            raise tampered(
                "演算子の記録", "the operator witness", "プロファイラがすでに動いていました / a profiler was already running"
            )
        _enable(_CONFIG)
        exit_event(enter_event(self._begin, None))
        torch._tensor_str._str = _marked_print
        return self

    def __exit__(self, *exc: object) -> None:
        torch._tensor_str._str = _print_tensor
        running = _enabled()
        if running:
            self._events = _disable()
        if not running and exc[0] is None:
            raise tampered(
                "演算子の記録", "the operator witness", "プロファイラが止められました / the profiler was stopped"
            )

    def testimony(self, ops: list[str]) -> Testimony:
        """Read the events of this thread, ``ops`` being what the recorder says it handled, in order.

        Raises Tampered if the events are not the ones this witness started.
        """
        ours = next((thread for thread in self._events or [] if any(e.name() == self._begin for e in thread)), None)
        if ours is None:
            raise tampered(
                "演算子の記録", "the operator witness", "プロファイラが止められ、再開されました / the profiler was stopped and restarted"
            )
        return _read(ours, [event_name(op) for op in ops])


def event_name(op: str) -> str:
    """The event name of the recorder's ``str(func.overloadpacket)``: ``aten.mul`` -> ``aten::mul``."""
    return op.replace(".", "::", 1)


# A frame of the walk is a list (cheaper than an object: a call has a few hundred events):
_HANDLE, _NAME, _KERNEL, _HIDDEN, _PRINTING, _MARKER, _INNER, _HAS_MARKER = range(8)
# _KERNEL: inside an operator the recorder saw (its own implementation, not the student's code);
# _HIDDEN: inside Python code running within a seen operator (a tensor subclass, an operator of one's own);
# _MARKER: the number of the marker this frame is, or -1; _INNER: the operator directly inside a marker;
# _HAS_MARKER: a marker is nested inside.


def _read(events: list[Any], expected: list[str]) -> Testimony:
    """Walk one thread's push/pop events (paired by handle: a record_function may outlive its parent).

    The operator inside marker ``i`` is its child event named ``expected[i]``; any other
    child of a marker stands where the marker stands.
    """
    said = Testimony()
    inside = said.inside_markers
    stack: list[list[Any]] = []
    for event in events:
        kind = event.kind()
        if kind == "pop":
            handle = event.handle()
            if stack and stack[-1][_HANDLE] == handle:
                frame = stack.pop()
            else:  # popped out of order: a record_function that outlived its parent
                at = next((i for i in range(len(stack) - 1, -1, -1) if stack[i][_HANDLE] == handle), None)
                if at is None:
                    continue
                frame = stack.pop(at)
            if frame[_HAS_MARKER] or frame[_MARKER] >= 0:
                if stack:
                    stack[-1][_HAS_MARKER] = True
            elif (not frame[_KERNEL] or frame[_HIDDEN]) and not frame[_INNER] and not frame[_PRINTING]:
                _judge(frame[_NAME], said)
            continue
        if kind != "push":
            continue
        name = event.name()
        if stack:
            parent = stack[-1]
            frame = [event.handle(), name, parent[_KERNEL], parent[_HIDDEN], parent[_PRINTING], -1, False, False]
        else:
            parent = None
            frame = [event.handle(), name, False, False, False, -1, False, False]
        if name == MARKER:
            frame[_MARKER] = len(inside)
            inside.append(None)
        elif parent is not None and parent[_MARKER] >= 0:
            number = parent[_MARKER]
            if inside[number] is None and number < len(expected) and name == expected[number]:
                inside[number] = name
                frame[_INNER] = frame[_KERNEL] = True
                frame[_HIDDEN] = frame[_HIDDEN] or not name.startswith("aten::")
        elif name == "PythonSubclass" and frame[_KERNEL]:
            frame[_HIDDEN] = True
        elif name == PRINTING:
            frame[_PRINTING] = True
        stack.append(frame)
    return said


def _judge(name: str, said: Testimony) -> None:
    """Note the event ``name``, which ran out of the recorder's sight, if it is an operator that computes something."""
    if name.startswith("aten::") and name not in COMPOSITE and name not in BUILDING:
        said.hidden.append(name)


protect(__name__)
protect("torch._tensor_str")
