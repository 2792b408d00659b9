"""What travels between the grading process and an isolated worker, and how.

Requests (grading -> worker) are trusted and pickled, CPU tensors as raw bytes (about
seven times faster than torch's own pickling, which runs ``torch.save`` per storage:
it was a tenth of a grading process's time). Replies (worker -> grading) are
not: the student's code wrote them. They are written with ``torch.save`` and read
with ``torch.load(..., weights_only=True)``, which rebuilds tensors and plain
containers only, never arbitrary objects. So a reply can carry wrong values, but
never an object whose ``__eq__`` claims a match, a tensor subclass, or code.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import torch

from grader.feedback import PLAIN

#: Replies larger than this are refused (a submission must not exhaust the grader's memory).
MAX_REPLY_BYTES = 256 * 2**20



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
    """``reply`` as bytes; :class:`NotData` if it holds anything but tensors and plain data."""
    _check_plain(reply, "reply")
    buffer = io.BytesIO()
    # the legacy (non-zip) format: a third of the zip format's encoding time for small replies
    torch.save(reply, buffer, _use_new_zipfile_serialization=False)
    return buffer.getvalue()


def decode_reply(payload: bytes) -> dict[str, Any]:
    """The reply in ``payload``, rebuilt by ``torch.load(weights_only=True)``; :class:`NotData` if it is anything else."""
    try:
        reply = torch.load(io.BytesIO(payload), weights_only=True, map_location=None)
    except Exception as err:  # noqa: BLE001 - the unpickler refuses anything but plain data
        raise NotData(str(err).splitlines()[0] if str(err) else type(err).__name__) from None
    if not isinstance(reply, dict):
        raise NotData(f"a reply must be a dict, got {type(reply).__name__}")
    _check_plain(reply, "reply")
    return reply


def _check_plain(value: Any, where: str) -> None:
    if isinstance(value, torch.Tensor):
        if type(value) not in (torch.Tensor, torch.nn.Parameter):
            raise NotData(f"{where} is a tensor subclass ({type(value).__name__}), not a plain tensor")
        return
    if isinstance(value, PLAIN) and type(value) in PLAIN:
        return
    if type(value) in (list, tuple):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
        return
    if type(value) is dict:
        for key, item in value.items():
            if type(key) not in (str, int):
                raise NotData(f"{where} has a key of type {type(key).__name__}")
            _check_plain(item, f"{where}[{key!r}]")
        return
    raise NotData(f"{where} is a {type(value).__name__}, not a tensor or plain data")
