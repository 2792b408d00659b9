"""PositionalEncoding slices pe with x.size(0), the batch size (a sequence-first habit)."""

EXPECTED_FAILURES = {"test_positional_encoding_forward", "test_positional_encoding_rejects_long_input"}

PATCH = [
    (
        '        L = x.size(1)\n',
        '        L = x.size(0)\n',
    ),
]
