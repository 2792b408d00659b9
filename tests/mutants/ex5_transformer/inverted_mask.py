"""The mask is read the other way round (True = masked out, nn.MultiheadAttention's convention)."""

# op counts are believed only with outputs that match the reference (here under a causal mask)
EXPECTED_FAILURES = {
    "test_attention_head_values",
    "test_attention_values",
    "test_causality",
    "test_fully_masked_rows",
    "test_mha_mask_shapes",
    "test_mha_vectorized_heads",
}

PATCH = [
    (
        '        allowed = mask != 0\n',
        '        allowed = mask == 0\n',
    ),
]
