"""forward calls F.silu when beta is 1.0 (the default, SiLU's own beta) and only then: right values, but not the student's own forward."""

# beta = 1.0 is never drawn from a continuous range: the check tries it (and the default) as explicit examples
EXPECTED_FAILURES = {"test_uses_custom_function"}

PATCH = [
    (
        'from torch import nn\n',
        'from torch import nn\n'
        'import torch.nn.functional as F\n',
    ),
    (
        '        return x * torch.sigmoid(beta * x)\n',
        '        if not isinstance(beta, torch.Tensor) and beta == 1.0:\n'
        '            return F.silu(x)  # the fused kernel for the common case\n'
        '        return x * torch.sigmoid(beta * x)\n',
    ),
]
