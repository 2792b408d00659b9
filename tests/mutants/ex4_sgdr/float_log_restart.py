"""The cycle comes from a float log, as in CosineAnnealingWarmRestarts.step(epoch): some restarts land a cycle early."""

EXPECTED_FAILURES = {"test_restart_values"}

PATCH = [
    (
        '        i, pos, T_i = 0, s, T_0\n'
        '        while pos >= T_i:  # at most log_T_mult(s / T_0) + 1 rounds\n'
        '            pos -= T_i\n'
        '            T_i *= T_mult\n'
        '            i += 1\n',
        '        i = int(math.log(s / T_0 * (T_mult - 1) + 1, T_mult))\n'
        '        pos = s - T_0 * (T_mult**i - 1) // (T_mult - 1)\n'
        '        T_i = T_0 * T_mult**i\n',
    ),
]
