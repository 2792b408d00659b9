"""Mistake: EarlyStopping adds min_delta on the wrong side, so a smaller improvement than min_delta counts."""

EXPECTED_FAILURES = {
    "test_early_stopping_matches_reference",
}

PATCH = [
    ("                improved = value < self.best - self.min_delta\n", "                improved = value < self.best + self.min_delta\n"),
    ("                improved = value > self.best + self.min_delta\n", "                improved = value > self.best - self.min_delta\n"),
]
