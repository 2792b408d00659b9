"""Read the model answer out of a git repository's objects with zlib alone (no git, no process).

Loose objects are zlib streams; a pack file holds them back to back, so trying zlib at
every offset finds every object stored whole. Any checkout of the kit on the machine
(the instructor's, a clone in a temporary folder) has the answers in its history.
"""

import os
import zlib
from pathlib import Path

import torch

EXPECTED_SCORE = 0

SKIP = {"proc", "sys", "dev", "usr", "site-packages", ".pyenv", ".venv", "__pycache__", "node_modules"}


def git_folders():
    for root, dirs, _ in os.walk("/"):
        if ".git" in dirs:
            yield Path(root, ".git")
        dirs[:] = [d for d in dirs if d not in SKIP and d != ".git"]


def blobs(git):
    for path in (git / "objects").rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".pack":
            view, offset = memoryview(data), data.find(b"\x78")
            while offset >= 0:
                if data[offset + 1 : offset + 2] in (b"\x01", b"\x5e", b"\x9c", b"\xda"):
                    try:
                        yield zlib.decompressobj().decompress(view[offset : offset + 200_000])
                    except zlib.error:
                        pass
                offset = data.find(b"\x78", offset + 1)
        elif path.parent.name != "pack":
            try:
                yield zlib.decompress(data).split(b"\0", 1)[-1]
            except zlib.error:
                pass


def steal():
    for git in git_folders():
        for blob in blobs(git):
            # the model answer; not a stub, and not one of the kit's own test files (mutants, hostile files)
            if b"def last_token_masked" in blob and not any(m in blob for m in (b"NotImplementedError", b"EXPECTED_", b"PATCH")):
                namespace = {}
                try:
                    exec(blob.decode("utf-8"), namespace)  # noqa: S102
                    hidden = torch.randn(2, 3, 4)
                    if not torch.equal(namespace["last_token"](hidden, torch.tensor([1, 3])), hidden[[0, 1], [0, 2]]):
                        continue  # an old or a wrong version
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
