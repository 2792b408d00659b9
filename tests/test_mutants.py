"""Deliberately wrong implementations each lose exactly the checks meant to catch them.

Each file in tests/mutants/<exercise>/ is an exercise file with one mistake (either
complete, or a ``PATCH`` of the model answer: see tests.grading.student_source) and an
``EXPECTED_FAILURES`` set naming the checks it must fail. It must fail those
(losing points) and get full points on every other check. Correct implementations
written differently (tests/variants/<exercise>/) must get full marks.

The files are graded in groups, one grader process per group, shared with the real-code
tests (see tests.graded_groups).
"""

from __future__ import annotations

import pytest

from grader import registry
from tests.graded_groups import graded
from tests.graded_groups import param as _param
from tests.grading import MUTANTS, VARIANTS, check_names, dtype_dependent, expected_failures, files

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("source", [_param(s) for s in files(MUTANTS)])
def test_mutant_loses_exactly_its_checks(source, tmp_path_factory):
    result = graded(source, tmp_path_factory)
    expected = expected_failures(source)
    assert expected <= set(result.checks), f"unknown checks in EXPECTED_FAILURES: {expected - set(result.checks)}"
    assert result.failed == expected, (
        f"{source.name}: failed {sorted(result.failed)}, expected {sorted(expected)}\n"
        + "\n".join(result.output(c) for c in sorted(result.failed - expected))
    )


@pytest.mark.parametrize("source", [_param(s) for s in files(MUTANTS)])
def test_mutant_fails_alike_in_every_case(source, tmp_path_factory):
    """A mistake that does not depend on the dtype costs the same share of a check in every case.

    (The contract's defaults and named scenarios are explicit examples of every case, so a
    case cannot pass by drawing none of them.) A file whose mistake really depends on the
    dtype says so: ``DTYPE_DEPENDENT = {...}``.
    """
    result = graded(source, tmp_path_factory)
    uneven = {c: cases for c, cases in result.uneven().items() if c not in dtype_dependent(source)}
    assert not uneven, f"{source.name}: checks lost in some cases only: {uneven}"


#: A failure names the property that failed, never a guessed cause: (mutant, check, words its
#: report must hold, words it must not hold).
MESSAGES = [
    # wrong values: vectorisation is not judged, and the hint points to the values check
    ("ex1_last_token/contiguous_run", "test_last_token_masked_vectorized", "cannot be credited", "per-row loop"),
    # not reentrant: said as such, not "redo the derivative"
    ("ex2_swish/non_reentrant_backward", "test_gradcheck", "not reentrant", "product rule"),
    # identical NaN outputs: reported as NaN, not as dropout active in eval mode
    ("ex3_residual_mlp/hand_norm_unbiased_std", "test_eval_matches_reference", "NaN", "is dropout active"),
    # a NaN output: reported as NaN, not as a cut graph
    ("ex3_residual_mlp/hand_norm_unbiased_std", "test_gradients_reach_every_parameter", "NaN", "graph cut"),
    # right in eval mode, wrong in train mode: the dropout placement, said as such
    ("ex5_transformer/block_attention_dropout", "test_dropout_train_and_eval", "under the same seed", "no dropout happened"),
]


@pytest.mark.parametrize(
    ("source", "check", "said", "unsaid"),
    [_param(MUTANTS / f"{name}.py", check, said, unsaid, id=f"{name}:{check}") for name, check, said, unsaid in MESSAGES],
)
def test_failure_names_the_real_cause(source, check, said, unsaid, tmp_path_factory):
    output = graded(source, tmp_path_factory).output(check)
    assert said in output and unsaid not in output, output


@pytest.mark.parametrize("source", [_param(s) for s in files(VARIANTS)])
def test_correct_variant_gets_full_marks(source, tmp_path_factory):
    result = graded(source, tmp_path_factory)
    assert result.failed == set(), "\n".join(result.output(c) for c in sorted(result.failed))


@pytest.mark.parametrize("exercise_id", [ex.id for ex in registry.EXERCISES])
def test_every_check_is_caught_by_some_mutant(exercise_id):
    """No check is dead weight: for each one, some wrong implementation fails it."""
    mutants = sorted((MUTANTS / exercise_id).glob("*.py"))
    assert len(mutants) >= 5, f"{exercise_id} has {len(mutants)} mutants; keep at least five"
    caught = set().union(*(expected_failures(p, cuda=False) for p in mutants))
    assert check_names(exercise_id) - caught == set(), f"checks no mutant fails: {sorted(check_names(exercise_id) - caught)}"
