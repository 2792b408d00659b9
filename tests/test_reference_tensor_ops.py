"""reference.tensor_ops against slow, obviously correct loops."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import strategies as S
from reference.tensor_ops import last_token, last_token_masked


def loop_last_token(hidden: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    return torch.stack([hidden[b, int(lengths[b]) - 1] for b in range(hidden.shape[0])])


def loop_last_token_masked(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    rows = []
    for b in range(hidden.shape[0]):
        last = max(t for t in range(hidden.shape[1]) if mask[b, t] != 0)
        rows.append(hidden[b, last])
    return torch.stack(rows)


@settings(max_examples=60)
@given(case=S.lengths_cases(), dtype=st.sampled_from([torch.float32, torch.float64, torch.bfloat16]))
@S.explicit("case", S.LENGTHS_SCENARIOS, dtype=torch.float64)
def test_last_token_matches_loop(case, dtype):
    hidden, lengths = case.build("cpu", dtype)
    torch.testing.assert_close(last_token(hidden, lengths), loop_last_token(hidden, lengths), rtol=0, atol=0)


@settings(max_examples=60)
@given(case=S.mask_cases())
@S.explicit("case", S.MASK_SCENARIOS)
def test_last_token_masked_matches_loop(case):
    hidden, mask = case.build("cpu", torch.float64)
    torch.testing.assert_close(last_token_masked(hidden, mask), loop_last_token_masked(hidden, mask), rtol=0, atol=0)


def test_right_padding_agrees_between_the_two():
    hidden = torch.randn(3, 5, 2)
    lengths = torch.tensor([1, 5, 3])
    mask = torch.arange(5) < lengths[:, None]
    torch.testing.assert_close(last_token(hidden, lengths), last_token_masked(hidden, mask))


def test_gradient_goes_to_the_selected_positions_only():
    hidden = torch.randn(2, 4, 3, requires_grad=True)
    last_token(hidden, torch.tensor([2, 4])).sum().backward()
    expected = torch.zeros(2, 4, 3)
    expected[0, 1] = 1
    expected[1, 3] = 1
    torch.testing.assert_close(hidden.grad, expected)


@pytest.mark.parametrize(
    ("hidden", "lengths", "message"),
    [
        (torch.randn(2, 3), torch.tensor([1, 1]), "shape \\(B, T, D\\)"),
        (torch.randn(2, 3, 1), torch.tensor([1, 1, 1]), "shape \\(2,\\)"),
        (torch.randn(2, 3, 1), torch.tensor([0, 1]), "\\[1, 3\\]"),
        (torch.randn(2, 3, 1), torch.tensor([1, 4]), "\\[1, 3\\]"),
        (torch.randn(2, 3, 1), torch.tensor([1.0, 2.0]), "integers"),
    ],
)
def test_last_token_rejects_bad_input(hidden, lengths, message):
    with pytest.raises(ValueError, match=message):
        last_token(hidden, lengths)


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (torch.tensor([[1, 0, 0], [0, 0, 0]]), "rows \\[1\\]"),
        (torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]), "rows \\[0\\]"),
        (torch.ones(2, 4), "shape \\(2, 3\\)"),
    ],
)
def test_last_token_masked_rejects_bad_input(mask, message):
    with pytest.raises(ValueError, match=message):
        last_token_masked(torch.randn(2, 3, 1), mask)
