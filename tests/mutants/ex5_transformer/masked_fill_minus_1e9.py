"""The chapter's masked_fill(mask == 0, -1e9): a fully masked row gets uniform weights instead of zeros."""

EXPECTED_FAILURES = {"test_fully_masked_rows"}
# float16 cannot hold -1e9, so masked_fill raises in the half-precision CUDA cases of these checks too.
EXPECTED_FAILURES_WITH_CUDA = {
    "test_attention_values",
    "test_attention_head_values",
    "test_causality",
    "test_mha_mask_shapes",
}

PATCH = [
    (
        '        allowed = mask != 0\n'
        '        # the lowest finite value, not -inf: a row with no key stays finite (uniform), zeroed below\n'
        '        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)\n',
        '        scores = scores.masked_fill(mask == 0, -1e9)\n',
    ),
    (
        '    if mask is not None:\n'
        '        weights = weights.masked_fill(~allowed.any(dim=-1, keepdim=True), 0.0)\n',
        "",
    ),
]
