"""Mistake: dropout is applied before fc2 instead of after it."""

EXPECTED_FAILURES = {"test_train_matches_reference"}

PATCH = [
    (
        '        h = self.activation(h)\n'
        '        h = self.fc2(h)\n'
        '        return x + self.dropout(h)  # dropout on the branch only, then the residual sum\n',
        '        h = self.dropout(self.activation(h))\n'
        '        h = self.fc2(h)\n'
        '        return x + h\n',
    ),
]
