"""Results for people (a score table, failures with hints) and for tools (Gradescope JSON)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.errors import NOT_YOUR_CODE
from grader.results import ERROR, PASSED, CheckResult, ExerciseResult, Results


def _points(x: float) -> str:
    return f"{x:g}"


def score_table(results: Results) -> Table:
    """One row per exercise: score / max."""
    table = Table(title="採点結果 / Scores", show_footer=True)
    table.add_column("課題 / exercise", footer="合計 / total")
    table.add_column("", footer="")
    total = f"{_points(results.score)} / {_points(results.max_score)}" if results.complete else "— (未完了 / incomplete)"
    table.add_column("得点 / score", justify="right", footer=total)
    for ex in results.exercises:
        if not ex.graded:
            score = Text(f"— / {_points(ex.max_score)} 採点器のエラー / grader error", style="bold magenta")
        else:
            style = "green" if ex.score == ex.max_score else ("red" if ex.score == 0 else "yellow")
            score = Text(f"{_points(ex.score)} / {_points(ex.max_score)}", style=style)
        table.add_row(ex.exercise.id, f"{ex.exercise.title_ja} / {ex.exercise.title_en}", score)
    return table


def check_lines(check: CheckResult, *, details: bool) -> list[Text]:
    """A check's line (✓/✗, points, title) and, when it failed, what failed and a hint."""
    if check.status == ERROR:
        return [Text(f"  ! {'—':>5} / {_points(check.max_score):<3} {check.info.title}", style="magenta")]
    mark, style = ("✓", "green") if check.status == PASSED else ("✗", "red")
    head = Text(f"  {mark} {_points(check.score):>5} / {_points(check.max_score):<3} {check.info.title}", style=style)
    lines = [head]
    if details and check.failures:
        shown = check.failures[0]
        others = [c.case for c in check.failures[1:] if c.case]
        where = f"[{shown.case}] " if shown.case else ""
        body = where + shown.message
        if others:
            body += f"\n(同じ失敗: / also failed in: {', '.join(others)})"
        body += "\n" + (shown.hint or check.info.hint)
        lines.append(Text(_indent(body, 6)))
    return lines


def render(results: Results, console: Console, *, details: bool = True) -> None:
    """Print every check with its points, failures with their smallest example and a hint, then the table."""
    for ex in results.exercises:
        console.print(Text(f"\n{ex.exercise.id}: {ex.exercise.title_ja} / {ex.exercise.title_en}", style="bold"))
        for line in violation_lines(ex.violations):
            console.print(Text(line, style="bold red"))
        for line in grader_error_lines(ex):
            console.print(Text(line, style="bold magenta"))
        for check in ex.checks:
            for line in check_lines(check, details=details):
                console.print(line)
    console.print()
    console.print(score_table(results))


def violation_lines(violations: list[str]) -> list[str]:
    """Why an exercise scored 0 regardless of its checks (see grader/isolation/guard.py)."""
    if not violations:
        return []
    head = "  この課題は 0 点です。採点中に禁止された操作がありました / this exercise scores 0: the submission attempted"
    return [head + " forbidden actions while it was graded:", *(f"    - {v}" for v in violations)]


def grader_error_lines(ex: ExerciseResult) -> list[str]:
    """Why an exercise has no score: the kit or the machine failed (see grader/errors.py)."""
    if ex.graded:
        return []
    return [f"  {NOT_YOUR_CODE}:", *(_indent(message, 4) for message in ex.grader_errors)]


def gradescope(results: Results, *, timings: bool = False) -> dict[str, Any]:
    """The Gradescope ``results.json`` layout, plus ``exercises: {id: {score, max_score}}``.

    ``timings`` adds each case's seconds (``extra_data.seconds``), which differ from run to
    run: without it, the same grade gives the same file.

    An exercise the kit could not grade has ``score: null`` (its checks too, with status
    ``error``) and its ``grader_errors``; the total is then ``null`` and ``complete`` false.
    """
    tests = []
    for ex in results.exercises:
        for check in ex.checks:
            output = "\n".join(violation_lines(ex.violations) or grader_error_lines(ex))
            if check.failures and ex.graded:
                output += "\n\n" if output else ""
                output += "\n\n".join(f"[{c.case}] {c.message}" if c.case else c.message for c in check.failures)
                output += "\n\n" + "\n\n".join(dict.fromkeys(c.hint or check.info.hint for c in check.failures))
            if ex.violations:
                score, status = 0.0, "failed"
            elif not ex.graded:
                score, status = None, ERROR
            else:
                score, status = check.score, check.status
            tests.append(
                {
                    "name": f"{ex.exercise.id}: {check.info.title}",
                    "score": score,
                    "max_score": check.max_score,
                    "status": status,
                    "output": output,
                    "tags": [ex.exercise.id, ex.exercise.short, check.name],
                    "visibility": "visible",
                    # which device/dtype cases ran, so a grade says where it was earned
                    "extra_data": {
                        "cases": {c.case or "-": c.outcome for c in check.cases},
                        **({"seconds": {c.case or "-": round(c.seconds, 4) for c in check.cases}} if timings else {}),
                    },
                }
            )
    return {
        "score": results.score if results.complete else None,
        "max_score": results.max_score,
        "complete": results.complete,
        "tests": tests,
        "exercises": {
            ex.exercise.id: {
                "score": ex.score if ex.graded else None,
                "max_score": ex.max_score,
                "violations": ex.violations,
                "grader_errors": [] if ex.graded else ex.grader_errors,
            }
            for ex in results.exercises
        },
    }


def write_json(results: Results, path: Path, *, timings: bool = False) -> None:
    """Write ``results.json`` atomically: a reader never sees half a file."""
    write_text_atomic(Path(path), json.dumps(gradescope(results, timings=timings), ensure_ascii=False, indent=2) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line for line in text.splitlines())
