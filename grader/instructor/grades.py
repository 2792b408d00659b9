"""grades.csv: one row per student, written whole (atomically), with no cell a spreadsheet would run.

A student id (or any text cell) starting with ``=``, ``+``, ``-`` or ``@`` would be read by
Excel, LibreOffice or Google Sheets as a formula (CSV injection): such a cell gets a leading
``'``, which a spreadsheet shows as text. Scores are numbers and stay as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from grader import registry

#: The flag of an exercise the kit could not grade (it has no score).
GRADER_ERROR = "grader_error"

#: A cell a spreadsheet would read as a formula (or a command) starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def write(path: Path, student_ids: Sequence[str], exercises: Sequence[str], results_of: Callable[[str], dict[str, Any] | None]) -> None:
    """grades.csv at ``path``: a row for each student whose results ``results_of`` has (the others are left out)."""
    from grader.report import write_text_atomic

    found = [registry.find(e) for e in exercises]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["student_id", *(e.id for e in found), "total", "max", "flags"])
    for student in student_ids:
        results = results_of(student)
        if results is None:
            continue
        scores = results.get("exercises", {})
        row = [_points(scores.get(e.id, {}).get("score", 0.0)) for e in found]
        flags_ = results.get("extra_data", {}).get("flags", [])
        cells = [student, *row, _points(results["score"]), _points(results["max_score"]), ";".join(flags_)]
        writer.writerow([csv_cell(cell) for cell in cells])
    write_text_atomic(path, text.getvalue())


def grader_errors(grades_csv: Path) -> list[str]:
    """The students in grades.csv with an exercise the kit could not grade (flag ``exN:grader_error``)."""
    with Path(grades_csv).open(encoding="utf-8", newline="") as f:
        return [row["student_id"] for row in csv.DictReader(f) if f":{GRADER_ERROR}" in row.get("flags", "")]


def csv_cell(text: str) -> str:
    """``text`` as a spreadsheet shows it, never runs it: a leading ``'`` before ``=``, ``+``, ``-``, ``@``.

    A number (a score) is left as it is.
    """
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text.lower().lstrip("+-") not in {"inf", "nan", "infinity"}


def _points(x: float | None) -> str:
    return "" if x is None else f"{x:g}"
