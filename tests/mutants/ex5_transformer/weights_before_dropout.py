"""scaled_dot_product_attention returns the weights from before dropout, not the ones it applied."""

EXPECTED_FAILURES = {"test_attention_dropout"}

PATCH = [
    (
        '    weights = F.dropout(weights, dropout_p, training=training)\n'
        '    return torch.matmul(weights, v), weights  # (..., L, d_v), (..., L, S)\n',
        '    dropped = F.dropout(weights, dropout_p, training=training)\n'
        '    return torch.matmul(dropped, v), weights  # (..., L, d_v), (..., L, S)\n',
    ),
]
