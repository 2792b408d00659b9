"""MultiHeadAttention projects the keys from the query: right for self-attention only."""

EXPECTED_FAILURES = {"test_mha_cross_attention"}

PATCH = [
    (
        '        K = self.split_heads(self.W_k(key))  # (B, num_heads, S, d_k)\n',
        '        K = self.split_heads(self.W_k(query))  # (B, num_heads, S, d_k)\n',
    ),
]
