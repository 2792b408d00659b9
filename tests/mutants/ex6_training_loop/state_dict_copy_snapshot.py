"""Mistake (the chapter's own): snapshot is model.state_dict().copy(), a shallow copy of the live tensors."""

EXPECTED_FAILURES = {
    "test_fit_restores_best_epoch_and_stops",
    "test_snapshot_survives_training",
}

PATCH = [
    (
        "    return {key: value.detach().clone() for key, value in model.state_dict().items()}\n",
        "    return model.state_dict().copy()\n",
    ),
]
