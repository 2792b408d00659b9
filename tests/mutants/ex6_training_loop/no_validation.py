"""Mistake: no argument is checked: bad arguments raise nothing (or something other than ValueError)."""

EXPECTED_FAILURES = {
    "test_rejects_bad_arguments",
}

PATCH = [
    ("    if weight_decay < 0:\n        raise ValueError", "    if False:\n        raise ValueError"),
    ("    if accumulation_steps < 1:\n        raise ValueError", "    if False:\n        raise ValueError"),
    ("    if max_grad_norm is not None and max_grad_norm <= 0:\n        raise ValueError", "    if False:\n        raise ValueError"),
    ("    if n == 0:\n        raise ValueError", "    if False:\n        raise ValueError"),
    ("    if len(loader) == 0:\n        raise ValueError", "    if False:\n        raise ValueError"),
    ("        if patience < 1:\n            raise ValueError", "        if False:\n            raise ValueError"),
    ("        if min_delta < 0:\n            raise ValueError", "        if False:\n            raise ValueError"),
    ('        if mode not in ("min", "max"):\n            raise ValueError', "        if False:\n            raise ValueError"),
    ("    if epochs < 1:\n        raise ValueError", "    if False:\n        raise ValueError"),
]
