"""The mask is read the other way round (True = masked out, nn.MultiheadAttention's convention)."""

EXPECTED_FAILURES = {
    "test_attention_head_values",
    "test_attention_values",
    "test_causality",
    "test_fully_masked_rows",
    "test_mha_mask_shapes",
}

PATCH = [
    (
        '        allowed = mask != 0\n',
        '        allowed = mask == 0\n',
    ),
]
