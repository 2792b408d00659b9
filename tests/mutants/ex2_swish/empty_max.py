"""forward looks at (beta * x).abs().max() to skip the sigmoid far out, and max() of an empty tensor raises."""

EXPECTED_FAILURES = {"test_empty_and_noncontiguous"}

PATCH = [
    (
        '        return x * torch.sigmoid(beta * x)\n',
        '        z = beta * x\n'
        '        if z.abs().max() > 30:  # far out on a tail, sigmoid is 0 or 1 to working precision: skip it there\n'
        '            out = torch.where(z > 30, x, x * torch.sigmoid(z))\n'
        '            return torch.where(z < -30, torch.zeros_like(x), out)\n'
        '        return x * torch.sigmoid(z)\n',
    ),
]
