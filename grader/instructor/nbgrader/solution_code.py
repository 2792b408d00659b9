"""The code of an nbgrader solution cell: the stub, with the model answer between SOLUTION markers.

The stub (``exercises/<id>.py``) gives the signatures, docstrings and comments the
student sees; each function and method body becomes the model answer's body
(``solutions/<id>.py``) between ``### BEGIN SOLUTION`` / ``### END SOLUTION``, which
``nbgrader generate_assignment`` replaces with a stub again. What the model answer has
beyond the stub goes in regions of its own: extra imports stay outside the markers
(they give nothing away), extra module-level helpers go in one region after the
imports, extra methods and class attributes in one region at the end of their class.
Those regions sit at module or class level, so the course's ``ClearSolutions``
(:mod:`grader.instructor.nbgrader.clear_solutions`) leaves only a comment in their place.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"

_Def = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class SolutionMismatch(ValueError):
    """The model answer lacks a function or method that the stub declares."""


@dataclass(frozen=True)
class _Edit:
    """Replace lines ``start..end`` (1-based, inclusive; ``end = start - 1`` inserts) with ``lines``."""

    start: int
    end: int
    lines: list[str]


def solution_cell(stub: str, solution: str) -> str:
    """The stub's text without its module docstring, each body replaced by the model answer's in markers."""
    stub_tree, answer_tree = ast.parse(stub), ast.parse(solution)
    stub_lines, answer_lines = stub.splitlines(), solution.splitlines()
    answer_defs = _named(answer_tree.body)
    edits: list[_Edit] = []

    doc = _docstring(stub_tree.body)
    if doc is not None:  # the module docstring is the notebook's prompt cell
        end = doc.end_lineno
        while end < len(stub_lines) and not stub_lines[end].strip():
            end += 1
        edits.append(_Edit(1, end, []))

    imports = [n for n in stub_tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    known = {ast.unparse(n) for n in imports}
    extra_imports = [n for n in answer_tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) and ast.unparse(n) not in known]
    stub_names = set(_named(stub_tree.body))
    helpers = [n for n in answer_tree.body if _is_extra(n, stub_names)]
    after = imports[-1].end_lineno if imports else (doc.end_lineno if doc else 0)
    added = [ast.unparse(n) for n in extra_imports]
    if helpers:
        added += ["", ""] if added or imports else []
        added += _region(_texts(helpers, answer_lines), indent="")
    if added:
        edits.append(_Edit(after + 1, after, added))

    for node in stub_tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            edits.append(_body_edit(node, _find(answer_defs, node, "function "), stub_lines, answer_lines))
        elif isinstance(node, ast.ClassDef):
            edits += _class_edits(node, _find(answer_defs, node, "class "), stub_lines, answer_lines)

    lines = list(stub_lines)
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        lines[edit.start - 1 : edit.end] = edit.lines
    return "\n".join(lines).strip("\n") + "\n"


def _class_edits(stub: ast.ClassDef, answer: ast.ClassDef, stub_lines: list[str], answer_lines: list[str]) -> list[_Edit]:
    edits = []
    answer_members = _named(answer.body)
    for node in stub.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found = _find(answer_members, node, f"method {stub.name}.")
            edits.append(_body_edit(node, found, stub_lines, answer_lines))
    stub_names = set(_named(stub.body))
    extras = [n for n in answer.body if _is_extra(n, stub_names)]
    if extras:
        indent = " " * stub.body[0].col_offset
        region = _region(_texts(extras, answer_lines), indent=indent)
        edits.append(_Edit(stub.end_lineno + 1, stub.end_lineno, ["", *region]))
    return edits


def _body_edit(stub: ast.AST, answer: ast.AST, stub_lines: list[str], answer_lines: list[str]) -> _Edit:
    """Replace the stub's body (after its docstring) with the answer's body between the markers."""
    start = _body_start(stub, stub_lines)
    indent = " " * _first_statement(stub).col_offset
    first = _body_start(answer, answer_lines)
    body = textwrap.dedent("\n".join(answer_lines[first - 1 : answer.end_lineno])).strip("\n")
    return _Edit(start, stub.end_lineno, _region([body], indent=indent))


def _region(texts: Sequence[str], *, indent: str) -> list[str]:
    """``texts`` (unindented, separated by a blank line) between the markers, at ``indent``."""
    body = "\n\n".join(t.strip("\n") for t in texts)
    return [indent + BEGIN, *(indent + line if line.strip() else "" for line in body.splitlines()), indent + END]


def _texts(nodes: Sequence[ast.stmt], lines: list[str]) -> list[str]:
    """Each node's source (its decorators and the comment lines just above it), dedented."""
    out = []
    for node in nodes:
        start = _leading_comments(node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno, lines)
        out.append(textwrap.dedent("\n".join(lines[start - 1 : node.end_lineno])))
    return out


def _body_start(fn: ast.AST, lines: list[str]) -> int:
    """The first line of ``fn``'s body after its docstring, comments just above the first statement included."""
    doc = _docstring(fn.body)
    if doc is not None and len(fn.body) > 1:
        return _leading_comments(fn.body[1].lineno, lines, stop=doc.end_lineno)
    if doc is not None:
        return doc.end_lineno + 1
    return _leading_comments(fn.body[0].lineno, lines, stop=fn.lineno)


def _leading_comments(lineno: int, lines: list[str], stop: int = 0) -> int:
    """``lineno``, moved up over the comment lines directly above it (not past line ``stop``)."""
    while lineno - 1 > stop and lines[lineno - 2].strip().startswith("#"):
        lineno -= 1
    return lineno


def _first_statement(fn: ast.AST) -> ast.stmt:
    doc = _docstring(fn.body)
    return fn.body[1] if doc is not None and len(fn.body) > 1 else fn.body[0]


def _docstring(body: list[ast.stmt]) -> ast.Expr | None:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first
    return None


def _named(body: list[ast.stmt]) -> dict[str, ast.stmt]:
    """Definitions and assignments by name, in order."""
    found: dict[str, ast.stmt] = {}
    for node in body:
        for name in _names(node):
            found.setdefault(name, node)
    return found


def _names(node: ast.stmt) -> list[str]:
    if isinstance(node, _Def):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _is_extra(node: ast.stmt, stub_names: set[str]) -> bool:
    """A definition or assignment of the answer that the stub does not have."""
    names = _names(node)
    return bool(names) and not set(names) & stub_names


def _find(defs: dict[str, ast.stmt], stub: ast.stmt, what: str) -> ast.stmt:
    found = defs.get(stub.name)
    if not isinstance(found, type(stub)) and not (
        isinstance(stub, (ast.FunctionDef, ast.AsyncFunctionDef)) and isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef))
    ):
        raise SolutionMismatch(f"the model answer has no {what}{stub.name} (the stub declares it)")
    return found
