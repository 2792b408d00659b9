"""forward computes x * sigmoid(x), ignoring beta (backward is right)."""

EXPECTED_FAILURES = {"test_forward_values", "test_gradcheck", "test_large_inputs", "test_module_values"}

PATCH = [
    (
        '        return x * torch.sigmoid(beta * x)\n',
        '        return x * torch.sigmoid(x)\n',
    ),
]
