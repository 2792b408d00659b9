"""The grader's layout: folders by who uses them, imports pointing one way, no cycle, small modules.

- ``grader/`` (the engine and ``checks/``): what a student release ships. It imports nothing
  from the layers above, except at the named seams below.
- ``grader/isolation/``: worker processes; it may use the engine.
- ``grader/instructor/``: batch, release and nbgrader; it may use both.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: The layers, lowest first: a module may import its own layer and those below it.
LAYERS = ("grader", "grader.isolation", "grader.instructor")

#: The only imports that point up: (importer, imported).
SEAMS = {
    ("grader.plugin", "grader.isolation.runner"),  # `--isolate` chooses the isolated runner
    ("grader.__main__", "grader.instructor.cli"),  # the front door adds the instructor's commands
}

#: No module longer than this (lines).
MAX_LINES = 400


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of import nodes under ``if TYPE_CHECKING:`` (annotations, never run)."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            skipped |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    return skipped


def imports(root: Path, package: str = "grader") -> dict[str, set[str]]:
    """Each module of ``package`` under ``root`` -> the modules of ``package`` it imports (anywhere in it)."""
    files = {module_name(p, root): p for p in (root / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_only(tree)
        is_package = path.name == "__init__.py"
        found: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the importer's package
                    anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in node.names:
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base)
        graph[name] = {m for m in found if m in files and m != name}
    return graph


def layer(module: str) -> int:
    return max(i for i, prefix in enumerate(LAYERS) if module == prefix or module.startswith(prefix + "."))


def upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Every import of a higher layer that is not a named seam."""
    return sorted(
        (a, b) for a, targets in graph.items() for b in targets if layer(b) > layer(a) and (a, b) not in SEAMS
    )


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: strongly connected sets of two or more modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# -- the kit's own grader ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return imports(ROOT)


def test_imports_point_down_except_at_the_seams(graph):
    assert upward_imports(graph) == []


def test_the_seams_are_still_there(graph):
    """A seam that is gone must leave the list, so the list never hides a new upward import."""
    assert all(b in graph[a] for a, b in SEAMS)


def test_no_import_cycle(graph):
    assert cycles(graph) == []


def test_every_module_is_small():
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "grader").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_exercise_has_its_checks_package():
    from grader import registry

    for exercise in registry.EXERCISES:
        assert registry.check_file(exercise).is_file()
        assert (registry.check_file(exercise).parent / "__init__.py").is_file()


#: What the command lines import to parse their arguments, and a batch's coordinating process to
#: run a batch (its pool processes grade): none of them may load torch, hypothesis or pytest.
LIGHT = ("grader.cli", "grader.instructor.cli", "grader.instructor.batch", "grader.instructor.staging")


def test_command_lines_parse_and_a_batch_is_coordinated_without_torch():
    """``--help`` or a mistyped exercise answers at once, and a batch's coordinator never loads torch
    (grader/options.py holds what the parsers need)."""
    code = "\n".join([
        "import sys",
        *(f"import {module}" for module in LIGHT),
        "from grader import cli",
        "from grader.instructor import cli as instructor_cli",
        "cli._parser((instructor_cli,))",
        "print(' '.join(sorted({'torch', 'hypothesis', 'pytest'} & set(sys.modules))))",
    ])  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [], f"loaded by {LIGHT}: {proc.stdout}"


# -- the checker itself can fail -----------------------------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return imports(tmp_path)


def test_an_upward_import_is_found_even_inside_a_function(tmp_path):
    graph = _package(tmp_path, {
        "grader/__init__.py": "",
        "grader/report.py": "def f():\n    from grader.instructor import batch\n",
        "grader/instructor/__init__.py": "",
        "grader/instructor/batch.py": "from grader import report\n",
        "grader/isolation/__init__.py": "",
        "grader/isolation/worker.py": "from ..instructor.batch import run\n",
    })  # fmt: skip
    assert upward_imports(graph) == [
        ("grader.isolation.worker", "grader.instructor.batch"),
        ("grader.report", "grader.instructor.batch"),
    ]


def test_an_import_for_annotations_only_is_no_import(tmp_path):
    graph = _package(tmp_path, {
        "grader/__init__.py": "",
        "grader/plugin.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from grader.isolation import runner\n",
        "grader/isolation/__init__.py": "",
        "grader/isolation/runner.py": "",
    })  # fmt: skip
    assert upward_imports(graph) == []


def test_a_cycle_is_found(tmp_path):
    graph = _package(tmp_path, {
        "grader/__init__.py": "",
        "grader/a.py": "from grader import b\n",
        "grader/b.py": "import grader.c\n",
        "grader/c.py": "def f():\n    from . import a\n",
        "grader/d.py": "from grader import a\n",
    })  # fmt: skip
    assert cycles(graph) == [["grader.a", "grader.b", "grader.c"]]
