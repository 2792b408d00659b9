"""Exercise 1: the last real token of each padded sequence (ex1_last_token.py), check by check in the contract's order.

Each check below is one property from the exercise's contract:

- ``last_token(hidden, lengths)``: the value ``hidden[b, lengths[b] - 1]`` (exactly, in the
  input's dtype and device); gradients flow to exactly the selected positions; ValueError
  for invalid input; vectorised (the number of tensor operations does not grow with B or T).
- ``last_token_masked(hidden, mask)``: the rightmost real token for right, left and gapped
  padding; the same gradient, ValueError and vectorisation properties.

Expected values come from ``reference/tensor_ops.py`` (``oracles.py``); the student's functions
are differentiated and their operators counted by the shared drivers (``drivers.py``), and an
operator count is believed only with a correct value (``comparisons.py``).
"""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from grader import strategies as S
from grader.checks.ex1_last_token.comparisons import assert_gradient_routed, counted
from grader.checks.ex1_last_token.drivers import vjp
from grader.checks.ex1_last_token.oracles import ref
from grader.compare import assert_matches, assert_op_count_constant, assert_raises
from grader.devices import on_devices, on_each_device
from grader.spec import check, titles

# -- last_token(hidden, lengths) ------------------------------------------------------


@check(
    3,
    needs_reference=True,
    ja="last_token の値が参照実装と一致する (dtype・デバイスも)",
    en="last_token returns hidden[b, lengths[b] - 1] (same dtype and device)",
    hint_ja="行 b からは位置 lengths[b] - 1 を選びます。torch.arange(B) と高度なインデックス、または gather を使いましょう。",
    hint_en="Row b takes position lengths[b] - 1: index with torch.arange(B) and lengths - 1, or use gather.",
)
@on_devices()
@given(case=S.lengths_cases())
@S.explicit("case", S.LENGTHS_SCENARIOS)
def test_last_token_values(student, device, dtype, case):
    hidden, lengths = case.build(device, dtype)
    actual = student.last_token(hidden, lengths)
    expected = ref.last_token(hidden, lengths)
    assert_matches(actual, expected, what="last_token(hidden, lengths)", example=dict(hidden=hidden, lengths=lengths), exact=True)


@check(
    2,
    ja="last_token の勾配は選んだ位置だけに流れる",
    en="last_token sends gradients to exactly the selected positions",
    hint_ja="結果を hidden から切り離さないでください (.detach()、.item()、torch.tensor(...) で作り直す、などは不可)。",
    hint_en="Keep the result connected to hidden: no .detach(), .item() or rebuilding it with torch.tensor(...).",
)
@on_devices(half_on_cuda=False)
@given(case=S.lengths_cases())
@S.explicit("case", S.LENGTHS_SCENARIOS)
def test_last_token_gradient(student, device, dtype, case):
    hidden, lengths = case.build(device, dtype)
    upstream = torch.randn(hidden.shape[::2], dtype=dtype, device=device)
    assert_gradient_routed(
        student.run(vjp, "last_token", (hidden, lengths), wrt=(0,), upstream=upstream),
        hidden,
        upstream,
        what="last_token(hidden, lengths)",
        example=dict(hidden=hidden, lengths=lengths),
    )


BAD_LENGTHS = {
    "a length of 0": lambda B, T: torch.full((B,), 0),
    "a negative length": lambda B, T: torch.full((B,), -1),
    "a length greater than T": lambda B, T: torch.full((B,), T + 1),
    "one length too many (B + 1,)": lambda B, T: torch.ones(B + 1, dtype=torch.long),
    "lengths of shape (B, 1)": lambda B, T: torch.ones(B, 1, dtype=torch.long),
}


BAD_LAST_TOKEN_INPUTS = sorted(BAD_LENGTHS) + ["hidden of shape (B, T)"]


@check(
    2,
    ja="last_token は不正な入力で ValueError を送出する",
    en="last_token raises ValueError on invalid input",
    hint_ja="計算の前に hidden.dim() == 3、lengths.shape == (B,)、1 <= lengths <= T を確かめ、違えば ValueError を送出しましょう。",
    hint_en="Before computing, check hidden.dim() == 3, lengths.shape == (B,) and 1 <= lengths <= T; raise ValueError otherwise.",
)
@on_each_device()
@given(case=st.sampled_from(BAD_LAST_TOKEN_INPUTS), B=S.sizes(1, 4), T=S.sizes(1, 5))
@S.explicit("case", BAD_LAST_TOKEN_INPUTS, B=2, T=3)
def test_last_token_rejects_bad_input(student, device, case, B, T):
    if case == "hidden of shape (B, T)":
        hidden, lengths = torch.randn(B, T, device=device), torch.ones(B, dtype=torch.long, device=device)
    else:
        hidden, lengths = torch.randn(B, T, 3, device=device), BAD_LENGTHS[case](B, T).to(device)
    assert_raises(ValueError, student.last_token, hidden, lengths, case=case)


@check(
    2,
    needs_reference=True,
    ja="last_token はベクトル化されている (演算数が B・T によらない)",
    en="last_token is vectorised (its number of tensor operations does not grow with B or T)",
    hint_ja="Python の for ループや .tolist() / .item() で 1 行ずつ処理せず、テンソル全体を一度に扱いましょう。",
    hint_en="Do not loop over rows in Python (for, .tolist(), .item()): index the whole batch at once.",
)
@on_each_device()
def test_last_token_vectorized(student, device):
    def count(B: int, T: int) -> int:
        generator = torch.Generator().manual_seed(B * T)  # a failure must show the same example every time
        hidden = torch.randn(B, T, 4, generator=generator).to(device)
        lengths = torch.randint(1, T + 1, (B,), generator=generator).to(device)
        expected = ref.last_token(hidden, lengths)
        values_check = titles(test_last_token_values)
        return counted(student, "last_token", hidden, lengths, expected=expected, values_check=values_check)

    assert_op_count_constant(count, what="last_token")


# -- last_token_masked(hidden, mask) -----------------------------------------------------


@check(
    3,
    needs_reference=True,
    ja="last_token_masked は右詰め・左詰め・穴ありのどのマスクでも一番右の本物のトークンを返す",
    en="last_token_masked returns the rightmost real token for right, left and gapped padding",
    hint_ja="mask.sum(1) - 1 は右詰めのときだけ正しい位置です。非ゼロの位置のうち最大のものを求めましょう (例: arange と where と amax)。",
    hint_en="mask.sum(1) - 1 is right only for right padding: find the largest position whose mask is nonzero (e.g. arange, where, amax).",
)
@on_devices()
@given(case=S.mask_cases())
@S.explicit("case", S.MASK_SCENARIOS)
def test_last_token_masked_values(student, device, dtype, case):
    hidden, mask = case.build(device, dtype)
    actual = student.last_token_masked(hidden, mask)
    expected = ref.last_token_masked(hidden, mask)
    assert_matches(actual, expected, what="last_token_masked(hidden, mask)", example=dict(hidden=hidden, mask=mask), exact=True)


@check(
    2,
    ja="last_token_masked の勾配は選んだ位置だけに流れる",
    en="last_token_masked sends gradients to exactly the selected positions",
    hint_ja="結果を hidden から切り離さず (.detach() や torch.tensor(...) は不可)、選んだ位置以外の値を混ぜないでください。",
    hint_en="Keep the result connected to hidden (no .detach() or torch.tensor(...)) and do not mix in other positions.",
)
@on_devices(half_on_cuda=False)
@given(case=S.mask_cases())
@S.explicit("case", S.MASK_SCENARIOS)
def test_last_token_masked_gradient(student, device, dtype, case):
    hidden, mask = case.build(device, dtype)
    upstream = torch.randn(hidden.shape[::2], dtype=dtype, device=device)
    assert_gradient_routed(
        student.run(vjp, "last_token_masked", (hidden, mask), wrt=(0,), upstream=upstream),
        hidden,
        upstream,
        what="last_token_masked(hidden, mask)",
        example=dict(hidden=hidden, mask=mask),
    )


BAD_MASKS = ["an all-padding row", "an all-padding float row", "mask of shape (B, T + 1)", "mask of shape (B,)"]


@check(
    2,
    ja="last_token_masked は本物のトークンがない行や形の合わないマスクで ValueError を送出する",
    en="last_token_masked raises ValueError for a row with no real token, or a mask of the wrong shape",
    hint_ja="(mask != 0).any(dim=1) がすべて True か、mask.shape == (B, T) かを確かめましょう。",
    hint_en="Check that (mask != 0).any(dim=1) is all True and that mask.shape == (B, T).",
)
@on_each_device()
@given(case=st.sampled_from(BAD_MASKS), B=S.sizes(1, 4), T=S.sizes(1, 5), row=st.integers(0, 3))
@S.explicit("case", BAD_MASKS, B=3, T=4, row=1)
def test_last_token_masked_rejects_bad_input(student, device, case, B, T, row):
    hidden = torch.randn(B, T, 3, device=device)
    mask = torch.ones(B, T, dtype=torch.bool)
    if case == "an all-padding row":
        mask[row % B] = False
    elif case == "an all-padding float row":
        mask = mask.float()
        mask[row % B] = 0.0
    elif case == "mask of shape (B, T + 1)":
        mask = torch.ones(B, T + 1, dtype=torch.bool)
    else:
        mask = torch.ones(B, dtype=torch.bool)
    assert_raises(ValueError, student.last_token_masked, hidden, mask.to(device), case=case)


@check(
    2,
    needs_reference=True,
    ja="last_token_masked はベクトル化されている (演算数が B・T によらない)",
    en="last_token_masked is vectorised (its number of tensor operations does not grow with B or T)",
    hint_ja="行ごとのループをやめ、位置 (torch.arange(T)) とマスクからテンソル演算で最後の位置を求めましょう。",
    hint_en="Replace the per-row loop: compute the last positions from torch.arange(T) and the mask with tensor operations.",
)
@on_each_device()
def test_last_token_masked_vectorized(student, device):
    def count(B: int, T: int) -> int:
        generator = torch.Generator().manual_seed(B * T)  # a failure must show the same example every time
        hidden = torch.randn(B, T, 4, generator=generator).to(device)
        mask = (torch.rand(B, T, generator=generator) < 0.5).to(device)
        mask[:, 0] = True  # every row has a real token
        expected = ref.last_token_masked(hidden, mask)
        values_check = titles(test_last_token_masked_values)
        return counted(student, "last_token_masked", hidden, mask, expected=expected, values_check=values_check)

    assert_op_count_constant(count, what="last_token_masked")
