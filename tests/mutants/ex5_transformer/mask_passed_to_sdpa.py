"""MultiHeadAttention hands the mask to F.scaled_dot_product_attention as it is (0/1 floats become an additive bias)."""

EXPECTED_FAILURES = {"test_fully_masked_rows", "test_mha_mask_shapes"}

PATCH = [
    (
        '        context, _ = scaled_dot_product_attention(Q, K, V, mask, self.dropout, self.training)  # (B, num_heads, L, d_k)\n',
        '        p = self.dropout if self.training else 0.0\n'
        '        context = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask, dropout_p=p)  # (B, num_heads, L, d_k)\n',
    ),
]
