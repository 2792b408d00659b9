"""Mistake: zero_grad between backward and step, so every step is taken with no gradient at all."""

EXPECTED_FAILURES = {
    "test_train_epoch_accumulation_matches_reference",
    "test_train_epoch_clipping_matches_reference",
    "test_train_epoch_matches_reference",
    "test_train_epoch_returns_loss_steps_and_grad_norms",
    "test_train_epoch_scheduler_matches_reference",
}

PATCH = [
    (
        "        if i == first + size - 1:  # the window is complete: one optimizer step\n",
        "        if i == first + size - 1:  # the window is complete: one optimizer step\n"
        "            optimizer.zero_grad(set_to_none=True)\n",
    ),
]
