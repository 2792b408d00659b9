"""MultiHeadAttention scales its scores by √d_model instead of √d_k (the notebook's SelfAttention habit)."""

# op counts, the block's dropout count and gradients are believed only with outputs that match the reference
EXPECTED_FAILURES = {
    "test_block_post_norm_values",
    "test_block_pre_norm_values",
    "test_dropout_train_and_eval",
    "test_gradients_reach_every_parameter",
    "test_mha_cross_attention",
    "test_mha_values",
    "test_mha_vectorized_heads",
}

PATCH = [
    (
        '        V = self.split_heads(self.W_v(value))  # (B, num_heads, S, d_k)\n'
        '        context, _ = scaled_dot_product_attention(Q, K, V, mask, self.dropout, self.training)  # (B, num_heads, L, d_k)\n',
        '        V = self.split_heads(self.W_v(value))  # (B, num_heads, S, d_k)\n'
        '        Q = Q * math.sqrt(self.d_k) / math.sqrt(d_model)  # ends up divided by √d_model\n'
        '        context, _ = scaled_dot_product_attention(Q, K, V, mask, self.dropout, self.training)  # (B, num_heads, L, d_k)\n',
    ),
]
