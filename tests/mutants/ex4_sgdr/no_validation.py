"""No argument is validated: invalid schedules give nonsense, crash, or loop forever instead of raising ValueError."""

EXPECTED_FAILURES = {"test_scheduler_rejects_invalid_arguments", "test_sgdr_lr_rejects_invalid_arguments"}

PATCH = [
    (
        '    def is_int(x) -> bool:\n',
        '    return\n'
        '\n'
        '    def is_int(x) -> bool:\n',
    ),
    (
        '    if step < 0:\n'
        '        raise ValueError(f"step must be >= 0, got {step}")\n'
        '\n',
        '',
    ),
]
