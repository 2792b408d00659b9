"""last_token is right; last_token_masked raises SystemExit(0) and KeyboardInterrupt when called."""

EXPECTED_SCORE = 9
PATCH = [
    (
        "    real = mask != 0\n",
        "    import sys\n\n    if mask.numel() % 2:\n        raise KeyboardInterrupt\n    sys.exit(0)\n    real = mask != 0\n",
    )
]
