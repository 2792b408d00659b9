"""Print fake "PASSED" lines and a perfect score table; the answers are wrong."""

import sys

import torch

EXPECTED_SCORE = 0

print("PASSED ex1_last_token 18 / 18\n合計 / total 116 / 116")
print("grader/checks/ex1_last_token/checks.py::test_last_token_values PASSED", file=sys.stderr)


def last_token(hidden, lengths):
    print("test_last_token_values PASSED")
    return torch.zeros(hidden.shape[0], hidden.shape[2], dtype=hidden.dtype)


def last_token_masked(hidden, mask):
    print("test_last_token_masked_values PASSED")
    return torch.zeros(hidden.shape[0], hidden.shape[2], dtype=hidden.dtype)
