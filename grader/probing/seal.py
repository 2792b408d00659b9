"""A fingerprint of the grader's own code, taken before any student code runs, and checked when it measures.

The student's code runs in the same interpreter as the drivers and the instruments, so
it can rebind what they use: ``grader.checks.ex2_swish.drivers.aten_ops = ...``, a
method of the op recorder, an entry of the driver registry, the function that prints
tensors. Each module of the instruments, and each module that defines drivers, calls
:func:`protect` at its end (at import, before a submission is loaded: the worker's
fork server and pytest's collection import them all first). :func:`verify` then finds
any name of those modules, any attribute of their classes, and any code, default or
closure of their functions that is no longer the very object it was. Objects are
compared by ``id`` (a replacement cannot claim to be equal).

This raises the bar; it does not make the process safe: code that rewrites the
fingerprints as well, or the worker's request loop, is beyond what an instrument in
the student's own process can see (README, "Threat model").
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from types import FunctionType
from typing import Any

from grader.probing.tampering import tampered

#: The measuring functions of grader.probes: a driver whose code calls one verifies the seal (grader.runner.driver).
INSTRUMENTS = frozenset({"aten_ops", "saved_tensors"})

#: Names a module may gain or change after import without anyone tampering with it.
VOLATILE = frozenset({"__warningregistry__", "__builtins__", "__annotations__", "__doc__"})

# One entry per protected name, side by side: what it belongs to, how to read it, the name, the id it had.
_whats: list[str] = []
_reads: list[Callable[[Any], Any]] = []
_names: list[Any] = []
_ids: list[int] = []


def protect(module_name: str) -> None:
    """Fingerprint the module ``module_name`` as it is now (call it at the end of the module).

    Its names; its classes' attributes; its functions' code, defaults and closures
    (for the functions it defines, and those its classes define).
    """
    module = sys.modules[module_name]
    names = [n for n in vars(module) if n not in VOLATILE]
    _add(module_name, vars(module).get, names)
    functions = [f for n in names if (f := _function_of(vars(module)[n], module_name))]
    for name in names:
        value = vars(module)[name]
        if isinstance(value, type) and value.__module__ == module_name:
            attributes = [a for a in vars(value) if a not in ("__dict__", "__weakref__", "__doc__")]
            _add(f"{module_name}.{name}", vars(value).get, attributes)
            functions += [f for a in attributes if (f := _function_of(vars(value)[a], module_name))]
    for attribute in ("__code__", "__defaults__", "__kwdefaults__", "__closure__"):
        _add(f"{module_name} functions' {attribute}", _read(attribute), functions)
    cells = [cell for f in functions for cell in f.__closure__ or () if _filled(cell)]
    _add(f"{module_name} closures", _read("cell_contents"), cells)


def protect_entry(mapping: Mapping[str, Any], key: str, what: str) -> None:
    """Remember ``mapping[key]`` as it is now (a registry entry, such as a driver)."""
    _add(what, mapping.get, [key])


def verify() -> None:
    """Raise :class:`~grader.probing.tampering.Tampered` if anything protected is no longer what it was."""
    now = list(map(id, map(_call, _reads, _names)))
    if now == _ids:
        return
    changed = [f"{_whats[i]}: {_label(_names[i])}" for i, (was, it) in enumerate(zip(_ids, now)) if was != it]
    raise tampered(
        "採点器自身のコード", "the grader's own code", "書き換えられたもの / rewritten: " + ", ".join(changed[:12])
    )


def _add(what: str, read: Callable[[Any], Any], names: Iterable[Any]) -> None:
    for name in names:
        _whats.append(what)
        _reads.append(read)
        _names.append(name)
        _ids.append(id(read(name)))


try:
    from operator import (
        call as _call,  # Python 3.11+: read(name) without a Python frame
    )
except ImportError:  # Python 3.10

    def _call(read: Callable[[Any], Any], name: Any) -> Any:
        return read(name)


def _read(attribute: str) -> Callable[[Any], Any]:
    return attrgetter(attribute)


def _label(name: Any) -> str:
    return name if isinstance(name, str) else getattr(name, "__qualname__", type(name).__name__)


def _function_of(value: Any, module_name: str) -> FunctionType | None:
    """The plain function behind ``value`` (itself, or a staticmethod's or classmethod's) if ``module_name`` defines it."""
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    return value if isinstance(value, FunctionType) and value.__module__ == module_name else None


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


protect(__name__)
