"""Mistake: EarlyStopping stops once counter > patience, one step too late."""

EXPECTED_FAILURES = {
    "test_early_stopping_matches_reference",
}

PATCH = [("        if self.counter >= self.patience:\n", "        if self.counter > self.patience:\n")]
