"""Imported by the fork server only: what every worker needs, imported and warmed up once.

Workers are forked from the fork server, so whatever it imported (torch, the check
modules and their drivers) and whatever torch loads lazily on first use (optimizers,
autograd's gradcheck, dispatch modes) is already there in every worker, instead of
costing each worker, inside a call's time limit, seconds of imports.
"""

from __future__ import annotations

import torch

from grader import worker
from grader.probes import aten_ops, saved_tensors

worker.preload()


def _warm_up() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.LayerNorm(2), torch.nn.Dropout(0.1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    _, saved = saved_tensors(lambda: model(torch.randn(3, 2)).sum().backward())
    optimizer.step()
    scheduler.step()
    aten_ops(lambda: torch.randn(2, requires_grad=True).sigmoid().sum())
    x = torch.randn(2, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(torch.sigmoid, (x,))
    torch.func.functional_call(model, dict(model.named_parameters()), (torch.randn(1, 2),))


_warm_up()
