"""What travels between the grading process and an isolated worker, and how.

Requests (grading -> worker) are trusted and pickled, CPU tensors as raw bytes (about
seven times faster than torch's own pickling, which runs ``torch.save`` per storage:
it was a tenth of a grading process's time). Replies (worker -> grading) are
not: the student's code wrote them. They are written with ``torch.save`` and read
with ``torch.load(..., weights_only=True)``, which rebuilds tensors and plain
containers only, never arbitrary objects. So a reply can carry wrong values, but
never an object whose ``__eq__`` claims a match, a tensor subclass, or code.

Nor anything that would hurt the grading process when it compares or renders it: every
reply is checked, on both sides, before use (:func:`clean`). Only plain strided tensors of
real or bool dtypes pass, each and all together bounded in size; a view bigger than its
storage (``expand``) is rebuilt as a plain tensor when read; every string is cut to
:data:`MAX_STR_CHARS`; containers are bounded in depth and in items.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from typing import Any

import torch

from grader.feedback import PLAIN

#: Replies larger than this are refused (a submission must not exhaust the grader's memory).
MAX_REPLY_BYTES = 256 * 2**20
#: Elements in one tensor of a reply. The chapter's replies hold thousands of elements at
#: most; 2**24 (64 MiB of float32) leaves any honest answer room, while one comparison or
#: rendering of it stays well under a second. ``new_zeros(1).expand(2**40)`` is refused.
MAX_TENSOR_NUMEL = 2**24
#: Bytes of all the tensors of one reply together, each counted as its view (what a
#: comparison reads), so that a reply of many large views cannot exhaust the grader either.
MAX_TENSOR_BYTES = 256 * 2**20
#: Characters kept of every string in a reply (messages, exception text, reprs): a
#: traceback fits; a 24 MiB exception message is cut, instead of being rendered for minutes.
MAX_STR_CHARS = 20_000
#: Marks a string (or bytes) that :func:`clean` cut.
TRUNCATED = "... (truncated)"
#: Nesting of lists, tuples and dicts: replies nest three or four deep; a deeper one (or a
#: list that holds itself) is refused before walking it could exhaust Python's stack.
MAX_DEPTH = 32
#: Items in all the containers of one reply together (lists of results per example,
#: histories of losses): bounds the walk, and what a failure message may list.
MAX_ITEMS = 2**18
#: Bits of a Python int: Python refuses ``str()`` of ints over 4300 digits (a crash while
#: rendering), and no honest reply holds an int beyond 64 bits.
MAX_INT_BITS = 256
#: The dtypes a reply's tensors may have: real floating, integer and bool. Complex (its
#: rendering crashed a batch), quantized, float8 and the unsigned 16/32/64-bit dtypes,
#: which many operators lack, are refused.
REAL_DTYPES = frozenset({
    torch.float16, torch.bfloat16, torch.float32, torch.float64,
    torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool,
})  # fmt: skip
#: Devices a reply's tensors may live on (``meta`` has no values to compare).
DEVICES = frozenset({"cpu", "cuda"})



class NotData(Exception):
    """A reply held something other than tensors and plain data."""


class _RequestPickler(pickle.Pickler):
    """A pickler that sends plain dense CPU tensors as their storage's bytes."""

    def reducer_override(self, obj: Any) -> Any:  # noqa: ANN401
        if type(obj) is not torch.Tensor or not _raw_bytes_will_do(obj):
            return NotImplemented  # torch's own pickling: CUDA, sparse, non-leaf, ...
        storage = obj.untyped_storage()
        raw = torch.empty(0, dtype=torch.uint8).set_(storage, 0, (storage.nbytes(),), (1,))
        layout = (obj.dtype, obj.storage_offset(), tuple(obj.shape), obj.stride())
        return _rebuild_tensor, (bytearray(raw.numpy().tobytes()), *layout, obj.requires_grad)


def _raw_bytes_will_do(t: torch.Tensor) -> bool:
    return (
        t.device.type == "cpu"
        and t.layout == torch.strided
        and t.grad_fn is None
        and not (t.is_quantized or t.is_conj() or t.is_neg())
        and not getattr(t, "__dict__", None)  # attributes set on the tensor travel only with torch's pickling
    )


def _rebuild_tensor(
    data: bytearray, dtype: torch.dtype, offset: int, size: tuple[int, ...], stride: tuple[int, ...], requires_grad: bool
) -> torch.Tensor:
    """The tensor :class:`_RequestPickler` sent, with its storage, offset and strides (views stay views)."""
    storage = torch.frombuffer(data, dtype=torch.uint8).untyped_storage() if data else torch.UntypedStorage(0)
    tensor = torch.empty(0, dtype=dtype).set_(storage, offset, size, stride)
    return tensor.requires_grad_(True) if requires_grad else tensor


def encode_request(request: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    _RequestPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(request)
    return buffer.getvalue()


def decode_request(payload: bytes) -> dict[str, Any]:
    return pickle.loads(payload)  # noqa: S301 - requests come from the grading process, which is trusted


def encode_reply(reply: dict[str, Any]) -> bytes:
    """``reply`` as bytes; :class:`NotData` if it holds anything but bounded tensors and plain data.

    Checked here too, so that the worker can tell the student what was refused; the
    grading process checks again (:func:`decode_reply`), since the student's code runs in
    the worker and could write bytes of its own.
    """
    reply = clean(reply, materialise=False)
    buffer = io.BytesIO()
    # the legacy (non-zip) format: a third of the zip format's encoding time for small replies
    torch.save(reply, buffer, _use_new_zipfile_serialization=False)
    return buffer.getvalue()


def decode_reply(payload: bytes) -> dict[str, Any]:
    """The reply in ``payload``, rebuilt by ``torch.load(weights_only=True)`` and :func:`clean`; :class:`NotData` if refused."""
    try:
        reply = torch.load(io.BytesIO(payload), weights_only=True, map_location=None)
    except Exception as err:  # noqa: BLE001 - the unpickler refuses anything but plain data
        raise NotData(truncate(str(err).splitlines()[0] if str(err) else type(err).__name__, 2000)) from None
    if not isinstance(reply, dict):
        raise NotData(f"a reply must be a dict, got {type(reply).__name__}")
    return clean(reply, materialise=True)


def truncate(text: str, limit: int = MAX_STR_CHARS) -> str:
    """``text`` cut to ``limit`` characters, visibly."""
    return text if len(text) <= limit else text[:limit] + TRUNCATED


@dataclass
class _Budget:
    """What one reply has spent so far of :data:`MAX_ITEMS` and :data:`MAX_TENSOR_BYTES`."""

    items: int = 0
    tensor_bytes: int = 0


def clean(value: Any, materialise: bool = True) -> Any:  # noqa: ANN401
    """``value`` if it is bounded plain data, with strings cut; :class:`NotData` naming what is refused.

    With ``materialise``, a tensor view that needs more elements than its storage holds
    (``expand``, zero strides) is returned as a plain contiguous copy.
    """
    return _clean(value, "reply", 0, _Budget(), materialise)


def _clean(value: Any, where: str, depth: int, budget: _Budget, materialise: bool) -> Any:  # noqa: ANN401, C901
    if isinstance(value, torch.Tensor):
        return _clean_tensor(value, where, budget, materialise)
    kind = type(value)
    if kind is str:
        return truncate(value)
    if kind is bytes:
        return value if len(value) <= MAX_STR_CHARS else value[:MAX_STR_CHARS] + TRUNCATED.encode()
    if kind is int:
        if value.bit_length() > MAX_INT_BITS:
            raise NotData(f"{where} is an int of {value.bit_length()} bits (at most {MAX_INT_BITS})")
        return value
    if isinstance(value, PLAIN) and kind in PLAIN and kind is not torch.Size:
        return value  # None, bool, float, complex, dtype, device
    if kind not in (list, tuple, dict, torch.Size):
        raise NotData(f"{where} is a {kind.__name__}, not a tensor or plain data")
    if depth >= MAX_DEPTH:
        raise NotData(f"{where} nests lists, tuples or dicts more than {MAX_DEPTH} deep")
    budget.items += len(value)
    if budget.items > MAX_ITEMS:
        raise NotData(f"{where}: the reply holds more than {MAX_ITEMS} items in its lists, tuples and dicts")
    if kind is torch.Size:
        return torch.Size(_clean(list(value), where, depth, budget, materialise))
    if kind is dict:
        cleaned = {}
        for key, item in value.items():
            if type(key) not in (str, int):
                raise NotData(f"{where} has a key of type {type(key).__name__}")
            key = _clean(key, f"{where} (a key)", depth + 1, budget, materialise)
            cleaned[key] = _clean(item, f"{where}[{truncate(repr(key), 60)}]", depth + 1, budget, materialise)
        return cleaned
    items = [_clean(item, f"{where}[{i}]", depth + 1, budget, materialise) for i, item in enumerate(value)]
    return items if kind is list else tuple(items)


def _clean_tensor(t: torch.Tensor, where: str, budget: _Budget, materialise: bool) -> torch.Tensor:
    """``t`` if it is a plain, bounded tensor of a real dtype (checked without reading its values)."""
    if type(t) not in (torch.Tensor, torch.nn.Parameter):
        raise NotData(f"{where} is a tensor subclass ({type(t).__name__}), not a plain tensor")
    if getattr(t, "__dict__", None):
        raise NotData(f"{where} is a tensor carrying attributes ({truncate(', '.join(map(str, t.__dict__)), 200)})")
    if t.is_nested:
        raise NotData(f"{where} is a nested tensor, not a plain tensor")
    if t.layout != torch.strided:
        raise NotData(f"{where} is a {t.layout} tensor (sparse?), not a plain strided tensor")
    if t.is_quantized:
        raise NotData(f"{where} is a quantized tensor ({t.dtype}), not a plain tensor")
    if t.device.type not in DEVICES:
        raise NotData(f"{where} is a tensor on the {t.device.type} device, which holds no values")
    if t.dtype not in REAL_DTYPES:
        raise NotData(f"{where} is a tensor of dtype {t.dtype}: only real floating, integer and bool tensors are accepted")
    if t.numel() > MAX_TENSOR_NUMEL:
        raise NotData(
            f"{where} is a tensor of {t.numel()} elements (shape {tuple(t.shape)}): at most {MAX_TENSOR_NUMEL} are accepted"
        )
    budget.tensor_bytes += t.numel() * t.element_size()
    if budget.tensor_bytes > MAX_TENSOR_BYTES:
        raise NotData(f"{where}: the reply's tensors hold more than {MAX_TENSOR_BYTES // 2**20} MiB together")
    if materialise and (t.is_neg() or t.numel() * t.element_size() > t.untyped_storage().nbytes()):
        return _materialised(t)
    return t


def _materialised(t: torch.Tensor) -> torch.Tensor:
    """A contiguous copy of the view ``t`` that owns its elements (a Parameter stays one)."""
    copy = t.detach().resolve_neg().clone(memory_format=torch.contiguous_format)
    if type(t) is torch.nn.Parameter:
        return torch.nn.Parameter(copy, requires_grad=t.requires_grad)
    return copy.requires_grad_(t.requires_grad) if copy.is_floating_point() else copy
