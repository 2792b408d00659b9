"""Exercise 1's reference side: ``reference.tensor_ops``, reached through oracle calls (grading process only).

Exercise 1 needs no ``@oracle`` of its own: each expected value is one call of a
reference function, ``ref.last_token(hidden, lengths)`` or ``ref.last_token_masked(hidden, mask)``.
"""

from __future__ import annotations

from grader.oracle import reference

ref = reference("tensor_ops")
