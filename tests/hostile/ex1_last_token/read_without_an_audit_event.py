"""Read other copies of this exercise through torch.from_file, a C++ mmap that raises no ``open`` audit event.

The audit hook never sees these reads; only the file system the process can see limits them.
"""

import os
from pathlib import Path

import torch

EXPECTED_SCORE = 0

SKIP = {"proc", "sys", "dev", "usr", "site-packages", ".pyenv", ".venv", "__pycache__", "node_modules"}


def read(path):
    size = os.path.getsize(path)
    return bytes(torch.from_file(str(path), size=size, dtype=torch.uint8).tolist()).decode("utf-8")


def works(last_token):
    """Right on one example (a classmate's stub or wrong answer is no use)."""
    hidden = torch.randn(2, 3, 4)
    return last_token(hidden, torch.tensor([1, 3])).tolist() == hidden[[0, 1], [0, 2]].tolist()


def steal():
    mine = Path(__file__).resolve()
    for root, dirs, names in os.walk("/", followlinks=False):
        dirs[:] = [d for d in dirs if d not in SKIP]
        if "ex1_last_token.py" in names and Path(root, "ex1_last_token.py") != mine:
            namespace = {}
            try:
                text = read(Path(root, "ex1_last_token.py"))
                if "EXPECTED_SCORE" in text or "PATCH" in text:
                    continue  # the kit's own hostile and wrong files
                exec(text, namespace)  # noqa: S102
                if not works(namespace["last_token"]):
                    continue
            except Exception:  # noqa: BLE001, S112
                continue
            return namespace["last_token"], namespace["last_token_masked"]
    return None


found = steal()
if found:
    last_token, last_token_masked = found
else:

    def last_token(hidden, lengths):
        raise NotImplementedError

    def last_token_masked(hidden, mask):
        raise NotImplementedError
