"""forward scales x in place and divides it back: x changes (breaking gradcheck, which reuses x), an expanded x cannot be written."""

EXPECTED_FAILURES = {"test_empty_and_noncontiguous", "test_gradcheck", "test_input_unchanged"}

PATCH = [
    (
        '    def forward(ctx, x: torch.Tensor, beta: float | torch.Tensor) -> torch.Tensor:\n',
        '    def forward(ctx, x: torch.Tensor, beta: float | torch.Tensor) -> torch.Tensor:\n'
        '        x.mul_(beta)  # "saves an allocation"\n'
        '        s = torch.sigmoid(x)\n'
        '        x.div_(beta)  # "undo it"\n',
    ),
    (
        '        return x * torch.sigmoid(beta * x)\n',
        '        return x * s\n',
    ),
]
