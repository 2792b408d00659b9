"""Mistake: train_epoch never calls model.train(), so a model left in eval mode trains in eval mode."""

EXPECTED_FAILURES = {
    "test_train_epoch_matches_reference",
}

PATCH = [("    model.train()\n    optimizer.zero_grad(set_to_none=True)  # gradients left", "    optimizer.zero_grad(set_to_none=True)  # gradients left")]
