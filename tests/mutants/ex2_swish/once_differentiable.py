"""backward is right but marked @once_differentiable, so double backward (gradgradcheck) is impossible."""

EXPECTED_FAILURES = {"test_gradgradcheck"}

PATCH = [
    (
        'from torch import nn\n',
        'from torch import nn\n'
        'from torch.autograd.function import once_differentiable\n',
    ),
    (
        '    def backward(',
        '    @once_differentiable\n'
        '    def backward(',
    ),
]
