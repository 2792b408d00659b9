"""Raise SystemExit(0) at import."""

import sys

EXPECTED_SCORE = 0

sys.exit(0)
