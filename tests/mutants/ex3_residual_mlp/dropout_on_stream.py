"""Mistake: dropout is applied to the sum x + branch (the whole stream), not to the branch alone."""

EXPECTED_FAILURES = {"test_train_matches_reference"}

PATCH = [
    (
        '        return x + self.dropout(h)  # dropout on the branch only, then the residual sum\n',
        '        return self.dropout(x + h)\n',
    ),
]
