"""Mistake: a short last window is divided by accumulation_steps instead of its own length (its step is too small)."""

EXPECTED_FAILURES = {
    "test_train_epoch_accumulation_matches_reference",
    "test_train_epoch_returns_loss_steps_and_grad_norms",
}

PATCH = [("        (loss / size).backward()\n", "        (loss / accumulation_steps).backward()\n")]
