"""``python -m tests.traced_cli CALLS.json check ...``: ``python -m grader check ...``, with its oracle calls counted.

The run is the CLI's own (its table, JSON and plots, its exit status); on top of it, every
oracle call is counted by the check it belongs to (``grader.oracle.listening``), and each
check's ``needs_reference`` declaration, as the engine read it, is noted. Both are written
to CALLS.json as ``{"calls": {check: count}, "declared": {check: bool}}``, checks named
``<exercise_id>::<check>`` (a call outside any check counts under ``"None"``; the plots
import the reference themselves and make no oracle call). ``tests/test_check_specs.py``
reads the file; the CLI's tests read the same run's JSON and plots.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from grader import cli, oracle, session


def main(calls_path: Path, argv: list[str]) -> int:
    calls: dict[str, int] = {}
    declared: dict[str, bool] = {}
    grade = session.grade  # what the CLI's check command calls

    def count(call: oracle.Call) -> None:
        calls[str(call.check)] = calls.get(str(call.check), 0) + 1

    def grade_and_note_declarations(*args: Any, **kwargs: Any) -> Any:
        results = grade(*args, **kwargs)
        declared.update(
            {f"{e.exercise.id}::{c.name}": c.info.needs_reference for e in results.exercises for c in e.checks}
        )
        return results

    session.grade = grade_and_note_declarations
    try:
        with oracle.listening(count):
            status = cli.main(argv)
    finally:
        session.grade = grade
    calls_path.write_text(json.dumps({"calls": calls, "declared": declared}), encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
