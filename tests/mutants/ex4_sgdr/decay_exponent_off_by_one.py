"""cycle_decay is applied once too often: the peak of cycle i is base_lr * cycle_decay**(i + 1)."""

EXPECTED_FAILURES = {"test_huge_steps", "test_inside_cycle_values", "test_restart_values"}

PATCH = [
    (
        '    peak = base_lr * cycle_decay**i\n',
        '    peak = base_lr * cycle_decay ** (i + 1)\n',
    ),
]
