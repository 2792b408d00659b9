"""Mistake: fit keeps the last of several epochs with the same lowest validation loss (<= instead of <)."""

EXPECTED_FAILURES = {
    "test_fit_restores_best_epoch_and_stops",
}

PATCH = [("(best is None or val_loss < best[1])", "(best is None or val_loss <= best[1])")]
