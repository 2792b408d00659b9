"""Mistake: evaluate never calls model.eval(): dropout is active and BatchNorm's statistics change."""

EXPECTED_FAILURES = {
    "test_evaluate_uses_eval_mode_and_restores_it",
}

PATCH = [("    was_training = model.training\n    model.eval()\n", "    was_training = model.training\n")]
