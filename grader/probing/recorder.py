"""The op recorder: a dispatch mode that writes down each aten operator a call dispatches.

Each operator it handles runs inside a :data:`~grader.probing.witness.MARKER` event, so
that the witness can tell what the recorder saw from what it did not, and what it
took and made goes to :class:`~grader.probing.provenance.Provenance`.
"""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from grader.probing.provenance import Provenance
from grader.probing.seal import protect
from grader.probing.witness import MARKER, enter_event, exit_event

_stack_length = torch._C._len_torch_dispatch_stack
_stack_at = torch._C._get_dispatch_stack_at


class OpRecorder(TorchDispatchMode):
    """Records ``str(func.overloadpacket)`` of every operator dispatched while it is on the mode stack."""

    def __init__(self, provenance: Provenance) -> None:
        super().__init__()
        self.ops: list[str] = []
        self._provenance = provenance

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = str(func.overloadpacket)
        self.ops.append(name)
        kwargs = kwargs or {}
        handle = enter_event(MARKER, None)
        try:
            out = func(*args, **kwargs)
        finally:
            exit_event(handle)
        self._provenance.note(name, args, kwargs, out)
        return out

    def on_top(self) -> bool:
        """Whether this recorder is still the innermost dispatch mode."""
        length = _stack_length()
        return bool(length) and _stack_at(length - 1) is self


protect(__name__)
