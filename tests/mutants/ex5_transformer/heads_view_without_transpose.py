"""MultiHeadAttention splits heads with view(B, num_heads, T, d_k), without the transpose."""

EXPECTED_FAILURES = {
    "test_block_post_norm_values",
    "test_block_pre_norm_values",
    "test_causality",
    "test_mha_cross_attention",
    "test_mha_mask_shapes",
    "test_mha_values",
    "test_permutation_equivariance",
}

PATCH = [
    (
        '        return x.view(B, T, self.num_heads, self.d_k).transpose(1, 2)  # (B, num_heads, T, d_k)\n',
        '        return x.view(B, self.num_heads, T, self.d_k)  # (B, num_heads, T, d_k)\n',
    ),
]
