"""nbgrader preprocessors the course's config uses: a place-aware ClearSolutions, hidden tests out of feedback.

Stock nbgrader puts ``raise NotImplementedError()`` wherever a region was. Inside a
function that is the stub a student expects; at module or class level it would make
the released cell raise before it defines anything (or make a class fail to exist).
So a region directly inside a ``def`` gets the code stub, and a region at module or
class level (the model answer's helpers, :mod:`grader.instructor.nbgrader.solution_code`) only a comment:
the released cell then reads like ``exercises/<id>.py``.
"""

from __future__ import annotations

import ast
import re

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
from traitlets import List, Unicode

#: What a module- or class-level solution region becomes in the release.
HELPER_STUB = "# 補助の関数やクラスが必要ならここに書いてください / helpers, if you need any, go here"


class ClearSolutionsByPlace(ClearSolutions):
    """:class:`nbgrader.preprocessors.ClearSolutions` with a comment-only stub outside functions."""

    helper_stub = Unicode(HELPER_STUB, help="What replaces a solution region at module or class level").tag(config=True)

    def _replace_solution_region(self, cell: NotebookNode, language: str) -> bool:
        if cell.cell_type != "code" or language != "python":
            return super()._replace_solution_region(cell, language)
        lines = cell.source.split("\n")
        in_function = _regions_in_functions(cell.source, self.begin_solution_delimeter)
        new_lines: list[str] = []
        region = -1
        inside = False
        for line in lines:
            if self.begin_solution_delimeter in line:
                if inside:
                    raise RuntimeError("encountered nested begin solution statements")
                inside, region = True, region + 1
                indent = re.match(r"\s*", line).group(0)
                stub = self.code_stub[language] if in_function.get(region, True) else self.helper_stub
                new_lines += [indent + stub_line for stub_line in stub.split("\n")]
            elif self.end_solution_delimeter in line:
                inside = False
            elif not inside:
                new_lines.append(line)
        if inside:
            raise RuntimeError("no end solution statement found")
        cell.source = "\n".join(new_lines)
        return region >= 0


class ClearHiddenTestsInFeedback(ClearHiddenTests):
    """nbgrader's ClearHiddenTests for ``generate_feedback``: the feedback shows no hidden test's source.

    It only declares the HTML exporter's ``display_data_priority`` option (which the exporter
    hands to every preprocessor), so that nbgrader does not warn it is unknown.
    """

    display_data_priority = List().tag(config=True)


def _regions_in_functions(source: str, begin: str) -> dict[int, bool]:
    """For the n-th region of ``source``: whether its BEGIN line lies directly in a function body.

    Empty if the cell does not parse (every region then gets nbgrader's code stub).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    scopes = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    found: dict[int, bool] = {}
    for number, (lineno, line) in enumerate((i, l) for i, l in enumerate(source.split("\n"), 1) if begin in l):
        column = len(line) - len(line.lstrip())
        enclosing = [s for s in scopes if s.lineno <= lineno <= s.end_lineno and s.col_offset < column]
        innermost = max(enclosing, key=lambda s: s.col_offset, default=None)
        found[number] = isinstance(innermost, (ast.FunctionDef, ast.AsyncFunctionDef))
    return found
