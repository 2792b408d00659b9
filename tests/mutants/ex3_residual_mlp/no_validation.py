"""Mistake: the arguments are not validated (no ValueError for bad depth, sizes or dropout)."""

EXPECTED_FAILURES = {"test_rejects_bad_arguments"}

PATCH = [
    (
        '        if min(in_features, hidden_features, out_features) <= 0:\n'
        '            raise ValueError(\n'
        '                f"sizes must be positive, got in={in_features}, hidden={hidden_features}, out={out_features}"\n'
        '            )\n'
        '        if depth < 0:\n'
        '            raise ValueError(f"depth must be >= 0, got {depth}")\n'
        '        if not 0 <= dropout < 1:\n'
        '            raise ValueError(f"dropout must be in [0, 1), got {dropout}")\n',
        '',
    ),
]
