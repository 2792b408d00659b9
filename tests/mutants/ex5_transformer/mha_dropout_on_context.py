"""MultiHeadAttention drops the heads' outputs (B, num_heads, L, d_k) instead of the attention weights (B, num_heads, L, S)."""

# each entry is still zero or scaled by 1/(1-p): only a train-mode output under a fixed seed shows it
EXPECTED_FAILURES = {"test_dropout_train_and_eval"}

PATCH = [
    (
        "        context, _ = scaled_dot_product_attention(Q, K, V, mask, self.dropout, self.training)  # (B, num_heads, L, d_k)\n",
        "        context, _ = scaled_dot_product_attention(Q, K, V, mask)  # (B, num_heads, L, d_k)\n"
        "        context = nn.functional.dropout(context, self.dropout, self.training)\n",
    ),
]
