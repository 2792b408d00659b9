"""TransformerBlock leaves out the dropout on the attention branch."""

EXPECTED_FAILURES = {"test_dropout_train_and_eval"}

PATCH = [
    (
        '            x = x + self.dropout(self.attention(h, h, h, mask))\n',
        '            x = x + self.attention(h, h, h, mask)\n',
    ),
    (
        '            x = self.norm1(x + self.dropout(attn_output))\n',
        '            x = self.norm1(x + attn_output)\n',
    ),
]
