"""last_token is right; last_token_masked never returns."""

EXPECTED_SCORE = 9
PATCH = [("    real = mask != 0\n", "    while True:\n        pass\n    real = mask != 0\n")]
