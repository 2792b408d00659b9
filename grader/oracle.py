"""The reference implementations, as the checks reach them: imported on first use.

Check modules are also imported by isolated workers (for their drivers), and a worker
must never hold ``reference``: the student's code runs there. So a check module says
``ref = reference("swish")`` instead of ``from reference import swish``; the import
happens in the grading process, the first time a check computes an expected value.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class Reference:
    """A stand-in for ``reference.<name>`` that imports it when an attribute is first read."""

    def __init__(self, name: str) -> None:
        self._name = f"reference.{name}"
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):  # pytest's collection probes names like _mock_name: no import for those
            raise AttributeError(attribute)
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        return f"<reference {self._name}, imported on first use>"


def reference(name: str) -> Any:
    """``reference.<name>``, imported on first use (see the module docstring)."""
    return Reference(name)
