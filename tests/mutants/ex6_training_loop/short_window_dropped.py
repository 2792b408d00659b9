"""Mistake: a short last window is never stepped (its gradients are simply left behind)."""

EXPECTED_FAILURES = {
    "test_scheduler_steps_once_after_each_optimizer_step",
    "test_stale_gradients_are_ignored_and_cleared",
    "test_train_epoch_accumulation_matches_reference",
    "test_train_epoch_returns_loss_steps_and_grad_norms",
}

PATCH = [
    (
        "        size = min(accumulation_steps, n - first + 1)  # the last window may be shorter\n",
        "        size = accumulation_steps\n",
    ),
]
