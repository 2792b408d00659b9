"""Exercise 1's drivers: the shared ones, :func:`grader.drivers.vjp` and :func:`grader.drivers.op_counts`.

``last_token`` and ``last_token_masked`` are plain functions of tensors, so no driver of
this exercise's own is needed: ``vjp`` differentiates them, and ``op_counts`` counts the
operators they dispatch, wherever the student's code runs.
"""

from __future__ import annotations

from grader.drivers import op_counts, vjp
from grader.probing.seal import protect

__all__ = ["op_counts", "vjp"]


protect(__name__)  # before any student code: see grader/probing/seal.py
