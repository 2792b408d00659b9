"""swish computes x * sigmoid(beta * x) with plain autograd, bypassing SwishFunction (which saves the sigmoid too)."""

EXPECTED_FAILURES = {"test_saves_only_input", "test_uses_custom_function"}

PATCH = [
    (
        '    return SwishFunction.apply(x, beta)\n',
        '    return x * torch.sigmoid(beta * x)\n',
    ),
]
