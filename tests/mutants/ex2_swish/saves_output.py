"""forward also saves its output, to write d/dx as s + beta * out * (1 - s): twice F.silu's memory."""

EXPECTED_FAILURES = {"test_saves_only_input"}

PATCH = [
    (
        '        if isinstance(beta, torch.Tensor):\n'
        '            ctx.save_for_backward(x, beta)\n'
        '        else:\n'
        '            ctx.save_for_backward(x)\n',
        '        out = x * torch.sigmoid(beta * x)\n'
        '        if isinstance(beta, torch.Tensor):\n'
        '            ctx.save_for_backward(x, beta, out)\n'
        '        else:\n'
        '            ctx.save_for_backward(x, out)\n',
    ),
    (
        '        return x * torch.sigmoid(beta * x)\n',
        '        return out\n',
    ),
    (
        '        if len(ctx.saved_tensors) == 2:\n'
        '            x, beta = ctx.saved_tensors\n'
        '        else:\n'
        '            (x,) = ctx.saved_tensors\n',
        '        if len(ctx.saved_tensors) == 3:\n'
        '            x, beta, out = ctx.saved_tensors\n'
        '        else:\n'
        '            x, out = ctx.saved_tensors\n',
    ),
    (
        '            grad_x = grad_output * (s + bx * ds)\n',
        '            grad_x = grad_output * (s + beta * out * (1 - s))\n',
    ),
    (
        '            # x * ds before the second x: in float16, x * x overflows for |x| > 256\n'
        '            grad_beta = (grad_output * x * ds * x).sum().reshape(beta.shape)\n',
        '            grad_beta = (grad_output * x * (out * (1 - s))).sum().reshape(beta.shape)\n',
    ),
]
