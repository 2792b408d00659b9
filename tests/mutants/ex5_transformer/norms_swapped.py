"""TransformerBlock swaps post-norm and pre-norm (norm_first=False runs the pre-norm block)."""

EXPECTED_FAILURES = {"test_block_post_norm_values", "test_block_pre_norm_values"}

PATCH = [
    (
        '        if self.norm_first:\n',
        '        if not self.norm_first:\n',
    ),
]
