"""MultiHeadAttention checks d_model % num_heads with an assert, as in the chapter, not a ValueError."""

EXPECTED_FAILURES = {"test_mha_rejects_indivisible_heads"}

PATCH = [
    (
        '        if d_model % num_heads != 0:\n'
        '            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")\n',
        '        assert d_model % num_heads == 0\n',
    ),
]
