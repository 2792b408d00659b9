"""Mistake: fit does not pass accumulation_steps and max_grad_norm on to train_epoch."""

EXPECTED_FAILURES = {
    "test_fit_history_matches_reference",
}

PATCH = [
    (
        "            scheduler=scheduler,\n            max_grad_norm=max_grad_norm,\n            accumulation_steps=accumulation_steps,\n            device=device,\n        )\n        val_metrics",
        "            scheduler=scheduler,\n            device=device,\n        )\n        val_metrics",
    ),
]
