"""Try to write a perfect grades.csv into the output folder (the test says where: HOSTILE_TARGET), then kill the grader."""

import os
from pathlib import Path

EXPECTED_SCORE = 0
FORBIDDEN = True

for folder in (Path(os.environ.get("HOSTILE_TARGET", "/nonexistent")), Path.cwd().parent):
    try:
        (folder / "grades.csv").write_text("student_id,total\nwrite_files,116\n")
    except OSError:
        pass
try:
    os.kill(os.getppid(), 9)
except OSError:
    pass


def last_token(hidden, lengths):
    raise NotImplementedError


def last_token_masked(hidden, mask):
    raise NotImplementedError
