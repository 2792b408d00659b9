"""The tensors an autograd graph keeps for backward, read from the graph itself: a cross-check of the saved-tensor hooks.

:func:`grader.probes.saved_tensors` lists what autograd saved through a pack hook. The
student's code can push hooks of its own (only the innermost pair is called), pop the
grader's, or build the graph in another thread; then the pack hook sees less than the
graph keeps. The graph (C++ nodes, reached from the result's ``grad_fn``) holds every
saved tensor in its nodes: a custom Function's ``saved_tensors``, a built-in node's
``_saved_*`` attributes. Each one must have gone through the pack hook.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch

from grader.probing.provenance import tensors_in
from grader.probing.seal import protect
from grader.probing.tampering import tampered

#: Nodes walked at most: a result's graph in these exercises has a handful.
MAX_NODES = 10_000

_plain = torch._C.DisableTorchFunctionSubclass
_grad_fn = torch._C.TensorBase.grad_fn.__get__


def identity(t: torch.Tensor) -> tuple[Any, ...]:
    """What tells two tensors apart for this check: their memory and how they view it."""
    with _plain():
        try:
            address = t.untyped_storage().data_ptr()
        except Exception:
            address = id(t)
        return (address, t.storage_offset(), tuple(t.shape), t.stride(), t.dtype, str(t.device))


def kept_by_graph(result: Any, before: Iterable[torch.Tensor] = ()) -> tuple[list[torch.Tensor], int]:
    """The tensors saved in ``result``'s graph outside the graphs of ``before`` (the inputs), and how many of them cannot be read.

    A saved tensor cannot be read once it was changed in place after it was saved; it is still counted.
    """
    old = set(_nodes(_roots(before)))
    kept, unreadable = [], 0
    for node in _nodes(_roots(tensors_in(result))):
        if node not in old:
            tensors, lost = _saved(node)
            kept += tensors
            unreadable += lost
    return kept, unreadable


def assert_all_hooked(result: Any, hooked: list[torch.Tensor], before: Iterable[torch.Tensor] = ()) -> None:
    """Raise Tampered if ``result``'s graph keeps a tensor that the pack hook did not see (in ``hooked``)."""
    seen = {identity(t) for t in hooked}
    kept, unreadable = kept_by_graph(result, before)
    kept = [t for t in kept if not _wrapped_number(t)]
    missed = [t for t in kept if identity(t) not in seen]
    spare = len(hooked) - len({identity(t) for t in kept})  # hooked tensors left to account for the unreadable ones
    if missed or unreadable > spare:
        shapes = ", ".join(f"{tuple(t.shape)} {t.dtype}" for t in missed[:4]) or f"{unreadable} unreadable"
        raise tampered(
            "backward 用に保存されたテンソルの記録",
            "the record of tensors saved for backward",
            "保存用フックを通らずに保存されたテンソルがグラフにあります / the graph keeps tensors that never went through "
            f"the grader's pack hook: {shapes}",
        )


def _wrapped_number(t: torch.Tensor) -> bool:
    """A Python number an operator took (``x * 2``), saved as a 0-dim CPU tensor: autograd never shows those to hooks."""
    with _plain():
        return t.dim() == 0 and t.device.type == "cpu" and not t.requires_grad


def _roots(tensors: Iterable[torch.Tensor]) -> list[Any]:
    with _plain():
        return [node for t in tensors if (node := _grad_fn(t)) is not None]


def _nodes(roots: list[Any]) -> Iterator[Any]:
    seen: set[Any] = set()
    todo = list(roots)
    while todo and len(seen) < MAX_NODES:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        yield node
        todo.extend(child for child, _ in node.next_functions)


def _saved(node: Any) -> tuple[list[torch.Tensor], int]:
    """The tensors ``node`` keeps (a custom Function's ``saved_tensors``, a built-in node's ``_saved_*``), and how many it cannot give."""
    if isinstance(node, torch.autograd.function.BackwardCFunction):
        try:
            return list(tensors_in(node.saved_tensors, 1)), 0
        except RuntimeError:  # changed in place after it was saved
            return [], len(node._raw_saved_tensors)
    names = dir(type(node))
    tensors, unreadable = [], 0
    for name in names:
        if name.startswith("_saved_") and "_raw" + name in names:
            try:
                tensors += tensors_in(getattr(node, name), 1)
            except RuntimeError:
                unreadable += 1
    return tensors, unreadable


protect(__name__)
