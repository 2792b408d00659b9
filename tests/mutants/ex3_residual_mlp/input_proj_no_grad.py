"""Mistake: input_proj runs under torch.no_grad(), so its parameters get no gradient."""

EXPECTED_FAILURES = {"test_gradients_reach_every_parameter"}

PATCH = [
    (
        '        h = self.input_proj(x)  # (..., hidden)\n',
        '        with torch.no_grad():\n'
        '            h = self.input_proj(x)  # (..., hidden)\n',
    ),
]
