"""Exercise 6's drivers: where the student's training loop runs.

Each driver (``@driver``) builds a small seeded net, an optimizer and a loader
(``builders.py``), hands them to the student's code, and returns plain data: the weights
afterwards, what the code returned, and what the instruments saw. Drivers run where the
student's code runs (this process, or an isolated worker) and never touch ``reference``;
the checks (the section modules that ``checks.py`` lists) compare what they return.
"""

from __future__ import annotations

import copy
import gc
from typing import Any

import torch
from torch import nn

from grader import strategies as S
from grader.checks.ex6_training_loop.builders import (
    ScriptedStopper,
    build_net,
    fit_setup,
    holds_graph,
    loss_fn,
    make_loader,
    named,
    number,
    options,
    probe_net,
    setup,
    state_of,
    watch,
    zoo,
)
from grader.feedback import CheckFailure, fail, plain
from grader.runner import driver


def calling(student: Any, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` (a method of the student's class); what it raises is reported as the student's."""
    try:
        return fn(*args, **kwargs)
    except CheckFailure:
        raise
    except Exception as err:  # noqa: BLE001 - classes are not wrapped by the runner
        raise student.error(what, err, {"args": args, **kwargs}) from err


def result_data(result: Any) -> Any:
    """What train_epoch / evaluate / fit returned, as data (tensors detached: the checks say what is wrong)."""
    return plain(result)


# -- drivers: param_groups ----------------------------------------------------------------------


@driver
def groups_of(student: Any, spec: S.ZooSpec, weight_decay: float) -> dict[str, Any]:
    """``param_groups(zoo(spec), weight_decay)`` as names, and whether AdamW accepts the groups.

    Returns ``trainable`` (the names of the trainable parameters, in order), ``groups`` (a
    list of ``{"params": names, "keys": the group's keys, "weight_decay": ...}``, or a
    description of what came back when it is not a list of dicts), and ``adamw_error``.
    """
    model = zoo(spec)
    names = named(model)
    groups = student.param_groups(model, weight_decay)
    facts: dict[str, Any] = {
        "trainable": [name for name, p in model.named_parameters() if p.requires_grad],
        "groups": None,
        "adamw_error": None,
    }
    if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) for g in groups):
        facts["groups"] = plain(groups)
        return facts
    facts["groups"] = [
        {
            "keys": sorted(str(k) for k in group),
            "params": [names.get(id(p), f"<not a parameter of the model: {type(p).__name__}>") for p in group.get("params", [])],
            "weight_decay": number(group.get("weight_decay")),
        }
        for group in groups
    ]
    try:
        optimizer = torch.optim.AdamW(groups, lr=0.1)
        for p in model.parameters():
            p.grad = torch.zeros_like(p)
        optimizer.step()
    except Exception as err:  # noqa: BLE001 - what AdamW says about the groups
        facts["adamw_error"] = f"{type(err).__name__}: {err}"
    return facts


# -- drivers: train_epoch -----------------------------------------------------------------------


@driver
def trained(
    student: Any,
    spec: S.NetSpec,
    batches: S.Batches,
    config: S.TrainConfig,
    device: str,
    dtype: torch.dtype,
    start_in_eval: bool = False,
) -> dict[str, Any]:
    """One ``train_epoch`` of ``spec``'s net: its weights afterwards, what it returned, and the mode of each forward."""
    net, optimizer, scheduler = setup(spec, config, device, dtype)
    if start_in_eval:
        net.eval()
    seen = watch(net)
    result = student.train_epoch(net, make_loader(spec, batches, dtype), optimizer, loss_fn, **options(config, scheduler))
    return {"state": state_of(net), "result": result_data(result), "modes": [all(m) for m in seen.modes]}


@driver
def windows_and_big_batches(
    student: Any, spec: S.NetSpec, batches: S.Batches, config: S.TrainConfig, device: str, dtype: torch.dtype
) -> dict[str, Any]:
    """The weights after an epoch of equal micro-batches in windows of ``accumulation_steps``, and
    after an epoch of one batch per window (each window's micro-batches concatenated), no accumulation."""
    micro = S.make_batches(spec, batches, dtype)
    k = config.accumulation_steps
    big = [
        (torch.cat([x for x, _ in micro[i : i + k]]), torch.cat([y for _, y in micro[i : i + k]]))
        for i in range(0, len(micro), k)
    ]
    states = {}
    for name, loader, steps in (("windows", micro, k), ("big batches", big, 1)):
        net, optimizer, scheduler = setup(spec, config, device, dtype)
        student.train_epoch(net, loader, optimizer, loss_fn, **{**options(config, scheduler), "accumulation_steps": steps})
        states[name] = state_of(net)
    return states


@driver
def with_stale_gradients(
    student: Any, spec: S.NetSpec, batches: S.Batches, config: S.TrainConfig, device: str, dtype: torch.dtype, seed: int
) -> dict[str, Any]:
    """One epoch from clean gradients, and one from random gradients left on every parameter.

    Returns both final weights, and the parameters whose gradient is neither None nor zero
    when each train_epoch returned.
    """
    out: dict[str, Any] = {}
    for name in ("clean", "stale"):
        net, optimizer, scheduler = setup(spec, config, device, dtype)
        if name == "stale":
            generator = torch.Generator().manual_seed(seed)
            for p in net.parameters():
                p.grad = (torch.rand(p.shape, generator=generator, dtype=torch.float64) * 20 - 10).to(p)
        student.train_epoch(net, make_loader(spec, batches, dtype), optimizer, loss_fn, **options(config, scheduler))
        out[name] = state_of(net)
        out[f"{name} grads left"] = [
            n for n, p in net.named_parameters() if p.grad is not None and bool(p.grad.detach().ne(0).any())
        ]
    return out


@driver
def scheduler_calls(
    student: Any, spec: S.NetSpec, batches: S.Batches, config: S.TrainConfig, device: str, dtype: torch.dtype
) -> list[int]:
    """For each ``scheduler.step()`` in one train_epoch: how many optimizer steps had been taken by then."""
    net, optimizer, scheduler = setup(spec, config, device, dtype, record=True)
    student.train_epoch(net, make_loader(spec, batches, dtype), optimizer, loss_fn, **options(config, scheduler))
    return scheduler.seen


@driver
def graph_lifetimes(
    student: Any, spec: S.NetSpec, batches: S.Batches, config: S.TrainConfig, device: str, dtype: torch.dtype
) -> dict[str, Any]:
    """How long each micro-batch's graph lived in one train_epoch.

    ``older_graphs``: at each forward, how many graphs of forwards before the previous one
    were still alive; ``after_return``: graphs alive once train_epoch had returned (its
    result still held, other garbage collected); ``result_holds_graph``: whether the result does.
    """
    net, optimizer, scheduler = setup(spec, config, device, dtype)
    seen = watch(net, tokens=True)
    result = student.train_epoch(net, make_loader(spec, batches, dtype), optimizer, loss_fn, **options(config, scheduler))
    if seen.alive():
        gc.collect()  # only graphs kept by reference cycles go; what the loop or its result holds stays
    return {"older_graphs": seen.older_graphs, "after_return": seen.alive(), "result_holds_graph": holds_graph(result)}


# -- drivers: evaluate ---------------------------------------------------------------------------


@driver
def evaluated(student: Any, spec: S.NetSpec, batches: S.Batches, device: str, dtype: torch.dtype) -> Any:
    """What ``evaluate`` returns for ``spec``'s net on ``batches``."""
    net = build_net(spec, device, dtype)
    return result_data(student.evaluate(net, make_loader(spec, batches, dtype), loss_fn))


@driver
def evaluate_effects(
    student: Any, spec: S.NetSpec, batches: S.Batches, device: str, dtype: torch.dtype, start_training: bool
) -> dict[str, Any]:
    """``evaluate`` on a net with BatchNorm and dropout, started in train mode or in eval mode.

    Returns each forward's modes (every module's ``.training``) and whether grad was
    enabled, every module's mode afterwards, and the parameters and buffers it changed.
    """
    net = probe_net(spec, device, dtype).train(start_training)
    before = state_of(net)
    seen = watch(net)
    student.evaluate(net, make_loader(spec, batches, dtype), loss_fn)
    after = net.state_dict()
    return {
        "forward_modes": seen.modes,
        "grad_enabled": seen.grad_enabled,
        "modes_after": [m.training for m in net.modules()],
        "changed": [name for name, value in before.items() if not torch.equal(value, after[name])],
    }


# -- drivers: snapshot and restore -------------------------------------------------------------------


def train_in_place(net: nn.Module, spec: S.NetSpec, device: str, dtype: torch.dtype) -> None:
    """Change every parameter and buffer in place, as training does (an SGD step; BatchNorm's statistics)."""
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    net.train()
    inputs = S.make_batches(spec, S.Batches((4,), spec.seed), dtype)[0][0].to(device)
    net(inputs).square().mean().backward()
    optimizer.step()


@driver
def snapshot_then_train(student: Any, spec: S.NetSpec, device: str, dtype: torch.dtype) -> dict[str, Any]:
    """``snapshot(net)`` of a net with BatchNorm, then training in place.

    Returns the state at the snapshot, the snapshot's entries afterwards (tensors as data,
    anything else described), and for each entry its dtype, device and requires_grad.
    """
    net = probe_net(spec, device, dtype)
    at_snapshot = state_of(net)
    snap = student.snapshot(net)
    train_in_place(net, spec, device, dtype)
    facts: dict[str, Any] = {"at_snapshot": at_snapshot, "snapshot": None, "entries": {}}
    if not isinstance(snap, dict):
        facts["snapshot"] = plain(snap)
        return facts
    facts["snapshot"] = {str(k): (v.detach().clone() if isinstance(v, torch.Tensor) else plain(v)) for k, v in snap.items()}
    facts["entries"] = {
        str(k): {"dtype": v.dtype, "device": str(v.device), "requires_grad": v.requires_grad}
        for k, v in snap.items()
        if isinstance(v, torch.Tensor)
    }
    return facts


@driver
def restore_effects(student: Any, spec: S.NetSpec, device: str, dtype: torch.dtype) -> dict[str, Any]:
    """``restore`` a copy of the weights after training in place, then an optimizer built before steps once.

    Returns the weights saved, the weights right after restore, whether the parameter
    objects are still the ones the optimizer holds, the weights after that optimizer's
    step (lr 0.5, every gradient 1), the copy's values after that step, and whether
    restoring a copy with one key missing, or one key too many, raised (and what).
    """
    net = probe_net(spec, device, dtype)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    params_before = list(net.parameters())
    saved = copy.deepcopy(net.state_dict())
    kept = state_of(net)
    train_in_place(net, spec, device, dtype)
    student.restore(net, saved)
    facts: dict[str, Any] = {"saved": kept, "restored": state_of(net)}
    facts["same_parameters"] = all(p is q for p, q in zip(net.parameters(), params_before)) and len(
        list(net.parameters())
    ) == len(params_before)
    for p in net.parameters():
        p.grad = torch.ones_like(p)
    optimizer.step()
    facts["after_step"] = {name: p.detach().clone() for name, p in net.named_parameters()}
    facts["copy_after_step"] = {k: v.detach().clone() for k, v in saved.items()}
    missing = dict(saved)
    missing.pop(next(iter(missing)))
    extra = {**saved, "not_a_key.weight": torch.zeros(1, device=device, dtype=dtype)}
    for case, bad in (("a key missing", missing), ("an unexpected key", extra)):
        try:
            student.restore(net, bad)
            facts[case] = None
        except Exception as err:  # noqa: BLE001 - the check says whether it is the right kind
            original = getattr(err, "original", err)
            facts[case] = type(original).__name__
    return facts


# -- drivers: EarlyStopping -------------------------------------------------------------------------


def stopper_state(stopper: Any) -> tuple[Any, Any]:
    """``(best, counter)`` of the student's EarlyStopping, as data."""
    return number(getattr(stopper, "best", "<no attribute best>")), number(getattr(stopper, "counter", "<no attribute counter>"))


def walk(student: Any, stopper: Any, values: list[float]) -> list[tuple[Any, Any, Any]]:
    """``(step(value), best, counter)`` after each value."""
    return [(plain(calling(student, f"EarlyStopping.step({value})", stopper.step, value)), *stopper_state(stopper)) for value in values]


def new_stopper(student: Any, config: S.EarlyStoppingConfig) -> Any:
    return calling(student, "EarlyStopping(...)", student.EarlyStopping, **config.kwargs())


@driver
def early_stopping_walk(student: Any, config: S.EarlyStoppingConfig, values: list[float]) -> dict[str, Any]:
    """The student's EarlyStopping(**config): ``best`` and ``counter`` before any step, then after each value."""
    stopper = new_stopper(student, config)
    return {"initial": stopper_state(stopper), "steps": walk(student, stopper, values)}


@driver
def early_stopping_resumed(student: Any, config: S.EarlyStoppingConfig, before: list[float], after: list[float]) -> dict[str, Any]:
    """Step through ``before``, save ``state_dict()``, then step on through ``after`` ("kept") and, in a new
    instance that loaded the saved state, through ``after`` again ("resumed").

    Also returns the saved dict as it was when saved, and the same dict object after the later steps.
    """
    stopper = new_stopper(student, config)
    walk(student, stopper, before)
    saved = calling(student, "EarlyStopping.state_dict()", stopper.state_dict)
    copied = copy.deepcopy(saved)  # as it was when saved: what a checkpoint file would hold
    at_saving = plain(copy.deepcopy(saved))
    kept = walk(student, stopper, after)
    resumed = new_stopper(student, config)
    calling(student, "EarlyStopping.load_state_dict(...)", resumed.load_state_dict, copied)
    return {"kept": kept, "resumed": walk(student, resumed, after), "at_saving": at_saving, "later": plain(saved)}


# -- drivers: fit --------------------------------------------------------------------------------------


@driver
def fitted(student: Any, spec: S.NetSpec, plan: S.FitPlan, config: S.TrainConfig, device: str, dtype: torch.dtype) -> dict[str, Any]:
    """``fit`` with a :class:`ScriptedStopper`: what it returned, what the stopper was given and
    the weights it saw each epoch, and the weights at the end."""
    net, train, val, optimizer, scheduler = fit_setup(spec, plan, config, device, dtype)
    stopper = ScriptedStopper(plan.stop_at, net)
    result = student.fit(net, train, val, optimizer, loss_fn, plan.epochs, early_stopping=stopper, **options(config, scheduler))
    return {"result": result_data(result), "asked": stopper.values, "epoch_states": stopper.states, "final": state_of(net)}


@driver
def own_epochs(student: Any, spec: S.NetSpec, plan: S.FitPlan, config: S.TrainConfig, device: str, dtype: torch.dtype, epochs: int) -> dict[str, list]:
    """The student's own train_epoch then evaluate, ``epochs`` times: what fit's history should then hold."""
    net, train, val, optimizer, scheduler = fit_setup(spec, plan, config, device, dtype)
    history: dict[str, list] = {"train_loss": [], "val_loss": [], "val_accuracy": [], "lr": []}
    for _ in range(epochs):
        trained_epoch = student.train_epoch(net, train, optimizer, loss_fn, **options(config, scheduler))
        validated = student.evaluate(net, val, loss_fn)
        for key, value in (
            ("train_loss", trained_epoch.get("loss")),
            ("val_loss", validated.get("loss")),
            ("val_accuracy", validated.get("accuracy")),
            ("lr", optimizer.param_groups[0]["lr"]),
        ):
            history[key].append(number(value))
    return history


# -- drivers: bad arguments ----------------------------------------------------------------------------

TINY = S.NetSpec("mlp", 3, 4, 2, seed=0)


@driver
def bad_call(student: Any, function: str, arguments: dict[str, Any]) -> None:
    """Call one of the student's functions (or EarlyStopping) on a tiny net with ``arguments``, for what it raises.

    ``arguments["loader"] == "empty"`` passes an empty list as the loader.
    """
    net = build_net(TINY, "cpu", torch.float32)
    loader = S.make_batches(TINY, S.Batches((2, 1), seed=1), torch.float32)
    arguments = dict(arguments)
    if arguments.pop("loader", None) == "empty":
        loader = []
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    if function == "param_groups":
        student.param_groups(net, **arguments)
    elif function == "train_epoch":
        student.train_epoch(net, loader, optimizer, loss_fn, **arguments)
    elif function == "evaluate":
        student.evaluate(net, loader, loss_fn, **arguments)
    elif function == "EarlyStopping":
        student.EarlyStopping(**arguments)
    elif function == "fit":
        epochs = arguments.pop("epochs")
        student.fit(net, loader, loader, optimizer, loss_fn, epochs, **arguments)
    else:
        raise fail(f"unknown function {function!r}")
