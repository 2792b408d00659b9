"""WarmupSGDR defaults to T_mult=2 (sgdr_lr keeps the contract's 1): right whenever T_mult is passed."""

# the defaults are explicit examples: a scheduler built without T_mult must follow the contract's schedule
EXPECTED_FAILURES = {
    "test_scheduler_follows_sgdr_lr_per_group",
    "test_scheduler_works_with_any_optimizer",
    "test_matches_cosine_annealing_warm_restarts",
}

PATCH = [
    (
        "        T_mult: int = 1,\n"
        "        eta_min: float = 0.0,\n"
        "        warmup_start_factor: float = 0.0,\n"
        "        cycle_decay: float = 1.0,\n"
        "        last_epoch: int = -1,\n",
        "        T_mult: int = 2,\n"
        "        eta_min: float = 0.0,\n"
        "        warmup_start_factor: float = 0.0,\n"
        "        cycle_decay: float = 1.0,\n"
        "        last_epoch: int = -1,\n",
    ),
]
