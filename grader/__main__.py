"""``python -m grader``: the front door.

``check`` is the engine's (:mod:`grader.cli`); the instructor's commands are added from
:mod:`grader.instructor.cli` when that folder is there (a student release leaves it out).
"""

import sys

from grader import cli

try:
    from grader.instructor import cli as instructor_cli
except ModuleNotFoundError as err:  # a student release: only ``check``
    if err.name not in ("grader.instructor", "grader.instructor.cli"):
        raise
    extensions = ()
else:
    extensions = (instructor_cli,)

sys.exit(cli.main(sys.argv[1:], extensions))
