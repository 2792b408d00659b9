"""The chapter's training loop (section 4.3, 学習ループの完全実装), made exact: exercise 6's reference.

A *loader* is any iterable of ``(inputs, targets)`` batches with ``len()`` (a DataLoader or
a list). ``loss_fn(outputs, targets)`` returns the mean loss over the batch; the batch
size is ``targets.shape[0]``. ``device=None`` means the device of the model's first
parameter.

What the chapter's ``ComprehensiveTrainingLoop`` gets wrong, and this module does not:

- ``self.model.state_dict().copy()`` is a shallow copy of live tensors, so the "best
  model" changes as training goes on; :func:`snapshot` clones every tensor.
- ``EarlyStopping`` takes a NaN first value as ``best`` (then nothing ever improves on it)
  and a NaN later on as an improvement; here a NaN never improves.
- weight decay is chosen by substrings of the full name (``'norm' in name``), which
  exempts a Linear named ``normalizer`` and decays a LayerNorm named ``ln``; here by
  registration name and module type.
- gradient accumulation: each micro-batch's loss is divided by the length of its own
  window, so a short last window is still the mean of its micro-batches.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn, optim

#: The normalisation layers whose parameters get no weight decay (subclasses included).
NORM_LAYERS: tuple[type[nn.Module], ...] = (
    nn.LayerNorm,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.BatchNorm3d,
    nn.GroupNorm,
    nn.RMSNorm,
)

Loader = Iterable[tuple[torch.Tensor, torch.Tensor]]  # with len()
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW's two groups: ``[decayed, not decayed]``, each trainable parameter once, in ``named_parameters()`` order.

    Not decayed: a parameter registered under the name ``bias`` by any module, and every
    parameter of a normalisation layer (:data:`NORM_LAYERS`).
    """
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
    exempt: set[int] = set()
    for module in model.modules():
        is_norm = isinstance(module, NORM_LAYERS)
        for name, param in module.named_parameters(recurse=False):
            if is_norm or name == "bias":
                exempt.add(id(param))
    decay, no_decay = [], []
    for _, param in model.named_parameters():  # shared (tied) parameters come once
        if param.requires_grad:
            (no_decay if id(param) in exempt else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _device(model: nn.Module, device: torch.device | str | None) -> torch.device:
    return torch.device(device) if device is not None else next(model.parameters()).device


def train_epoch(
    model: nn.Module,
    loader: Loader,
    optimizer: optim.Optimizer,
    loss_fn: LossFn,
    *,
    scheduler: Any = None,
    max_grad_norm: float | None = None,
    accumulation_steps: int = 1,
    device: torch.device | str | None = None,
) -> dict[str, Any]:
    """One epoch; each window of ``accumulation_steps`` micro-batches is one optimizer step.

    A window's gradient is the mean of its micro-batches' gradients (the last window may
    be shorter). At the end of each window: clip (if ``max_grad_norm``), ``optimizer.step()``,
    ``scheduler.step()``, clear the gradients. Returns ``{"loss": mean loss per sample,
    "steps": optimizer steps, "grad_norms": total norms before clipping}``.
    """
    if accumulation_steps < 1:
        raise ValueError(f"accumulation_steps must be >= 1, got {accumulation_steps!r}")
    if max_grad_norm is not None and not max_grad_norm > 0:
        raise ValueError(f"max_grad_norm must be > 0 (or None), got {max_grad_norm!r}")
    n_batches = len(loader)
    if n_batches == 0:
        raise ValueError("the loader is empty: an epoch needs at least one batch")
    device = _device(model, device)
    model.train()
    model.zero_grad(set_to_none=True)  # stale gradients must not reach the first step
    loss_sum, samples, steps, grad_norms = 0.0, 0, 0, []
    for index, (inputs, targets) in enumerate(loader):
        window_start = index - index % accumulation_steps
        window_length = min(accumulation_steps, n_batches - window_start)
        inputs, targets = inputs.to(device), targets.to(device)
        loss = loss_fn(model(inputs), targets)
        (loss / window_length).backward()  # frees this micro-batch's graph
        batch = targets.shape[0]
        loss_sum += loss.item() * batch
        samples += batch
        if index == window_start + window_length - 1:  # the window's last micro-batch
            if max_grad_norm is not None:
                grad_norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)))
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            model.zero_grad(set_to_none=True)
            steps += 1
    return {"loss": loss_sum / samples, "steps": steps, "grad_norms": grad_norms}


def evaluate(model: nn.Module, loader: Loader, loss_fn: LossFn, *, device: torch.device | str | None = None) -> dict[str, float]:
    """``{"loss": mean loss per sample, "accuracy": fraction of argmax hits}`` in eval mode, with no graph.

    The model's mode is restored afterwards, and nothing in it changes.
    """
    if len(loader) == 0:
        raise ValueError("the loader is empty: nothing to evaluate")
    device = _device(model, device)
    was_training = model.training
    model.eval()
    loss_sum, correct, samples = 0.0, 0, 0
    try:
        with torch.no_grad():
            for inputs, targets in loader:
                inputs, targets = inputs.to(device), targets.to(device)
                outputs = model(inputs)
                batch = targets.shape[0]
                loss_sum += loss_fn(outputs, targets).item() * batch
                correct += int((outputs.argmax(dim=-1) == targets).sum())
                samples += batch
    finally:
        model.train(was_training)
    return {"loss": loss_sum / samples, "accuracy": correct / samples}


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of ``model.state_dict()`` that later training cannot change (cloned, detached, same device)."""
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def restore(model: nn.Module, snap: dict[str, torch.Tensor]) -> None:
    """Copy ``snap`` back into the model's own tensors, strictly (the parameter objects stay the same)."""
    model.load_state_dict(snap, strict=True)


class EarlyStopping:
    """Stop when the monitored value has not improved for ``patience`` steps.

    A value improves when it is below ``best - min_delta`` (``mode="min"``; above
    ``best + min_delta`` for ``"max"``). The first value that is not NaN sets ``best``; a NaN
    never improves and counts as a step without improvement. Once :meth:`step` has returned
    True it returns True on every later call.
    """

    def __init__(self, patience: int, min_delta: float = 0.0, mode: str = "min") -> None:
        if not patience >= 1:
            raise ValueError(f"patience must be >= 1, got {patience!r}")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.best: float | None = None
        self.counter = 0
        self.stopped = False

    def _improves(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def step(self, value: float) -> bool:
        """Record one value; True when training should stop."""
        value = float(value)
        if not math.isnan(value) and self._improves(value):
            self.best, self.counter = value, 0
        else:
            self.counter += 1
        if self.counter >= self.patience:
            self.stopped = True
        return self.stopped

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "counter": self.counter, "stopped": self.stopped}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.counter, self.stopped = state["best"], state["counter"], state["stopped"]


def fit(
    model: nn.Module,
    train_loader: Loader,
    val_loader: Loader,
    optimizer: optim.Optimizer,
    loss_fn: LossFn,
    epochs: int,
    *,
    scheduler: Any = None,
    max_grad_norm: float | None = None,
    accumulation_steps: int = 1,
    early_stopping: EarlyStopping | None = None,
    device: torch.device | str | None = None,
) -> dict[str, Any]:
    """The chapter's ``train_with_all_bells_and_whistles``, minus printing and plotting.

    Each epoch: :func:`train_epoch`, then :func:`evaluate`. Keeps a :func:`snapshot` of the
    first epoch with the lowest validation loss (never a NaN one), then asks
    ``early_stopping.step(val_loss)``; at the end restores the best snapshot.
    ``best_epoch`` is None only when every validation loss was NaN (nothing is restored then).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs!r}")
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_accuracy": [], "lr": []}
    best_epoch: int | None = None
    best_loss = math.inf
    best_state: dict[str, torch.Tensor] | None = None
    stopped_early = False
    for epoch in range(epochs):
        trained = train_epoch(
            model,
            train_loader,
            optimizer,
            loss_fn,
            scheduler=scheduler,
            max_grad_norm=max_grad_norm,
            accumulation_steps=accumulation_steps,
            device=device,
        )
        validated = evaluate(model, val_loader, loss_fn, device=device)
        val_loss = validated["loss"]
        history["train_loss"].append(trained["loss"])
        history["val_loss"].append(val_loss)
        history["val_accuracy"].append(validated["accuracy"])
        history["lr"].append(float(optimizer.param_groups[0]["lr"]))
        if not math.isnan(val_loss) and (best_state is None or val_loss < best_loss):  # ties: the first epoch
            best_epoch, best_loss, best_state = epoch, val_loss, snapshot(model)
        if early_stopping is not None and early_stopping.step(val_loss):
            stopped_early = True
            break
    if best_state is not None:
        restore(model, best_state)
    return {**history, "best_epoch": best_epoch, "stopped_early": stopped_early}
