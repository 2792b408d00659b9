"""Read the reference's source text and run it."""

import sys
from pathlib import Path

EXPECTED_SCORE = 0
FORBIDDEN = True

kit = Path(sys.modules["grader"].__file__).resolve().parent.parent
namespace = {}
exec((kit / "reference" / "tensor_ops.py").read_text(), namespace)  # noqa: S102
last_token, last_token_masked = namespace["last_token"], namespace["last_token_masked"]
