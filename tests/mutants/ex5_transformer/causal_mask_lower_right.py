"""causal_mask aligns to the lower right (tril(diagonal=S - L)), unlike is_causal=True."""

EXPECTED_FAILURES = {"test_causal_mask"}

PATCH = [
    (
        '    i = torch.arange(L, device=device).unsqueeze(1)  # (L, 1)\n'
        '    j = torch.arange(S, device=device).unsqueeze(0)  # (1, S)\n'
        '    return j <= i  # (L, S)\n',
        '    return torch.ones(L, S, dtype=torch.bool, device=device).tril(diagonal=S - L)\n',
    ),
]
