"""Correct: gradients summed over the window and divided afterwards, clipping by hand with
torch.nn.utils.get_total_norm + clip_grads_with_norm_, norms returned as tensors, windows precomputed."""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


def param_groups(model, weight_decay):
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0: {weight_decay}")
    exempt_ids = set()
    for module in model.modules():
        norm_layer = isinstance(module, (nn.LayerNorm, nn.GroupNorm, nn.RMSNorm, nn.modules.batchnorm._BatchNorm))
        for name, p in module._parameters.items():
            if p is not None and (norm_layer or name == "bias"):
                exempt_ids.add(id(p))
    groups = ({"params": [], "weight_decay": weight_decay}, {"params": [], "weight_decay": 0.0})
    for p in model.parameters():
        if p.requires_grad:
            groups[id(p) in exempt_ids]["params"].append(p)
    return list(groups)


def _windows(n, k):
    """[(first, last)] of each window of micro-batch indices."""
    return [(s, min(s + k, n) - 1) for s in range(0, n, k)]


def train_epoch(model, loader, optimizer, loss_fn, *, scheduler=None, max_grad_norm=None, accumulation_steps=1, device=None):
    if accumulation_steps < 1:
        raise ValueError("accumulation_steps < 1")
    if max_grad_norm is not None and max_grad_norm <= 0:
        raise ValueError("max_grad_norm <= 0")
    if len(loader) == 0:
        raise ValueError("empty loader")
    if device is None:
        device = next(iter(model.parameters())).device
    ends = {last: last - first + 1 for first, last in _windows(len(loader), accumulation_steps)}
    model.train()
    model.zero_grad()
    params = [p for p in model.parameters()]
    loss_total, samples, norms = 0.0, 0, []
    count = 0
    for i, batch in enumerate(loader):
        inputs, targets = (t.to(device) for t in batch)
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        loss_total += float(loss) * len(targets)
        samples += len(targets)
        if i in ends:
            for p in params:
                if p.grad is not None:
                    p.grad.div_(ends[i])
            if max_grad_norm is not None:
                total = torch.nn.utils.get_total_norm([p.grad for p in params if p.grad is not None])
                torch.nn.utils.clip_grads_with_norm_(params, max_grad_norm, total)
                norms.append(total)
            optimizer.step()
            if scheduler:
                scheduler.step()
            model.zero_grad()
            count += 1
    return dict(loss=loss_total / samples, steps=count, grad_norms=norms)


def evaluate(model, loader, loss_fn, *, device=None):
    if not len(loader):
        raise ValueError("empty loader")
    if device is None:
        device = next(iter(model.parameters())).device
    before = model.training
    model.eval()
    with torch.no_grad():
        outputs, targets = [], []
        for x, y in loader:
            outputs.append(model(x.to(device)))
            targets.append(y.to(device))
    model.train(before)
    losses = [loss_fn(o, t).item() * len(t) for o, t in zip(outputs, targets)]
    hits = sum(int((o.argmax(dim=-1) == t).sum()) for o, t in zip(outputs, targets))
    n = sum(len(t) for t in targets)
    return {"loss": sum(losses) / n, "accuracy": hits / n}


def snapshot(model):
    return copy.deepcopy(model.state_dict())


def restore(model, snap):
    model.load_state_dict(snap, strict=True)


class EarlyStopping:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        if patience < 1:
            raise ValueError("patience < 1")
        if min_delta < 0:
            raise ValueError("min_delta < 0")
        if mode not in ("min", "max"):
            raise ValueError(f"unknown mode {mode}")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best, self.counter, self._fired = None, 0, False

    def step(self, value):
        if value != value:  # NaN
            self.counter += 1
        elif self.best is None or (self.best - value > self.min_delta if self.mode == "min" else value - self.best > self.min_delta):
            self.best, self.counter = float(value), 0
        else:
            self.counter += 1
        if self.counter >= self.patience:
            self._fired = True
        return self._fired

    def state_dict(self):
        return dict(best=self.best, counter=self.counter, fired=self._fired)

    def load_state_dict(self, state):
        self.best, self.counter, self._fired = state["best"], state["counter"], state["fired"]


def fit(model, train_loader, val_loader, optimizer, loss_fn, epochs, *, scheduler=None, max_grad_norm=None,
        accumulation_steps=1, early_stopping=None, device=None):
    if epochs < 1:
        raise ValueError("epochs < 1")
    h = {k: [] for k in ("train_loss", "val_loss", "val_accuracy", "lr")}
    best, stopped = None, False
    for e in range(epochs):
        t = train_epoch(model, train_loader, optimizer, loss_fn, scheduler=scheduler, max_grad_norm=max_grad_norm,
                        accumulation_steps=accumulation_steps, device=device)
        v = evaluate(model, val_loader, loss_fn, device=device)
        for key, value in zip(h, (t["loss"], v["loss"], v["accuracy"], optimizer.param_groups[0]["lr"])):
            h[key].append(value)
        if not math.isnan(v["loss"]) and (best is None or v["loss"] < best[0]):
            best = (v["loss"], e, snapshot(model))
        if early_stopping is not None and early_stopping.step(v["loss"]):
            stopped = True
            break
    if best is not None:
        restore(model, best[2])
    return {**h, "best_epoch": best[1] if best else None, "stopped_early": stopped}
