"""Correct: fit keeps every epoch's snapshot and picks the best at the end (min over (loss, epoch), NaN left out);
train_epoch divides the loss by multiplying with 1 / window length; snapshots on the CPU-side via state_dict clones."""

from __future__ import annotations

import math

import torch
from torch import nn

from torch.nn.utils import clip_grad_norm_

NORM_TYPES = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm)


def param_groups(model, weight_decay):
    if weight_decay < 0:
        raise ValueError("weight_decay must be >= 0")
    exempt = []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if name == "bias" or isinstance(module, NORM_TYPES):
                exempt.append(p)
    decay = [p for p in model.parameters() if p.requires_grad and not any(p is q for q in exempt)]
    keep = [p for p in model.parameters() if p.requires_grad and any(p is q for q in exempt)]
    return [dict(params=decay, weight_decay=weight_decay), dict(params=keep, weight_decay=0.0)]


def train_epoch(model, loader, optimizer, loss_fn, *, scheduler=None, max_grad_norm=None, accumulation_steps=1, device=None):
    if accumulation_steps < 1:
        raise ValueError("accumulation_steps must be >= 1")
    if max_grad_norm is not None and max_grad_norm <= 0:
        raise ValueError("max_grad_norm must be > 0")
    n = len(loader)
    if not n:
        raise ValueError("empty loader")
    device = device or next(model.parameters()).device
    model.train()
    optimizer.zero_grad(set_to_none=True)
    losses, sizes, norms = [], [], []
    it = iter(loader)
    steps = 0
    for start in range(0, n, accumulation_steps):
        length = min(accumulation_steps, n - start)
        for _ in range(length):
            x, y = next(it)
            x, y = x.to(device), y.to(device)
            loss = loss_fn(model(x), y)
            (loss * (1.0 / length)).backward()
            losses.append(loss.item())
            sizes.append(y.shape[0])
        if max_grad_norm is not None:
            norms.append(clip_grad_norm_(model.parameters(), max_grad_norm).item())
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        steps += 1
    return {"loss": sum(l * s for l, s in zip(losses, sizes)) / sum(sizes), "steps": steps, "grad_norms": norms}


def evaluate(model, loader, loss_fn, *, device=None):
    if len(loader) == 0:
        raise ValueError("empty loader")
    device = device or next(model.parameters()).device
    state = model.training
    try:
        model.eval()
        total, hits, count = 0.0, 0, 0
        for x, y in loader:
            with torch.no_grad():
                out = model(x.to(device))
                y = y.to(device)
                total += loss_fn(out, y).item() * len(y)
                hits += (out.argmax(dim=-1) == y).sum().item()
                count += len(y)
        return {"loss": total / count, "accuracy": hits / count}
    finally:
        model.train(state)


def snapshot(model):
    snap = {}
    for key, value in model.state_dict().items():
        snap[key] = torch.empty_like(value).copy_(value)
    return snap


def restore(model, snap):
    model.load_state_dict(snap, strict=True)


class EarlyStopping:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        if patience < 1 or min_delta < 0:
            raise ValueError("patience >= 1 and min_delta >= 0 please")
        if mode != "min" and mode != "max":
            raise ValueError("mode is 'min' or 'max'")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best, self.counter, self.stop = None, 0, False

    def _improves(self, v):
        if math.isnan(v):
            return False
        if self.best is None:
            return True
        return v + self.min_delta < self.best if self.mode == "min" else v - self.min_delta > self.best

    def step(self, value):
        v = float(value)
        if self._improves(v):
            self.best = v
            self.counter = 0
        else:
            self.counter = self.counter + 1
        if not self.stop and self.counter >= self.patience:
            self.stop = True
        return self.stop

    def state_dict(self):
        return {"best": self.best, "counter": self.counter, "stop": self.stop}

    def load_state_dict(self, state):
        self.best = state["best"]
        self.counter = state["counter"]
        self.stop = state["stop"]


def fit(model, train_loader, val_loader, optimizer, loss_fn, epochs, *, scheduler=None, max_grad_norm=None,
        accumulation_steps=1, early_stopping=None, device=None):
    if epochs < 1:
        raise ValueError("epochs must be >= 1")
    history = {"train_loss": [], "val_loss": [], "val_accuracy": [], "lr": []}
    snapshots = []
    stopped = False
    for _ in range(epochs):
        t = train_epoch(model, train_loader, optimizer, loss_fn, scheduler=scheduler, max_grad_norm=max_grad_norm,
                        accumulation_steps=accumulation_steps, device=device)
        v = evaluate(model, val_loader, loss_fn, device=device)
        history["train_loss"].append(t["loss"])
        history["val_loss"].append(v["loss"])
        history["val_accuracy"].append(v["accuracy"])
        history["lr"].append(optimizer.param_groups[0]["lr"])
        snapshots.append(snapshot(model))
        if early_stopping is not None and early_stopping.step(v["loss"]):
            stopped = True
            break
    candidates = [(loss, epoch) for epoch, loss in enumerate(history["val_loss"]) if not math.isnan(loss)]
    best_epoch = min(candidates)[1] if candidates else None
    if best_epoch is not None:
        restore(model, snapshots[best_epoch])
    return {**history, "best_epoch": best_epoch, "stopped_early": stopped}
