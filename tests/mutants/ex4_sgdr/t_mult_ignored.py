"""T_mult is ignored: every cycle lasts T_0 steps."""

EXPECTED_FAILURES = {
    "test_huge_steps",
    "test_inside_cycle_values",
    "test_matches_cosine_annealing_warm_restarts",
    "test_restart_values",
}

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
        '    i, pos = divmod(s, T_0)\n'
        '    T_i = T_0\n',
    ),
]
