"""MultiHeadAttention detaches K, so no gradient reaches W_k."""

EXPECTED_FAILURES = {"test_gradients_reach_every_parameter"}

PATCH = [
    (
        '        K = self.split_heads(self.W_k(key))  # (B, num_heads, S, d_k)\n',
        '        K = self.split_heads(self.W_k(key)).detach()  # (B, num_heads, S, d_k)\n',
    ),
]
