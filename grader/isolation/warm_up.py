"""What the fork server runs once, so that no worker pays for torch's first-use imports.

Workers are forked from the fork server (:mod:`grader.isolation.preload`): whatever it
imported or loaded lazily (optimizers, autograd's gradcheck, dispatch modes, functorch)
is already there in every worker, instead of costing each worker, inside a call's time
limit, seconds of imports. Each step is named, so that ``python -m tests.gpu.fork_probe``
can run them one at a time and tell which one, if any, leaves CUDA unusable in a forked
child. None may ask CUDA anything, and none runs a backward pass: autograd's engine
starts one thread per device on its first backward, asking the CUDA driver how many
GPUs there are (found on an H200 with the probe: after one CPU backward in the fork
server, no worker could initialise CUDA). See README ("CUDA and fork").
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from grader.probes import aten_ops, saved_tensors


def _model() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.LayerNorm(2), torch.nn.Dropout(0.1))


def forward_and_saved_tensors() -> None:
    """A forward pass that builds a graph, under the saved-tensor hooks; no backward (see the module docstring)."""
    model = _model()
    saved_tensors(lambda: model(torch.randn(3, 2, requires_grad=True)).sum())


def optimizer_and_scheduler() -> None:
    """Build them only: ``Optimizer.step`` may ask which accelerator is present (a graph-capture check)."""
    optimizer = torch.optim.SGD(_model().parameters(), lr=0.1)
    torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)


def op_recorder() -> None:
    aten_ops(lambda: torch.randn(2, requires_grad=True).sigmoid().sum())


def gradcheck_imports() -> None:
    """gradcheck's modules; running it would run backward."""
    import torch.autograd.gradcheck  # noqa: F401
    import torch.testing  # noqa: F401


def functional_call() -> None:
    model = _model()
    torch.func.functional_call(model, dict(model.named_parameters()), (torch.randn(1, 2),))


STEPS: list[tuple[str, Callable[[], None]]] = [
    ("forward and saved tensors", forward_and_saved_tensors),
    ("optimizer and scheduler", optimizer_and_scheduler),
    ("op recorder", op_recorder),
    ("gradcheck imports", gradcheck_imports),
    ("functional_call", functional_call),
]


def run() -> None:
    for _, step in STEPS:
        step()
