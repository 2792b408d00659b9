"""Mistake: scheduler.step() before optimizer.step(), so even the first update uses the next learning rate."""

EXPECTED_FAILURES = {
    "test_scheduler_steps_once_after_each_optimizer_step",
    "test_train_epoch_scheduler_matches_reference",
}

PATCH = [
    (
        "            optimizer.step()\n            if scheduler is not None:\n                scheduler.step()\n",
        "            if scheduler is not None:\n                scheduler.step()\n            optimizer.step()\n",
    ),
]
