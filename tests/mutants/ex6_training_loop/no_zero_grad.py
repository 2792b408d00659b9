"""Mistake: gradients are never cleared, so each step also applies every earlier step's gradients (and stale ones)."""

EXPECTED_FAILURES = {
    "test_stale_gradients_are_ignored_and_cleared",
    "test_train_epoch_accumulation_matches_reference",
    "test_train_epoch_clipping_matches_reference",
    "test_train_epoch_matches_reference",
    "test_train_epoch_returns_loss_steps_and_grad_norms",
    "test_train_epoch_scheduler_matches_reference",
}

PATCH = [
    ("    optimizer.zero_grad(set_to_none=True)  # gradients left from before must not count\n", ""),
    ("            optimizer.zero_grad(set_to_none=True)\n            steps += 1\n", "            steps += 1\n"),
]
