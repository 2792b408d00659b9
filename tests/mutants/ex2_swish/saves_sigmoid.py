"""forward also saves sigmoid(beta * x): twice F.silu's memory, and a saved constant that double backward cannot see through."""

EXPECTED_FAILURES = {"test_gradgradcheck", "test_saves_only_input"}

PATCH = [
    (
        '        if isinstance(beta, torch.Tensor):\n'
        '            ctx.save_for_backward(x, beta)\n'
        '        else:\n'
        '            ctx.save_for_backward(x)\n',
        '        s = torch.sigmoid(beta * x)\n'
        '        if isinstance(beta, torch.Tensor):\n'
        '            ctx.save_for_backward(x, beta, s)\n'
        '        else:\n'
        '            ctx.save_for_backward(x, s)\n',
    ),
    (
        '        return x * torch.sigmoid(beta * x)\n',
        '        return x * s\n',
    ),
    (
        '        if len(ctx.saved_tensors) == 2:\n'
        '            x, beta = ctx.saved_tensors\n'
        '        else:\n'
        '            (x,) = ctx.saved_tensors\n',
        '        if len(ctx.saved_tensors) == 3:\n'
        '            x, beta, s = ctx.saved_tensors\n'
        '        else:\n'
        '            x, s = ctx.saved_tensors\n',
    ),
    (
        '        s = torch.sigmoid(bx)  # recomputed: cheaper in memory than saving it\n',
        '',
    ),
]
