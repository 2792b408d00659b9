"""sigmoid and its derivative written with exp: exp(-beta * x) / (1 + exp(-beta * x))**2 is inf/inf = nan for large -x."""

EXPECTED_FAILURES = {"test_large_inputs"}
# In float16 exp(6)**2 already overflows, so the CUDA half-precision backward values fail too.
EXPECTED_FAILURES_WITH_CUDA = {"test_backward_values"}

PATCH = [
    (
        '        return x * torch.sigmoid(beta * x)\n',
        '        return x / (1 + torch.exp(-beta * x))\n',
    ),
    (
        '        s = torch.sigmoid(bx)  # recomputed: cheaper in memory than saving it\n'
        "        ds = s * (1 - s)  # sigmoid'(bx); exactly 0 far out on both tails, never nan\n",
        '        e = torch.exp(-bx)\n'
        '        s = 1 / (1 + e)\n'
        '        ds = e / (1 + e) ** 2\n',
    ),
]
