"""Correct, but walks the cycles one at a time even for T_mult = 1: O(step / T_0), hopeless at step 10**12."""

EXPECTED_FAILURES = {"test_huge_steps"}

PATCH = [
    (
        '    if T_mult == 1:\n'
        '        i, pos = divmod(s, T_0)\n'
        '        T_i = T_0\n'
        '    else:\n'
        '        i, pos, T_i = 0, s, T_0\n'
        '        while pos >= T_i:  # at most log_T_mult(s / T_0) + 1 rounds\n'
        '            pos -= T_i\n'
        '            T_i *= T_mult\n'
        '            i += 1\n',
        '    i, pos, T_i = 0, s, T_0\n'
        '    while pos >= T_i:  # one round per cycle, even for T_mult = 1\n'
        '        pos -= T_i\n'
        '        T_i *= T_mult\n'
        '        i += 1\n',
    ),
]
