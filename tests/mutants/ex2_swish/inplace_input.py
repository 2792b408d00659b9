"""forward scales x in place and divides it back: x changes (its version counter shows it), and an expanded x cannot be written.

gradcheck runs in the grading process and hands the student's code copies, so the in-place change
costs test_input_unchanged, not gradcheck.
"""

EXPECTED_FAILURES = {"test_empty_and_noncontiguous", "test_input_unchanged"}

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
