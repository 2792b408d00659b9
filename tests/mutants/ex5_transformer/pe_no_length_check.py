"""PositionalEncoding never checks L > max_len (pe[:L] silently stops at max_len)."""

EXPECTED_FAILURES = {"test_positional_encoding_rejects_long_input"}

PATCH = [
    (
        '        if L > self.pe.size(0):\n'
        '            raise ValueError(f"sequence of length {L} is longer than max_len={self.pe.size(0)}")\n',
        "",
    ),
]
