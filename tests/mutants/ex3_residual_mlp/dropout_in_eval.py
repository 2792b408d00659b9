"""Mistake: dropout is applied with F.dropout(..., training=True), so it also acts in eval mode."""

EXPECTED_FAILURES = {"test_eval_matches_reference"}

PATCH = [
    (
        '        return x + self.dropout(h)  # dropout on the branch only, then the residual sum\n',
        '        return x + nn.functional.dropout(h, self.dropout.p, training=True)\n',
    ),
]
