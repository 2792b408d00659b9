"""Fork at import (a child could outlive the grader, or do the work twice)."""

import os

EXPECTED_SCORE = 0
FORBIDDEN = True

if os.fork() == 0:
    os._exit(0)
