"""Correct: EarlyStopping as one comparison on a signed score (mode "max" negates), a state_dict that copies
vars(self); param_groups from id sets; the model answer's loop otherwise, written with a window counter."""

from __future__ import annotations

import math

import torch
from torch import nn

_EXEMPT_TYPES = (nn.LayerNorm, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm, nn.RMSNorm)


def param_groups(model, weight_decay):
    if weight_decay < 0:
        raise ValueError("negative weight decay")
    exempt = {id(p) for m in model.modules() for n, p in m.named_parameters(recurse=False)
              if n == "bias" or isinstance(m, _EXEMPT_TYPES)}  # fmt: skip
    trainable = [p for p in model.parameters() if p.requires_grad]
    return [
        {"params": [p for p in trainable if id(p) not in exempt], "weight_decay": weight_decay, "name": "decay"},
        {"params": [p for p in trainable if id(p) in exempt], "weight_decay": 0.0, "name": "no_decay"},
    ]


def train_epoch(model, loader, optimizer, loss_fn, *, scheduler=None, max_grad_norm=None, accumulation_steps=1, device=None):
    if accumulation_steps < 1:
        raise ValueError("accumulation_steps")
    if max_grad_norm is not None and not max_grad_norm > 0:
        raise ValueError("max_grad_norm")
    remaining = len(loader)
    if remaining == 0:
        raise ValueError("empty")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.train()
    optimizer.zero_grad()
    stats = {"loss": 0.0, "n": 0}
    result = {"steps": 0, "grad_norms": []}
    in_window, window = 0, min(accumulation_steps, remaining)
    for inputs, targets in loader:
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        (loss / window).backward()
        stats["loss"] += loss.item() * len(targets)
        stats["n"] += len(targets)
        in_window += 1
        remaining -= 1
        if in_window == window:
            if max_grad_norm is not None:
                result["grad_norms"].append(nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm).item())
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            optimizer.zero_grad()
            result["steps"] += 1
            in_window, window = 0, min(accumulation_steps, remaining)
    return {"loss": stats["loss"] / stats["n"], **result}


def evaluate(model, loader, loss_fn, *, device=None):
    if len(loader) == 0:
        raise ValueError("empty")
    device = device if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    total = correct = seen = 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            total += loss_fn(logits, y).item() * y.size(0)
            correct += logits.argmax(dim=-1).eq(y).sum().item()
            seen += y.size(0)
    model.train(was_training)
    return {"loss": total / seen, "accuracy": correct / seen}


def snapshot(model):
    return {name: t.detach().clone() for name, t in model.state_dict(keep_vars=True).items()}


def restore(model, snap):
    missing, unexpected = set(model.state_dict()) - set(snap), set(snap) - set(model.state_dict())
    if missing or unexpected:
        raise RuntimeError(f"snapshot keys do not match: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
    with torch.no_grad():
        for name, t in model.state_dict().items():
            t.copy_(snap[name])


class EarlyStopping:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        if not (isinstance(patience, int) and patience >= 1):
            raise ValueError("patience must be an integer >= 1")
        if not min_delta >= 0:
            raise ValueError("min_delta must be >= 0")
        if mode not in ("min", "max"):
            raise ValueError("mode must be 'min' or 'max'")
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.sign = 1.0 if mode == "min" else -1.0
        self.best = None
        self.counter = 0
        self.triggered = False

    def step(self, value):
        score = self.sign * float(value)
        if not math.isnan(score) and (self.best is None or score < self.sign * self.best - self.min_delta):
            self.best, self.counter = float(value), 0
        else:
            self.counter += 1
        self.triggered |= self.counter >= self.patience
        return self.triggered

    def state_dict(self):
        return dict(vars(self))

    def load_state_dict(self, state):
        vars(self).update(state)


def fit(model, train_loader, val_loader, optimizer, loss_fn, epochs, *, scheduler=None, max_grad_norm=None,
        accumulation_steps=1, early_stopping=None, device=None):
    if epochs < 1:
        raise ValueError("epochs")
    keys = ("train_loss", "val_loss", "val_accuracy", "lr")
    history = {k: [] for k in keys}
    best_epoch, best_snap, stopped = None, None, False
    for epoch in range(epochs):
        train = train_epoch(model, train_loader, optimizer, loss_fn, scheduler=scheduler,
                            max_grad_norm=max_grad_norm, accumulation_steps=accumulation_steps, device=device)
        val = evaluate(model, val_loader, loss_fn, device=device)
        for k, v in zip(keys, (train["loss"], val["loss"], val["accuracy"], optimizer.param_groups[0]["lr"])):
            history[k].append(v)
        if val["loss"] == val["loss"] and (best_epoch is None or val["loss"] < history["val_loss"][best_epoch]):
            best_epoch, best_snap = epoch, snapshot(model)
        if early_stopping is not None and early_stopping.step(val["loss"]):
            stopped = True
            break
    if best_snap is not None:
        restore(model, best_snap)
    return {**history, "best_epoch": best_epoch, "stopped_early": stopped}
