"""backward forgets the beta * x * s * (1 - s) term of the product rule: d/dx is taken as s alone."""

EXPECTED_FAILURES = {"test_backward_values", "test_gradcheck"}

PATCH = [
    (
        '            grad_x = grad_output * (s + bx * ds)\n',
        '            grad_x = grad_output * s\n',
    ),
]
