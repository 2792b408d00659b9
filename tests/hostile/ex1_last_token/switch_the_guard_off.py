"""Switch the audit hook off from Python, then read the kit's model answer and run it.

An audit hook cannot be removed, but it is a closure in this interpreter: ``gc`` finds it,
and rebinding the function it calls to refuse turns every refusal into nothing, with no
violation recorded. The guard is only the second layer; the file system is the wall.
"""

import gc
import sys
import types
from pathlib import Path

EXPECTED_SCORE = 0

for obj in gc.get_objects():
    if isinstance(obj, types.FunctionType) and obj.__name__ == "hook" and obj.__closure__:
        for name, cell in zip(obj.__code__.co_freevars, obj.__closure__):
            if name in ("refuse", "check_open"):
                cell.cell_contents = lambda *args, **kwargs: None

kit = Path(sys.modules["grader"].__file__).resolve().parent.parent
namespace = {}
try:
    exec((kit / "solutions" / "ex1_last_token.py").read_text(encoding="utf-8"), namespace)  # noqa: S102
    last_token, last_token_masked = namespace["last_token"], namespace["last_token_masked"]
except OSError:

    def last_token(hidden, lengths):
        raise NotImplementedError

    def last_token_masked(hidden, mask):
        raise NotImplementedError
