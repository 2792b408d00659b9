"""forward and backward flatten x with .view(-1), which fails on non-contiguous tensors."""

EXPECTED_FAILURES = {"test_empty_and_noncontiguous"}

PATCH = [
    (
        '    def forward(ctx, x: torch.Tensor, beta: float | torch.Tensor) -> torch.Tensor:\n',
        '    def forward(ctx, x: torch.Tensor, beta: float | torch.Tensor) -> torch.Tensor:\n'
        '        flat = x.view(-1)\n',
    ),
    (
        '        return x * torch.sigmoid(beta * x)\n',
        '        return (flat * torch.sigmoid(beta * flat)).view(x.shape)\n',
    ),
    (
        '        bx = beta * x\n',
        '        shape, x, grad_output = x.shape, x.view(-1), grad_output.reshape(-1)\n'
        '        bx = beta * x\n',
    ),
    (
        '            grad_x = grad_output * (s + bx * ds)\n',
        '            grad_x = (grad_output * (s + bx * ds)).view(shape)\n',
    ),
]
