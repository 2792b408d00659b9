"""Imported by the fork server only: what every worker needs, imported and warmed up once.

The check modules (for their drivers) and the warm-up steps of :mod:`grader.isolation.warm_up`.
Nothing here may ask CUDA anything, not even whether a GPU exists: a forked worker
could not use CUDA after that (``tests/test_grader_errors.py`` holds this on a CPU,
``python -m tests.gpu.fork_probe`` on a GPU).
"""

from __future__ import annotations

from grader.isolation import warm_up, worker

worker.preload()
warm_up.run()
