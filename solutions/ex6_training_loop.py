"""演習問題 6 の模範解答 / Model answer to exercise 6 (counts micro-batches from 1; reference/ walks windows from their start).

A window of micro-batches is one optimizer step: each micro-batch's loss is divided by
the length of its own window (the last one may be shorter), so the step's gradient is the
mean of the window's gradients. Losses are summed as Python floats (``.item()``), so no
graph outlives its micro-batch.
"""

from __future__ import annotations

import math

import torch
from torch import nn

# Layers whose every parameter is exempt from weight decay (isinstance: subclasses too).
NO_DECAY_LAYERS = (nn.LayerNorm, nn.GroupNorm, nn.RMSNorm, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def param_groups(model, weight_decay):
    """AdamW's parameter groups: decayed first, then biases and normalisation parameters."""
    if weight_decay < 0:
        raise ValueError(f"weight_decay must not be negative, got {weight_decay}")
    exempt = set()
    for _, module in model.named_modules():
        for local_name, param in module.named_parameters(prefix="", recurse=False):
            if local_name == "bias" or isinstance(module, NO_DECAY_LAYERS):
                exempt.add(param)
    groups = [{"params": [], "weight_decay": weight_decay}, {"params": [], "weight_decay": 0.0}]
    for _, param in model.named_parameters():
        if not param.requires_grad:
            continue
        groups[1 if param in exempt else 0]["params"].append(param)
    return groups


def train_epoch(
    model,
    loader,
    optimizer,
    loss_fn,
    *,
    scheduler=None,
    max_grad_norm=None,
    accumulation_steps=1,
    device=None,
):
    """One epoch of training with gradient accumulation, clipping and a per-step scheduler."""
    if accumulation_steps < 1:
        raise ValueError(f"accumulation_steps must be at least 1, got {accumulation_steps}")
    if max_grad_norm is not None and max_grad_norm <= 0:
        raise ValueError(f"max_grad_norm must be positive, got {max_grad_norm}")
    n = len(loader)
    if n == 0:
        raise ValueError("train_epoch got an empty loader")
    if device is None:
        device = next(model.parameters()).device

    model.train()
    optimizer.zero_grad(set_to_none=True)  # gradients left from before must not count
    total, seen, steps, norms = 0.0, 0, 0, []
    for i, (x, y) in enumerate(loader, start=1):
        x, y = x.to(device), y.to(device)
        first = (i - 1) // accumulation_steps * accumulation_steps + 1  # first micro-batch of this window
        size = min(accumulation_steps, n - first + 1)  # the last window may be shorter
        loss = loss_fn(model(x), y)
        (loss / size).backward()
        total += loss.item() * len(y)
        seen += len(y)
        if i == first + size - 1:  # the window is complete: one optimizer step
            if max_grad_norm is not None:
                norm = nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                norms.append(norm.item())
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            steps += 1
    return {"loss": total / seen, "steps": steps, "grad_norms": norms}


def evaluate(model, loader, loss_fn, *, device=None):
    """Mean loss per sample and accuracy, in eval mode and without building a graph."""
    if len(loader) == 0:
        raise ValueError("evaluate got an empty loader")
    if device is None:
        device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        total, correct, seen = 0.0, 0, 0
        with torch.no_grad():
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                out = model(x)
                total += loss_fn(out, y).item() * len(y)
                correct += (out.argmax(dim=-1) == y).sum().item()
                seen += len(y)
    finally:
        model.train(was_training)
    return {"loss": total / seen, "accuracy": correct / seen}


def snapshot(model):
    """Clones of every tensor of the state_dict: later training cannot change them."""
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def restore(model, snap):
    """Copy a snapshot back into the model's own tensors (strict: every key must match)."""
    model.load_state_dict(snap, strict=True)


class EarlyStopping:
    """Stops after ``patience`` steps without improvement (NaN never improves)."""

    def __init__(self, patience, min_delta=0.0, mode="min"):
        if patience < 1:
            raise ValueError(f"patience must be at least 1, got {patience}")
        if min_delta < 0:
            raise ValueError(f"min_delta must not be negative, got {min_delta}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.best = None
        self.counter = 0
        self.should_stop = False

    def step(self, value):
        """Record a value; True once training should stop (and from then on)."""
        value = float(value)
        if math.isnan(value):
            self.counter += 1
        elif self.best is None:
            self.best = value
            self.counter = 0
        else:
            if self.mode == "min":
                improved = value < self.best - self.min_delta
            else:
                improved = value > self.best + self.min_delta
            if improved:
                self.best = value
                self.counter = 0
            else:
                self.counter += 1
        if self.counter >= self.patience:
            self.should_stop = True
        return self.should_stop

    def state_dict(self):
        """A new dict of plain values; later steps do not change it."""
        return {"best": self.best, "counter": self.counter, "should_stop": self.should_stop}

    def load_state_dict(self, state):
        """Resume from what state_dict() returned."""
        self.best = state["best"]
        self.counter = state["counter"]
        self.should_stop = state["should_stop"]


def fit(
    model,
    train_loader,
    val_loader,
    optimizer,
    loss_fn,
    epochs,
    *,
    scheduler=None,
    max_grad_norm=None,
    accumulation_steps=1,
    early_stopping=None,
    device=None,
):
    """Train for up to ``epochs`` epochs, keep the best epoch's weights, stop early when asked."""
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    history = {"train_loss": [], "val_loss": [], "val_accuracy": [], "lr": []}
    best = None  # (epoch, val_loss, snapshot) of the lowest validation loss so far
    stopped_early = False
    for epoch in range(epochs):
        train_metrics = train_epoch(
            model,
            train_loader,
            optimizer,
            loss_fn,
            scheduler=scheduler,
            max_grad_norm=max_grad_norm,
            accumulation_steps=accumulation_steps,
            device=device,
        )
        val_metrics = evaluate(model, val_loader, loss_fn, device=device)
        val_loss = val_metrics["loss"]
        history["train_loss"].append(train_metrics["loss"])
        history["val_loss"].append(val_loss)
        history["val_accuracy"].append(val_metrics["accuracy"])
        history["lr"].append(optimizer.param_groups[0]["lr"])
        # strictly lower: the first epoch wins a tie; a NaN is never lower than anything
        if not math.isnan(val_loss) and (best is None or val_loss < best[1]):
            best = (epoch, val_loss, snapshot(model))
        if early_stopping is not None and early_stopping.step(val_loss):
            stopped_early = True
            break
    if best is not None:
        restore(model, best[2])
    return {**history, "best_epoch": None if best is None else best[0], "stopped_early": stopped_early}
