"""Mistake: `dropout or 0.1` turns dropout=0 into the default 0.1."""

EXPECTED_FAILURES = {"test_train_without_dropout_equals_eval"}

PATCH = [
    (
        '        self.dropout = nn.Dropout(p)\n',
        '        self.dropout = nn.Dropout(p or 0.1)\n',
    ),
]
