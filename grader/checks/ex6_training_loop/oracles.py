"""Exercise 6's reference side (grading process only): oracle calls, plain data in and out.

Each ``@oracle`` builds the very same net, optimizer, scheduler and loaders as the drivers
(``builders.py``) from the same plain data, runs the reference's code on them, and returns
plain data: the weights after, and what the reference returned.
"""

from __future__ import annotations

from typing import Any

import torch

from grader import strategies as S
from grader.checks.ex6_training_loop.builders import ScriptedStopper, build_net, loss_fn, make_loader, setup, state_of, val_loader, zoo
from grader.oracle import oracle, reference

ref = reference("training_loop")


@oracle
def reference_groups(spec: S.ZooSpec, weight_decay: float) -> dict[str, list[str]]:
    """The names in the reference's two groups for ``zoo(spec)``."""
    model = zoo(spec)
    names = {id(p): name for name, p in model.named_parameters()}
    decay, no_decay = ref.param_groups(model, weight_decay)
    return {"decay": [names[id(p)] for p in decay["params"]], "no_decay": [names[id(p)] for p in no_decay["params"]]}


@oracle
def reference_epoch(spec: S.NetSpec, batches: S.Batches, config: S.TrainConfig, device: str, dtype: torch.dtype) -> dict[str, Any]:
    """The reference's train_epoch on the net, loader and optimizer the drivers build: the weights after, and its result."""
    net, optimizer, scheduler = setup(spec, config, device, dtype)
    result = ref.train_epoch(
        net,
        make_loader(spec, batches, dtype),
        optimizer,
        loss_fn,
        scheduler=scheduler,
        max_grad_norm=config.max_grad_norm,
        accumulation_steps=config.accumulation_steps,
    )
    return {"state": state_of(net), "result": result}


@oracle
def reference_evaluate(spec: S.NetSpec, batches: S.Batches, device: str, dtype: torch.dtype) -> dict[str, float]:
    """The reference's evaluate of the net the drivers build."""
    return ref.evaluate(build_net(spec, device, dtype), make_loader(spec, batches, dtype), loss_fn)


@oracle
def reference_early_stopping(config: S.EarlyStoppingConfig, values: list[float]) -> dict[str, Any]:
    """The reference's (best, counter) before any step, and (step(value), best, counter) after each value."""
    stopper = ref.EarlyStopping(**config.kwargs())
    initial = (stopper.best, stopper.counter)
    return {"initial": initial, "steps": [(stopper.step(v), stopper.best, stopper.counter) for v in values]}


@oracle
def reference_fit(spec: S.NetSpec, plan: S.FitPlan, config: S.TrainConfig, device: str, dtype: torch.dtype) -> dict[str, Any]:
    """The reference's fit history on the same net, loaders, optimizer, scheduler and stand-in early stopping."""
    net, optimizer, scheduler = setup(spec, config, device, dtype)
    result = ref.fit(
        net,
        make_loader(spec, plan.train, dtype),
        val_loader(spec, plan, dtype),
        optimizer,
        loss_fn,
        plan.epochs,
        scheduler=scheduler,
        max_grad_norm=config.max_grad_norm,
        accumulation_steps=config.accumulation_steps,
        early_stopping=ScriptedStopper(plan.stop_at),
    )
    return {key: result[key] for key in ("train_loss", "val_loss", "val_accuracy", "lr")}
