"""PositionalEncoding puts all sines first, then all cosines, instead of interleaving them."""

EXPECTED_FAILURES = {"test_positional_encoding_table"}

PATCH = [
    (
        '        pe = torch.zeros(max_len, d_model)\n'
        '        pe[:, 0::2] = torch.sin(position * div_term)\n'
        '        pe[:, 1::2] = torch.cos(position * div_term[: d_model // 2])\n',
        '        angle = position * div_term  # (max_len, ceil(d_model/2))\n'
        '        pe = torch.cat([torch.sin(angle), torch.cos(angle[:, : d_model // 2])], dim=1)\n',
    ),
]
