"""Take the answers from reference/ by importing it by name."""

EXPECTED_SCORE = 0
FORBIDDEN = True

from reference.tensor_ops import last_token, last_token_masked  # noqa: E402, F401
