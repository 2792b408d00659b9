"""Mistake: the residual branch reads x.detach(), so no gradient flows back through the branches."""

EXPECTED_FAILURES = {"test_gradients_reach_every_parameter"}

PATCH = [
    (
        '        h = self.norm(x)\n',
        '        h = self.norm(x.detach())\n',
    ),
]
