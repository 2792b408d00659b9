"""Mistake: under gradient accumulation the loss is not divided, so a window's gradient is the sum, not the mean."""

EXPECTED_FAILURES = {
    "test_accumulation_equals_one_big_batch",
    "test_train_epoch_accumulation_matches_reference",
    "test_train_epoch_returns_loss_steps_and_grad_norms",
}

PATCH = [("        (loss / size).backward()\n", "        loss.backward()\n")]
