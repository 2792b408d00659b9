"""Mistake: scheduler.step() at the end of every micro-batch (outside the window's if), not once per optimizer step."""

EXPECTED_FAILURES = {
    "test_scheduler_steps_once_after_each_optimizer_step",
}

PATCH = [
    (
        "            optimizer.step()\n            if scheduler is not None:\n                scheduler.step()\n",
        "            optimizer.step()\n",
    ),
    (
        "            steps += 1\n    return {",
        "            steps += 1\n        if scheduler is not None:\n            scheduler.step()\n    return {",
    ),
]
