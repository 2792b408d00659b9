"""Swish.forward passes self.beta.item() to swish, cutting the graph: a learnable beta never gets a gradient."""

EXPECTED_FAILURES = {"test_module_beta_gradient"}

PATCH = [
    (
        '        return swish(x, self.beta)\n',
        '        beta = self.beta.item() if isinstance(self.beta, torch.Tensor) else self.beta\n'
        '        return swish(x, beta)\n',
    ),
]
