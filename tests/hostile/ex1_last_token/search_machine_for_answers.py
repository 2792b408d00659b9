"""Search the whole machine for another copy of this exercise and run the first one that works.

A classmate's file in the same class folder, the kit's model answer, a course's source
notebook, a release build, a symlink to any of them: whatever the grading process can
read, this finds. Inside the OS sandbox there is nothing but its own copy.
"""

import json
import os
from pathlib import Path

import torch

EXPECTED_SCORE = 0

NAMES = ("ex1_last_token.py", "ex1_last_token.ipynb")
SKIP = {"proc", "sys", "dev", "usr", "site-packages", ".pyenv", ".venv", "__pycache__", "node_modules"}


def candidates():
    mine = Path(__file__).resolve()
    for root, dirs, names in os.walk("/", followlinks=False):
        dirs[:] = [d for d in dirs if d not in SKIP]
        for name in names:
            if name in NAMES and Path(root, name) != mine:
                yield Path(root, name)


def code(path):
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        cells = json.loads(text)["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code" and "grader" not in "".join(c["source"]))
    return text


def works(last_token):
    """Right on one example (a classmate's stub or wrong answer is no use)."""
    hidden = torch.randn(2, 3, 4)
    return last_token(hidden, torch.tensor([1, 3])).tolist() == hidden[[0, 1], [0, 2]].tolist()


def steal():
    for path in candidates():
        namespace = {}
        try:
            text = code(path)
            if "EXPECTED_SCORE" in text or "PATCH" in text:
                continue  # the kit's own hostile and wrong files
            exec(text, namespace)  # noqa: S102
            if not works(namespace["last_token"]):
                continue
        except Exception:  # noqa: BLE001, S112 - a stub, a notebook that needs more: try the next one
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
