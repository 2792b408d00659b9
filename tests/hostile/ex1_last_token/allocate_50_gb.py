"""last_token is right; last_token_masked asks for 50 GB (and touches it)."""

EXPECTED_SCORE = 9
PATCH = [("    real = mask != 0\n", "    hoard = torch.ones(50 * 2**30, dtype=torch.uint8)\n    real = mask != 0\n")]
