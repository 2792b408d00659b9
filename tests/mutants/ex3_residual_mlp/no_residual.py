"""Mistake: the block returns only its branch, without adding x (no residual connection)."""

EXPECTED_FAILURES = {"test_eval_matches_reference", "test_other_activations", "test_train_matches_reference", "test_zeroed_fc2_block_is_identity"}

PATCH = [
    (
        '        return x + self.dropout(h)  # dropout on the branch only, then the residual sum\n',
        '        return self.dropout(h)\n',
    ),
]
