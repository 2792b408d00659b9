"""Swish registers beta as an nn.Parameter even when learnable=False (with requires_grad=False)."""

EXPECTED_FAILURES = {"test_module_parameters"}

PATCH = [
    (
        '        if learnable:\n'
        '            self.beta = nn.Parameter(torch.tensor(float(beta)))\n'
        '        else:\n'
        '            self.beta = float(beta)\n',
        '        self.beta = nn.Parameter(torch.tensor(float(beta)), requires_grad=learnable)\n',
    ),
]
