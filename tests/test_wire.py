"""What travels to and from an isolated worker (grader/isolation/wire.py).

Requests must arrive exactly as sent (values, dtype, shape, strides, views, requires_grad),
because checks hand students non-contiguous and expanded inputs on purpose. Replies must
come back as plain data or not at all.
"""

from __future__ import annotations

import io
import pickle

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.isolation import wire

DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.bool, torch.complex64]


@st.composite
def tensors(draw: st.DrawFn) -> torch.Tensor:
    """Dense CPU tensors of many dtypes, as views: sliced, transposed, expanded, empty or 0-d."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.lists(st.integers(0, 4), min_size=0, max_size=3))
    base = (torch.randn(*shape, 3) * 10).to(dtype) if dtype != torch.bool else torch.randn(*shape, 3) > 0
    view = draw(st.sampled_from(["whole", "slice", "transpose", "expand"]))
    if view == "slice":
        base = base[..., 1:]
    elif view == "transpose" and base.dim() >= 2:
        base = base.transpose(0, -1)
    elif view == "expand":
        base = base[..., :1].expand(*base.shape[:-1], 5)
    if draw(st.booleans()) and base.is_floating_point():
        base = base.detach().requires_grad_(True)
    return base


def round_trip(value: object) -> object:
    return wire.decode_request(wire.encode_request({"value": value}))["value"]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(t=tensors())
def test_requests_arrive_exactly_as_sent(t: torch.Tensor) -> None:
    back = round_trip(t)
    assert type(back) is torch.Tensor
    assert (back.dtype, back.shape, back.stride(), back.storage_offset()) == (t.dtype, t.shape, t.stride(), t.storage_offset())
    assert back.requires_grad == t.requires_grad and back.is_leaf
    torch.testing.assert_close(back.detach(), t.detach(), rtol=0, atol=0, equal_nan=True)


def test_a_tensor_sent_twice_arrives_as_one_object() -> None:
    x = torch.randn(3)
    first, second = round_trip((x, x))
    assert first is second


def test_other_tensors_keep_torch_pickling() -> None:
    """Parameters and tensors carrying attributes take torch's own (slower, complete) route."""
    parameter = torch.nn.Parameter(torch.randn(2))
    assert type(round_trip(parameter)) is torch.nn.Parameter
    tagged = torch.randn(2)
    tagged.note = "kept"
    assert round_trip(tagged).note == "kept"


def test_a_reply_of_plain_data_is_read_back() -> None:
    reply = {"ok": {"out": torch.randn(2, 3), "grads": [None, torch.ones(1)], "n": 3, "name": "x"}, "violations": []}
    back = wire.decode_reply(wire.encode_reply(reply))
    torch.testing.assert_close(back["ok"]["out"], reply["ok"]["out"])
    assert back["ok"]["grads"][0] is None and back["ok"]["n"] == 3


class Claims(torch.Tensor):
    """A tensor subclass (as a submission might return to fake equality)."""


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True


@pytest.mark.parametrize("value", [torch.randn(2).as_subclass(Claims), AlwaysEqual(), {1.5: "float key"}])
def test_a_reply_that_is_not_data_is_refused_when_written(value: object) -> None:
    with pytest.raises(wire.NotData):
        wire.encode_reply({"ok": value})


def test_a_forged_reply_is_refused_when_read() -> None:
    """Bytes a student wrote themselves, holding an object: torch.load(weights_only=True) refuses them."""
    forged = io.BytesIO()
    pickle.dump({"ok": AlwaysEqual()}, forged)
    with pytest.raises(wire.NotData):
        wire.decode_reply(forged.getvalue())
