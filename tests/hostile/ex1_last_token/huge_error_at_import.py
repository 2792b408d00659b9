"""Raise an exception with a 24 MiB message at import (it was still being rendered 15 minutes later)."""

EXPECTED_SCORE = 0

raise ValueError("x" * (24 * 2**20))
