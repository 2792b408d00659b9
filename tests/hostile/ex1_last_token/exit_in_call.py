"""last_token is right; last_token_masked ends the process (os._exit) when called."""

EXPECTED_SCORE = 9
PATCH = [("    real = mask != 0\n", "    import os\n\n    os._exit(0)\n    real = mask != 0\n")]
