"""Exercise 6's drivers, and the nets, optimizers, schedulers and loaders they build.

The drivers (``@driver``) run where the student's code runs (this process, or an isolated
worker): they build a small seeded net, hand it with a loader and an optimizer to the
student's loop, and return plain data: the weights afterwards, what the loop returned,
and what the instruments below saw. The checks in ``test_ex6_training_loop.py`` compare
that data with the reference's, computed in the grading process by oracle calls that
build the very same objects with the builders of this module. Nothing here touches
``reference``.

Instruments: :func:`watch` (a forward hook: the mode, whether a graph is built, and a
token that lives exactly as long as each micro-batch's graph), :class:`RecordingScheduler`
(how many optimizer steps had been taken at each ``scheduler.step()``),
:class:`ScriptedStopper` (an early stopper that says stop at a given epoch and keeps the
weights it was shown), :class:`EpochLoader` (validation data that may differ per epoch).
"""

from __future__ import annotations

import copy
import gc
import math
import numbers
import weakref
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from grader import strategies as S
from grader.feedback import CheckFailure, fail
from grader.runner import driver
from grader.wire import plain

# -- the nets ---------------------------------------------------------------------------------


class BagOfEmbeddings(nn.Module):
    """Token ids (B, T) -> mean of their embeddings -> class scores (B, C)."""

    def __init__(self, vocab: int, hidden: int, classes: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, hidden)
        self.out = nn.Linear(hidden, classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.out(self.embedding(ids).mean(dim=1))


def build_net(spec: S.NetSpec, device: str, dtype: torch.dtype) -> nn.Module:
    """``spec``'s classifier with reproducible random weights (LayerNorm's too), on ``device`` in ``dtype``."""
    f, h, c = spec.features, spec.hidden, spec.classes
    if spec.kind == "linear":
        net: nn.Module = nn.Sequential(nn.Linear(f, c))
    elif spec.kind == "mlp":
        net = nn.Sequential(nn.Linear(f, h), nn.Tanh(), nn.Linear(h, c))
    elif spec.kind == "layernorm_mlp":
        net = nn.Sequential(nn.Linear(f, h), nn.LayerNorm(h), nn.Tanh(), nn.Linear(h, c))
    elif spec.kind == "embedding":
        net = BagOfEmbeddings(f, h, c)
    else:
        raise ValueError(f"unknown net kind {spec.kind!r}")
    randomize(net, spec.seed)
    return net.to(device=device, dtype=dtype)


def probe_net(spec: S.NetSpec, device: str, dtype: torch.dtype) -> nn.Module:
    """A net with BatchNorm (buffers that a forward in train mode changes) and dropout (active in train mode)."""
    f, h, c = spec.features, spec.hidden, spec.classes
    net = nn.Sequential(nn.Linear(f, h), nn.BatchNorm1d(h), nn.Tanh(), nn.Dropout(0.5), nn.Linear(h, c))
    randomize(net, spec.seed)
    return net.to(device=device, dtype=dtype)


def randomize(net: nn.Module, seed: int) -> None:
    """Every parameter uniform in [-1, 1] from its own generator (not the global one)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.rand(p.shape, generator=generator, dtype=torch.float64).mul_(2).sub_(1))


def loss_fn(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The loss every check trains with: cross-entropy, the mean over the batch."""
    return F.cross_entropy(outputs, targets)


def make_loader(spec: S.NetSpec, batches: S.Batches, dtype: torch.dtype) -> Any:
    """``batches`` as a list of (inputs, targets), or as a DataLoader serving the same batches."""
    data = S.make_batches(spec, batches, dtype)
    if not batches.dataloader:
        return data
    inputs = torch.cat([x for x, _ in data])
    targets = torch.cat([y for _, y in data])
    dataset = torch.utils.data.TensorDataset(inputs, targets)
    return torch.utils.data.DataLoader(dataset, batch_size=batches.sizes[0], shuffle=False)


# -- optimizers and schedulers ------------------------------------------------------------------


def make_optimizer(name: str, params: Any) -> torch.optim.Optimizer:
    """The optimizer a config names. AdamW's eps is large on purpose: with the default 1e-8 a
    gradient entry that is zero up to rounding moves its weight by ±lr, so two correct loops that
    round differently (say, dividing the loss or the gradients) would disagree."""
    if name == "SGD":
        return torch.optim.SGD(params, lr=0.1)
    if name == "momentum SGD":
        return torch.optim.SGD(params, lr=0.1, momentum=0.9)
    if name == "AdamW":
        return torch.optim.AdamW(params, lr=0.01, eps=1e-3, weight_decay=0.1)
    raise ValueError(f"unknown optimizer {name!r}")


class Factors:
    """LambdaLR's lambda: the factor after ``t`` scheduler steps (the last one repeats)."""

    def __init__(self, factors: tuple[float, ...]) -> None:
        self.factors = factors

    def __call__(self, t: int) -> float:
        return self.factors[min(t, len(self.factors) - 1)]


class RecordingScheduler(torch.optim.lr_scheduler.LambdaLR):
    """A LambdaLR that records, at each ``step()``, how many optimizer steps had been taken."""

    def __init__(self, optimizer: torch.optim.Optimizer, factors: tuple[float, ...]) -> None:
        self.optimizer_steps = 0
        self.seen: list[int] = []
        self._recording = False
        optimizer.register_step_post_hook(self._count)
        super().__init__(optimizer, Factors(factors))
        self._recording = True  # the constructor's own initial step is not a call from the loop

    def _count(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        self.optimizer_steps += 1

    def step(self, *args: Any, **kwargs: Any) -> None:
        if self._recording:
            self.seen.append(self.optimizer_steps)
        super().step(*args, **kwargs)


def setup(spec: S.NetSpec, config: S.TrainConfig, device: str, dtype: torch.dtype, *, record: bool = False) -> tuple:
    """``(net, optimizer, scheduler)`` for a config; the scheduler is None when the config has none."""
    net = build_net(spec, device, dtype)
    optimizer = make_optimizer(config.optimizer, [p for p in net.parameters() if p.requires_grad])
    scheduler = None
    if config.lr_factors is not None:
        scheduler = (RecordingScheduler(optimizer, config.lr_factors) if record
                     else torch.optim.lr_scheduler.LambdaLR(optimizer, Factors(config.lr_factors)))  # fmt: skip
    return net, optimizer, scheduler


def options(config: S.TrainConfig, scheduler: Any) -> dict[str, Any]:
    """train_epoch's keyword arguments for ``config``."""
    return dict(scheduler=scheduler, max_grad_norm=config.max_grad_norm, accumulation_steps=config.accumulation_steps)


# -- instruments --------------------------------------------------------------------------------


class GraphToken:
    """An object kept by one micro-batch's graph: it is alive exactly as long as that graph."""


class KeepAlive(torch.autograd.Function):
    """Identity on the values; its backward node holds a :class:`GraphToken`."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, token: GraphToken) -> torch.Tensor:
        ctx.token = token
        return x.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad, None


@dataclass
class Watch:
    """What :func:`watch` saw: per forward, the modes, whether grad was on, and the graphs still alive."""

    modes: list[list[bool]] = field(default_factory=list)  # every module's .training, per forward
    grad_enabled: list[bool] = field(default_factory=list)
    tokens: list[Any] = field(default_factory=list)  # weak references, one per forward that built a graph
    older_graphs: list[int] = field(default_factory=list)  # at each forward: graphs of forwards before the previous one

    def alive(self) -> int:
        return sum(token() is not None for token in self.tokens)


def watch(net: nn.Module, *, tokens: bool = False) -> Watch:
    """Record every forward of ``net``; with ``tokens``, tie a :class:`GraphToken` to each forward's graph."""
    seen = Watch()

    def hook(module: nn.Module, inputs: Any, output: Any) -> Any:
        seen.modes.append([m.training for m in module.modules()])
        seen.grad_enabled.append(torch.is_grad_enabled())
        if not tokens:
            return None
        # graphs of forwards before the previous one must be gone (the previous one's may live until now)
        seen.older_graphs.append(sum(token() is not None for token in seen.tokens[:-1]))
        if torch.is_grad_enabled() and isinstance(output, torch.Tensor) and output.requires_grad:
            token = GraphToken()
            seen.tokens.append(weakref.ref(token))
            return KeepAlive.apply(output, token)
        return None

    net.register_forward_hook(hook)
    return seen


class EpochLoader:
    """A loader whose batches may change from one iteration (one epoch) to the next; the last repeats."""

    def __init__(self, epochs: list[list[tuple[torch.Tensor, torch.Tensor]]]) -> None:
        self.epochs = epochs
        self.iterations = 0

    def __len__(self) -> int:
        return len(self.epochs[0])

    def __iter__(self) -> Any:
        batches = self.epochs[min(self.iterations, len(self.epochs) - 1)]
        self.iterations += 1
        return iter(batches)

    def __repr__(self) -> str:
        return f"EpochLoader(batch sizes {[len(y) for _, y in self.epochs[0]]})"


def val_loader(spec: S.NetSpec, plan: S.FitPlan, dtype: torch.dtype) -> EpochLoader:
    """The plan's validation data, the same every epoch except that in a NaN epoch the first input is NaN."""
    clean = S.make_batches(spec, plan.val, dtype)
    epochs = []
    for epoch in range(plan.epochs):
        batches = list(clean)
        if epoch in plan.nan_epochs:
            x, y = batches[0]
            x = x.clone()
            x[0, 0] = math.nan
            batches[0] = (x, y)
        epochs.append(batches)
    return EpochLoader(epochs)


class ScriptedStopper:
    """Stands in for EarlyStopping in fit: says stop at epoch ``stop_at`` (never if None).

    With ``model``, it keeps a copy of the model's weights each time it is asked: the
    weights of that epoch.
    """

    def __init__(self, stop_at: int | None, model: nn.Module | None = None) -> None:
        self.stop_at = stop_at
        self.model = model
        self.values: list[Any] = []
        self.states: list[dict[str, torch.Tensor]] = []

    def step(self, value: Any) -> bool:
        self.values.append(number(value))
        if self.model is not None:
            self.states.append(state_of(self.model))
        return self.stop_at is not None and len(self.values) > self.stop_at

    def __repr__(self) -> str:
        return f"early stopping that says stop at epoch {self.stop_at}"


def calling(student: Any, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` (a method of the student's class); what it raises is reported as the student's."""
    try:
        return fn(*args, **kwargs)
    except CheckFailure:
        raise
    except Exception as err:  # noqa: BLE001 - classes are not wrapped by the runner
        raise student.error(what, err, {"args": args, **kwargs}) from err


def describe_net(spec: S.NetSpec) -> str:
    """``spec``'s net in one line, for a failure's example."""
    f, h, c = spec.features, spec.hidden, spec.classes
    layers = {
        "linear": f"Linear({f}, {c})",
        "mlp": f"Linear({f}, {h}) -> Tanh -> Linear({h}, {c})",
        "layernorm_mlp": f"Linear({f}, {h}) -> LayerNorm({h}) -> Tanh -> Linear({h}, {c})",
        "embedding": f"Embedding({f}, {h}) -> mean over 3 tokens -> Linear({h}, {c})",
    }[spec.kind]
    return f"{layers} (weights from seed {spec.seed})"


# -- data out -------------------------------------------------------------------------------------


def state_of(net: nn.Module) -> dict[str, torch.Tensor]:
    """The net's state_dict, cloned (later training must not change what a check compares)."""
    return {name: t.detach().clone() for name, t in net.state_dict().items()}


def number(value: Any) -> Any:
    """A number (or a one-element tensor) the student's code gave, as an int or a float; anything else as data."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.requires_grad:
        return float(value.item())
    return plain(value)


def holds_graph(value: Any) -> bool:
    """Whether ``value`` (what the student's function returned) holds a tensor that is part of a graph."""
    if isinstance(value, torch.Tensor):
        return value.requires_grad
    if isinstance(value, dict):
        return any(holds_graph(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(holds_graph(v) for v in value)
    return False


def result_data(result: Any) -> Any:
    """What train_epoch / evaluate / fit returned, as data (tensors detached: the checks say what is wrong)."""
    return plain(result)


# -- drivers: param_groups ------------------------------------------------------------------------


class ScaledLayerNorm(nn.LayerNorm):
    """A subclass of LayerNorm: still a normalisation layer."""


class Affine(nn.Module):
    """A module registering its own ``scale`` and ``bias`` parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(3))
        self.bias = nn.Parameter(torch.zeros(3))


class Gate(nn.Module):
    """Parameters whose registration names are not ``bias``, though one contains it."""

    def __init__(self) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.ones(3))
        self.bias_logit = nn.Parameter(torch.zeros(3))


ZOO_BUILDERS = {
    "Linear": lambda: nn.Linear(3, 3),
    "Linear(bias=False)": lambda: nn.Linear(3, 3, bias=False),
    "LayerNorm": lambda: nn.LayerNorm(3),
    "BatchNorm1d": lambda: nn.BatchNorm1d(3),
    "BatchNorm2d": lambda: nn.BatchNorm2d(3),
    "GroupNorm": lambda: nn.GroupNorm(1, 3),
    "RMSNorm": lambda: nn.RMSNorm(3),
    "LayerNorm subclass": lambda: ScaledLayerNorm(3),
    "Embedding": lambda: nn.Embedding(5, 3),
    "Affine(scale, bias)": Affine,
    "Gate(gain, bias_logit)": Gate,
    "Sequential(Linear, LayerNorm)": lambda: nn.Sequential(nn.Linear(3, 3), nn.LayerNorm(3)),
}


def zoo(spec: S.ZooSpec) -> nn.Module:
    """A model of the named parts of ``spec`` (frozen ones with requires_grad=False).

    ``tied``: an extra ``embed`` (Embedding(5, 3)) and ``unembed`` (Linear(3, 5, bias=False))
    share one weight, which ``named_parameters()`` lists once, as ``embed.weight``.
    """
    model = nn.Module()
    for name, kind, frozen in spec.parts:
        part = ZOO_BUILDERS[kind]()
        part.requires_grad_(not frozen)
        model.add_module(name, part)
    if spec.tied:
        model.embed = nn.Embedding(5, 3)
        model.unembed = nn.Linear(3, 5, bias=False)
        model.unembed.weight = model.embed.weight
    return model


def named(model: nn.Module) -> dict[int, str]:
    """Each parameter's name in ``model.named_parameters()`` (tied ones under their first name), by id."""
    return {id(p): name for name, p in model.named_parameters()}


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


def fit_setup(spec: S.NetSpec, plan: S.FitPlan, config: S.TrainConfig, device: str, dtype: torch.dtype) -> tuple:
    """``(net, train batches, validation loader, optimizer, scheduler)`` for one fit."""
    net, optimizer, scheduler = setup(spec, config, device, dtype)
    return net, make_loader(spec, plan.train, dtype), val_loader(spec, plan, dtype), optimizer, scheduler


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
