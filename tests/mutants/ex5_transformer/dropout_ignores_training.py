"""F.dropout is called without training=..., so it also drops in eval mode (its default is True)."""

EXPECTED_FAILURES = {"test_attention_dropout", "test_dropout_train_and_eval"}

PATCH = [
    (
        '    weights = F.dropout(weights, dropout_p, training=training)\n',
        '    weights = F.dropout(weights, dropout_p)\n',
    ),
]
