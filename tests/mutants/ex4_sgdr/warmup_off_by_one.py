"""Warmup counts one step ahead: (step + 1) / warmup_steps."""

EXPECTED_FAILURES = {"test_warmup_values"}

PATCH = [
    (
        '        progress = step / warmup_steps\n',
        '        progress = (step + 1) / warmup_steps\n',
    ),
]
