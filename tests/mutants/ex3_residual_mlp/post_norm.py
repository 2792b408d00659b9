"""Mistake: post-norm (LayerNorm after the residual sum) instead of pre-norm."""

EXPECTED_FAILURES = {"test_eval_matches_reference", "test_other_activations", "test_train_matches_reference", "test_zeroed_fc2_block_is_identity"}

PATCH = [
    (
        '        h = self.norm(x)\n'
        '        h = self.fc1(h)\n',
        '        h = self.fc1(x)\n',
    ),
    (
        '        return x + self.dropout(h)  # dropout on the branch only, then the residual sum\n',
        '        return self.norm(x + self.dropout(h))\n',
    ),
]
