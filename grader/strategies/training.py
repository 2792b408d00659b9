"""ex6 (the training loop): networks, batches, training configurations and fit plans."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from grader.strategies.common import SEEDS, sizes

#: The small classifiers the ex6 checks train (built in grader/checks/ex6_training_loop/builders.py).
NET_KINDS = ("linear", "mlp", "layernorm_mlp", "embedding")


@dataclass(frozen=True)
class NetSpec:
    """A small classifier: its kind, sizes and the seed of its weights (``features`` is the vocabulary for "embedding")."""

    kind: str
    features: int
    hidden: int
    classes: int
    seed: int


@st.composite
def net_specs(draw: st.DrawFn, kinds: tuple[str, ...] = NET_KINDS) -> NetSpec:
    return NetSpec(draw(st.sampled_from(kinds)), draw(sizes(2, 4)), draw(sizes(2, 5)), draw(sizes(2, 4)), draw(SEEDS))


@dataclass(frozen=True)
class Batches:
    """A loader's batches: their sizes, the seed of their data, and whether a DataLoader serves them.

    A DataLoader serves equal batches and a shorter last one (``sizes`` says so); a list
    serves any sizes. Either way the data are the same tensors for the same seed.
    """

    sizes: tuple[int, ...]
    seed: int
    dataloader: bool = False


@st.composite
def batches(draw: st.DrawFn, min_batches: int = 1, max_batches: int = 5, min_size: int = 1) -> Batches:
    """Small batches of uneven sizes: any sizes in a list, or a DataLoader's equal batches and a shorter last one."""
    n = draw(st.integers(min_batches, max_batches))
    if draw(st.booleans()):
        size = draw(sizes(min_size, 4))
        last = draw(st.integers(min_size, size))
        return Batches((size,) * (n - 1) + (last,), draw(SEEDS), dataloader=True)
    return Batches(tuple(draw(st.lists(sizes(min_size, 4), min_size=n, max_size=n))), draw(SEEDS))


@st.composite
def equal_windows(draw: st.DrawFn) -> tuple[Batches, int]:
    """``(batches, k)``: windows of k equal micro-batches (k >= 2), no short window."""
    k, windows, size = draw(st.integers(2, 3)), draw(st.integers(1, 2)), draw(sizes(1, 3))
    return Batches((size,) * (k * windows), draw(SEEDS)), k


def make_batches(spec: NetSpec, loader: Batches, dtype: torch.dtype) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (inputs, targets) CPU tensors of ``loader`` for ``spec``'s net: token ids (B, 3) or features (B, F)."""
    generator = torch.Generator().manual_seed(loader.seed)
    out = []
    for b in loader.sizes:
        if spec.kind == "embedding":
            inputs = torch.randint(spec.features, (b, 3), generator=generator)
        else:
            inputs = (torch.rand(b, spec.features, generator=generator, dtype=torch.float64) * 4 - 2).to(dtype)
        out.append((inputs, torch.randint(spec.classes, (b,), generator=generator)))
    return out


OPTIMIZER_NAMES = ("SGD", "momentum SGD", "AdamW")


@dataclass(frozen=True)
class TrainConfig:
    """How one epoch trains: the optimizer, accumulation, clipping and an optional LambdaLR.

    ``lr_factors[t]`` is the scheduler's factor after t scheduler steps (the last one
    repeats); None means no scheduler.
    """

    optimizer: str = "SGD"
    accumulation_steps: int = 1
    max_grad_norm: float | None = None
    lr_factors: tuple[float, ...] | None = None

    def describe(self) -> dict[str, object]:
        """The settings as a failure's example shows them."""
        shown: dict[str, object] = {"optimizer": self.optimizer, "accumulation_steps": self.accumulation_steps}
        if self.max_grad_norm is not None:
            shown["max_grad_norm"] = self.max_grad_norm
        if self.lr_factors is not None:
            shown["scheduler"] = f"LambdaLR, lr factor per step {list(self.lr_factors)}"
        return shown


#: Small enough that most steps clip: the gradient norms of these nets are about 0.2 to 3.
MAX_GRAD_NORMS = (0.05, 0.3, 1.0)

#: Scheduler factors; 0 freezes the weights for a step (plain SGD, momentum and AdamW alike).
LR_FACTORS = (1.0, 0.5, 0.25, 0.0)


@st.composite
def train_configs(
    draw: st.DrawFn,
    *,
    optimizers: tuple[str, ...] = OPTIMIZER_NAMES,
    accumulation: bool | None = False,
    clipping: bool | None = False,
    scheduler: bool | None = False,
) -> TrainConfig:
    """A config; each feature is on (True), off (False) or drawn (None)."""

    def on(flag: bool | None) -> bool:
        return draw(st.booleans()) if flag is None else flag

    return TrainConfig(
        optimizer=draw(st.sampled_from(optimizers)),
        accumulation_steps=draw(st.integers(2, 4)) if on(accumulation) else 1,
        max_grad_norm=draw(st.sampled_from(MAX_GRAD_NORMS)) if on(clipping) else None,
        lr_factors=tuple(draw(st.lists(st.sampled_from(LR_FACTORS), min_size=1, max_size=6))) if on(scheduler) else None,
    )


#: Values for EarlyStopping: dyadic, so ``v < best - d``, ``best - v > d`` and ``v + d < best``
#: agree exactly, and ties at the min_delta boundary happen often. NaN included.
METRIC_VALUES = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, float("nan")])
MIN_DELTAS = st.sampled_from([0.0, 0.25, 0.5, 1.0])


def metric_sequences(max_size: int = 12) -> st.SearchStrategy[list[float]]:
    return st.lists(METRIC_VALUES, min_size=1, max_size=max_size)


@dataclass(frozen=True)
class EarlyStoppingConfig:
    patience: int
    min_delta: float
    mode: str

    def kwargs(self) -> dict[str, object]:
        return dict(patience=self.patience, min_delta=self.min_delta, mode=self.mode)


@st.composite
def early_stopping_configs(draw: st.DrawFn) -> EarlyStoppingConfig:
    return EarlyStoppingConfig(draw(st.integers(1, 4)), draw(MIN_DELTAS), draw(st.sampled_from(["min", "max"])))


#: The parts a param_groups model is made of (see drivers.zoo): what decay each parameter gets
#: depends on its registration name and its module's type, never on the names below.
ZOO_KINDS = (
    "Linear",
    "Linear(bias=False)",
    "LayerNorm",
    "BatchNorm1d",
    "BatchNorm2d",
    "GroupNorm",
    "RMSNorm",
    "LayerNorm subclass",
    "Embedding",
    "Affine(scale, bias)",
    "Gate(gain, bias_logit)",
    "Sequential(Linear, LayerNorm)",
)

#: Names for the parts, substring traps included (a Linear may be called "normalizer", a LayerNorm "ln").
ZOO_NAMES = ("fc", "ln", "norm", "normalizer", "bias_proj", "biased", "head", "bn", "layer_norm", "gate", "encoder")


@dataclass(frozen=True)
class ZooSpec:
    """A model of named parts, some frozen, maybe with tied embedding/output weights."""

    parts: tuple[tuple[str, str, bool], ...]  # (name, kind, frozen)
    tied: bool = False


@st.composite
def zoo_specs(draw: st.DrawFn) -> ZooSpec:
    names = draw(st.lists(st.sampled_from(ZOO_NAMES), min_size=1, max_size=5, unique=True))
    parts = tuple((name, draw(st.sampled_from(ZOO_KINDS)), draw(st.booleans()) and draw(st.booleans())) for name in names)
    return ZooSpec(parts, draw(st.booleans()))


@dataclass(frozen=True)
class FitPlan:
    """One fit: its epochs, training and validation batches, the validation epochs whose first input is
    NaN (so their validation loss is NaN), and the epoch at which a stand-in early stopping says stop."""

    epochs: int
    train: Batches
    val: Batches
    nan_epochs: tuple[int, ...] = ()
    stop_at: int | None = None


@st.composite
def fit_plans(draw: st.DrawFn, max_epochs: int = 5) -> FitPlan:
    """A plan in which at least one epoch that runs has a real validation loss (so a best epoch exists)."""
    epochs = draw(st.integers(1, max_epochs))
    stop_at = draw(st.none() | st.integers(0, epochs - 1))
    runs = epochs if stop_at is None else stop_at + 1
    clean = draw(st.integers(0, runs - 1))
    nan_epochs = draw(st.lists(st.integers(0, epochs - 1).filter(lambda e: e != clean), unique=True, max_size=2))
    return FitPlan(epochs, draw(batches(1, 3)), draw(batches(1, 2)), tuple(sorted(nan_epochs)), stop_at)
