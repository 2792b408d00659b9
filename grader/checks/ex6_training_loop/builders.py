"""What exercise 6's checks build: small seeded nets, optimizers, schedulers, loaders, and instruments.

Shared by the drivers (``drivers.py``, where the student's loop runs) and by the oracle
calls of ``oracles.py`` (where the reference's runs): both build the very same objects
from the same plain data. Nothing here touches ``reference`` or the student's code.

Instruments: :func:`watch` (a forward hook: the mode, whether a graph is built, and a
token that lives exactly as long as each micro-batch's graph), :class:`RecordingScheduler`
(how many optimizer steps had been taken at each ``scheduler.step()``),
:class:`ScriptedStopper` (an early stopper that says stop at a given epoch and keeps the
weights it was shown), :class:`EpochLoader` (validation data that may differ per epoch).
"""

from __future__ import annotations

import math
import numbers
import weakref
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from grader import strategies as S
from grader.feedback import plain

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


def fit_setup(spec: S.NetSpec, plan: S.FitPlan, config: S.TrainConfig, device: str, dtype: torch.dtype) -> tuple:
    """``(net, train batches, validation loader, optimizer, scheduler)`` for one fit."""
    net, optimizer, scheduler = setup(spec, config, device, dtype)
    return net, make_loader(spec, plan.train, dtype), val_loader(spec, plan, dtype), optimizer, scheduler


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


# -- param_groups models ----------------------------------------------------------------------


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


# -- what a failure shows --------------------------------------------------------------------


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


def describe_zoo(spec: S.ZooSpec) -> str:
    """A param_groups model of ``spec`` in one line."""
    parts = [f"{name}={kind}" + (" (frozen)" if frozen else "") for name, kind, frozen in spec.parts]
    if spec.tied:
        parts.append("embed=Embedding(5, 3) and unembed=Linear(3, 5, bias=False) sharing one weight")
    return ", ".join(parts)


def probe_description(spec: S.NetSpec) -> str:
    """:func:`probe_net` in one line."""
    h = spec.hidden
    return f"Linear({spec.features}, {h}) -> BatchNorm1d({h}) -> Tanh -> Dropout(0.5) -> Linear({h}, {spec.classes})"
