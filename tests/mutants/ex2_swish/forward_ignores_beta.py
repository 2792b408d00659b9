"""forward computes x * sigmoid(x), ignoring beta (backward is right)."""

# the structural checks (custom node, saved tensors, inputs unchanged) are believed only together with correct values
EXPECTED_FAILURES = {
    "test_forward_values",
    "test_gradcheck",
    "test_input_unchanged",
    "test_large_inputs",
    "test_module_values",
    "test_saves_only_input",
    "test_uses_custom_function",
}

PATCH = [
    (
        '        return x * torch.sigmoid(beta * x)\n',
        '        return x * torch.sigmoid(x)\n',
    ),
]
