"""Where the tensors of a measured call came from: a cross-check that needs neither the dispatch mode nor the profiler.

Every tensor a seen operator takes or returns, and the call's result, must come from
somewhere the instruments account for: an operator the recorder saw, or memory that
existed before the call. A tensor made during the call from fresh memory that no seen
operator produced was computed out of sight: in another thread, or with both the
dispatch mode and RecordFunction switched off.

"Made during the call" is told by the garbage collector: generation 0 is emptied when
the call starts and collection is paused during it, so every Python object made in the
call, and only those, is in generation 0 at the end. The recorder keeps every tensor
it sees alive until then. A collection during the call (``gc.collect()``) is itself
reported: it would hide which tensors are new.

Let off: the tensor that ``torch.tensor`` builds from Python data (its ``lift_fresh``
operator is seen), and memory torch did not allocate (``torch.from_numpy``: its storage
cannot be resized).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import torch

from grader.probing.seal import protect
from grader.probing.tampering import tampered

#: Operators whose tensor argument is made by torch from Python data, out of the recorder's sight.
LIFTS = frozenset({"aten.lift_fresh", "aten.lift", "aten.lift_fresh_copy"})

_collect, _disable, _enable, _isenabled, _objects, _stats = gc.collect, gc.disable, gc.enable, gc.isenabled, gc.get_objects, gc.get_stats
_plain = torch._C.DisableTorchFunctionSubclass


def tensors_in(value: Any, depth: int = 3) -> Iterator[torch.Tensor]:
    """The tensors in ``value``, and in the tuples, lists and dict values it holds (``depth`` levels)."""
    kind = type(value)  # not isinstance: no __class__ of a student's object is asked
    if issubclass(kind, torch.Tensor):
        yield value
    elif depth and issubclass(kind, (tuple, list)):
        for item in value:
            yield from tensors_in(item, depth - 1)
    elif depth and issubclass(kind, dict):
        for item in value.values():
            yield from tensors_in(item, depth - 1)


def _flat(values: Any) -> list[torch.Tensor]:
    """The tensors among an operator's arguments or results, and in their lists (as the dispatcher hands them over)."""
    found = []
    for value in values:
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif type(value) in (tuple, list):
            found += [v for v in value if isinstance(v, torch.Tensor)]
    return found


def memory_of(t: torch.Tensor) -> tuple[str, int] | None:
    """Where ``t``'s storage is (device, address); None when it has none to speak of (empty, meta, sparse...).

    Read with ``__torch_function__`` off: a tensor subclass must not answer for itself.
    """
    with _plain():
        try:
            address = t.untyped_storage().data_ptr()
        except Exception:
            return None
        return (str(t.device), address) if address else None


def _external(t: torch.Tensor) -> bool:
    """``t``'s memory was not allocated by torch (``torch.from_numpy``, ``torch.frombuffer``): it cannot be resized."""
    with _plain():
        return not t.untyped_storage().resizable()


def _is_tensor(o: object) -> bool:
    return issubclass(type(o), torch.Tensor)  # type(), not isinstance: no __class__ of a student's object is asked


class Provenance:
    """Collects, from the recorder, what seen operators took and made; :meth:`verify` checks the call's tensors."""

    def __init__(self) -> None:
        self.made: set[tuple[str, int]] = set()
        self.taken: list[torch.Tensor] = []  # alive until verify: a tensor made out of sight must not be freed first
        self._collections = 0
        self._was_enabled = True

    def __enter__(self) -> Provenance:
        self._was_enabled = _isenabled()
        _collect(0)
        _disable()
        self._collections = _count()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._was_enabled:
            _enable()

    def note(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        """One seen operator ``name``: what it took (unless made from Python data) and what it made."""
        if name not in LIFTS:
            self.taken += _flat(args)
            if kwargs:
                self.taken += _flat(kwargs.values())
        for t in _flat(out if type(out) in (tuple, list) else (out,)):
            where = memory_of(t)
            if where is not None:
                self.made.add(where)

    def verify(self, result: Any) -> None:
        """Raise Tampered if a tensor of the call was made during it from memory no seen operator produced."""
        if _count() != self._collections:
            raise tampered(
                "テンソルの出どころ",
                "where the call's tensors came from",
                "呼び出しの途中でガベージコレクションが実行されました (gc.collect) / the garbage collector was run during the call",
            )
        new = {id(o) for o in _objects(0) if _is_tensor(o)}
        unknown = [t for t in [*self.taken, *tensors_in(result)] if id(t) in new and not self._accounted(t)]
        if unknown and not self._existed_before(unknown, new):
            t = unknown[0]
            raise tampered(
                "テンソルの出どころ",
                "where the call's tensors came from",
                "記録されたどの演算子も作っていないテンソルがあります (別のスレッドや、計測を止めた間に計算されたもの) / a tensor "
                f"that no recorded operator produced (computed in another thread, or while the instruments were off): "
                f"shape {tuple(t.shape)}, {t.dtype}",
            )

    def _accounted(self, t: torch.Tensor) -> bool:
        where = memory_of(t)
        return where is None or where in self.made or _external(t)

    def _existed_before(self, unknown: list[torch.Tensor], new: set[int]) -> bool:
        """Every one of ``unknown`` shares memory with a tensor older than the call (``x.data``, say): slow, and rare."""
        old = {memory_of(o) for o in _objects() if _is_tensor(o) and id(o) not in new}
        return all(memory_of(t) in old for t in unknown)


def _count() -> int:
    return sum(generation["collections"] for generation in _stats())


protect(__name__)
