"""Mistake (the chapter's own): the first value becomes best even when it is NaN, and then nothing improves on it."""

EXPECTED_FAILURES = {
    "test_early_stopping_matches_reference",
}

PATCH = [
    (
        "        if math.isnan(value):\n            self.counter += 1\n        elif self.best is None:\n",
        "        if self.best is None:\n",
    ),
]
