"""Swish.forward drops a fixed (non-learnable) beta and computes swish(x) with beta = 1."""

# the custom-node check is believed only together with correct values, Swish(beta)(x)'s included
EXPECTED_FAILURES = {"test_module_values", "test_uses_custom_function"}

PATCH = [
    (
        '        return swish(x, self.beta)\n',
        '        if isinstance(self.beta, torch.Tensor):\n'
        '            return swish(x, self.beta)\n'
        '        return swish(x)\n',
    ),
]
