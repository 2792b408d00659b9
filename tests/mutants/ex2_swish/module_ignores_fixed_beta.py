"""Swish.forward drops a fixed (non-learnable) beta and computes swish(x) with beta = 1."""

EXPECTED_FAILURES = {"test_module_values"}

PATCH = [
    (
        '        return swish(x, self.beta)\n',
        '        if isinstance(self.beta, torch.Tensor):\n'
        '            return swish(x, self.beta)\n'
        '        return swish(x)\n',
    ),
]
