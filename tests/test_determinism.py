"""The same example gives the same grade, whatever ran before it in the process.

Batch grading runs many students, one after another, in each pool process. Neither
torch's global generator (left wherever the previous check put it) nor the memo of
reference results may make a later student's examples differ from an earlier one's.
"""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import oracle, profiles


def torch_draws_per_example() -> list[list[float]]:
    seen = []

    @settings(max_examples=5, derandomize=True, database=None)
    @given(st.integers(0, 3))
    def drawn(n: int) -> None:
        seen.append(torch.randn(2).tolist())

    drawn()
    return seen


def test_torch_draws_in_an_example_do_not_depend_on_earlier_use_of_the_generator() -> None:
    assert profiles.TORCH_GENERATOR is not None  # registered with hypothesis on import
    first = torch_draws_per_example()
    torch.randn(1000)  # what an earlier check or student would leave behind
    torch.manual_seed(12345)
    assert torch_draws_per_example() == first


calls: list[int] = []


@oracle.oracle
def noisy_reference(x: torch.Tensor, scale: float) -> dict[str, torch.Tensor]:
    """A reference result computed with the global generator (as building a model with random init does)."""
    calls.append(1)
    return {"y": x * scale + 0 * torch.randn(())}


def test_the_memo_computes_each_result_once_and_hands_out_copies(monkeypatch) -> None:
    monkeypatch.delenv(oracle.BANK_ENV, raising=False)
    calls.clear()
    x = torch.arange(3.0)
    first = noisy_reference(x, 2.0)
    first["y"].add_(100)  # a check that changes what it got must not change the memo
    second = noisy_reference(x.clone(), 2.0)  # equal content, another tensor
    assert len(calls) == 1
    torch.testing.assert_close(second["y"], x * 2)
    noisy_reference(x, 3.0)
    assert len(calls) == 2


def test_a_reference_computation_leaves_the_global_generator_alone(monkeypatch) -> None:
    """A memo hit draws nothing, so a computation may not either: else hit and miss would differ."""
    monkeypatch.delenv(oracle.BANK_ENV, raising=False)
    torch.manual_seed(0)
    x = torch.randn(4)
    untouched = torch.random.get_rng_state()
    noisy_reference(x, 6.0)  # a new scale: computed, and its body draws from the generator
    assert torch.equal(torch.random.get_rng_state(), untouched)


def test_a_check_draws_under_the_profile_loaded_when_it_runs_and_fewer_examples_on_cuda() -> None:
    """``@given`` binds a test to the profile loaded at import; a batch process grades smoke (preflight) then grading."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from grader import profiles

    calls: list[int] = []
    try:
        profiles.load(profiles.SMOKE)

        @given(st.integers())
        def check(x: int) -> None:
            calls.append(x)

        profiles.load(profiles.GRADING)
        check()
        bound = len(calls)
        calls.clear()
        with profiles.applied(check, on_cuda=False):
            check()
        full = len(calls)
        calls.clear()
        with profiles.applied(check, on_cuda=True):
            check()
        on_cuda = len(calls)
    finally:
        settings.load_profile("kit")
    grading = settings.get_profile(profiles.GRADING).max_examples
    assert bound == settings.get_profile(profiles.SMOKE).max_examples  # what hypothesis alone would do
    assert full == grading
    assert on_cuda == round(grading * profiles.CUDA_EXAMPLES_SHARE)


@given(seed=st.integers(0, 2**32 - 1))
@settings(max_examples=10)
def test_seeded_draws_what_torch_manual_seed_draws_and_restores_the_generator(seed: int) -> None:
    """``devices.seeded`` is ``torch.manual_seed`` for a case's draws (the checks' messages say so),
    without its slow lazy seeding of CUDA, and leaves the global generator where it was."""
    from grader import devices

    torch.manual_seed(seed)
    expected = (torch.randn(3), torch.nn.Linear(2, 2).weight.detach().clone())
    torch.randn(5)  # the generator somewhere else than where the seeded draws leave it
    before = torch.random.get_rng_state()
    with devices.seeded(seed):
        actual = (torch.randn(3), torch.nn.Linear(2, 2).weight.detach().clone())
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)
    assert torch.equal(torch.random.get_rng_state(), before)
