"""What the fork server runs once, so that no worker pays for torch's first-use imports.

Workers are forked from the fork server (:mod:`grader.worker_preload`): whatever it
imported or loaded lazily (optimizers, autograd's gradcheck, dispatch modes, functorch)
is already there in every worker, instead of costing each worker, inside a call's time
limit, seconds of imports. Each step is named, so that ``python -m tests.gpu.fork_probe``
can run them one at a time and tell which one, if any, leaves CUDA unusable in a forked
child. None may ask CUDA anything: see README ("CUDA and fork").
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from grader.probes import aten_ops, saved_tensors


def _model() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.LayerNorm(2), torch.nn.Dropout(0.1))


def autograd_and_saved_tensors() -> None:
    model = _model()
    saved_tensors(lambda: model(torch.randn(3, 2)).sum().backward())


def optimizer_and_scheduler() -> None:
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    model(torch.randn(3, 2)).sum().backward()
    optimizer.step()
    scheduler.step()


def op_recorder() -> None:
    aten_ops(lambda: torch.randn(2, requires_grad=True).sigmoid().sum())


def gradcheck() -> None:
    x = torch.randn(2, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(torch.sigmoid, (x,))


def functional_call() -> None:
    model = _model()
    torch.func.functional_call(model, dict(model.named_parameters()), (torch.randn(1, 2),))


STEPS: list[tuple[str, Callable[[], None]]] = [
    ("autograd and saved tensors", autograd_and_saved_tensors),
    ("optimizer and scheduler", optimizer_and_scheduler),
    ("op recorder", op_recorder),
    ("gradcheck", gradcheck),
    ("functional_call", functional_call),
]


def run() -> None:
    for _, step in STEPS:
        step()
