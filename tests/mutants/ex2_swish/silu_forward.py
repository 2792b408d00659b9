"""forward calls F.silu (silu(beta * x) / beta is swish): right values, but not the student's own forward."""

EXPECTED_FAILURES = {"test_uses_custom_function"}

PATCH = [
    (
        'from torch import nn\n',
        'from torch import nn\n'
        'import torch.nn.functional as F\n',
    ),
    (
        '        return x * torch.sigmoid(beta * x)\n',
        '        return F.silu(beta * x) / beta\n',
    ),
]
