"""Correct: the PyTorch-tutorial loop ((i + 1) % k or the last batch), zero_grad(set_to_none=False), a float64
tensor for the running loss, inference_mode in evaluate, and the model's own parameters for the no-decay test."""

from __future__ import annotations

import math

import torch
from torch import nn

NORMS = (nn.LayerNorm, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm, nn.RMSNorm)


def param_groups(model, weight_decay):
    if weight_decay < 0:
        raise ValueError("weight_decay < 0")
    no_decay_names = set()
    for module_name, module in model.named_modules():
        for name, _ in module.named_parameters(recurse=False):
            if name == "bias" or isinstance(module, NORMS):
                no_decay_names.add(f"{module_name}.{name}" if module_name else name)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if name in no_decay_names else decay).append(p)
    # a tied weight is listed once, under its first name; its other names may still be exempt
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def train_epoch(model, loader, optimizer, loss_fn, *, scheduler=None, max_grad_norm=None, accumulation_steps=1, device=None):
    if accumulation_steps < 1 or (max_grad_norm is not None and max_grad_norm <= 0) or len(loader) == 0:
        raise ValueError("bad arguments")
    device = device or next(model.parameters()).device
    n = len(loader)
    full = n - n % accumulation_steps  # micro-batches in complete windows
    model.train()
    for p in model.parameters():
        p.grad = None
    running = torch.zeros((), dtype=torch.float64)
    count = 0
    norms = []
    steps = 0
    for i, (inputs, targets) in enumerate(loader):
        inputs, targets = inputs.to(device), targets.to(device)
        window = accumulation_steps if i < full else n - full
        loss = loss_fn(model(inputs), targets)
        (loss / window).backward()
        running += loss.detach().double().cpu() * targets.shape[0]
        count += targets.shape[0]
        if (i + 1) % accumulation_steps == 0 or (i + 1) == n:
            if max_grad_norm is not None:
                norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)))
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            optimizer.zero_grad(set_to_none=False)
            steps += 1
    return {"loss": running.item() / count, "steps": steps, "grad_norms": norms}


def evaluate(model, loader, loss_fn, *, device=None):
    if len(loader) == 0:
        raise ValueError("empty loader")
    device = device or next(model.parameters()).device
    mode = model.training
    model.eval()
    try:
        with torch.inference_mode():
            sums = [0.0, 0, 0]
            for inputs, targets in loader:
                outputs = model(inputs.to(device))
                targets = targets.to(device)
                sums[0] += loss_fn(outputs, targets).item() * targets.numel()
                sums[1] += int((outputs.argmax(-1) == targets).sum())
                sums[2] += targets.numel()
    finally:
        model.train(mode)
    return {"loss": sums[0] / sums[2], "accuracy": sums[1] / sums[2]}


def snapshot(model):
    return {k: v.clone().detach() for k, v in model.state_dict().items()}


def restore(model, snap):
    model.load_state_dict(snap)


class EarlyStopping:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        if patience < 1 or min_delta < 0 or mode not in {"min", "max"}:
            raise ValueError("bad EarlyStopping settings")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best, self.counter, self.done = None, 0, False

    def step(self, value):
        value = float(value)
        better = (
            not math.isnan(value)
            and (self.best is None
                 or (value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta))
        )  # fmt: skip
        if better:
            self.best, self.counter = value, 0
        else:
            self.counter += 1
        self.done = self.done or self.counter >= self.patience
        return self.done

    def state_dict(self):
        return {"best": self.best, "counter": self.counter, "done": self.done}

    def load_state_dict(self, state):
        self.best, self.counter, self.done = state["best"], state["counter"], state["done"]


def fit(model, train_loader, val_loader, optimizer, loss_fn, epochs, *, scheduler=None, max_grad_norm=None,
        accumulation_steps=1, early_stopping=None, device=None):
    if epochs < 1:
        raise ValueError("epochs < 1")
    out = {"train_loss": [], "val_loss": [], "val_accuracy": [], "lr": [], "best_epoch": None, "stopped_early": False}
    best_loss, best_state = math.inf, None
    for epoch in range(epochs):
        tr = train_epoch(model, train_loader, optimizer, loss_fn, scheduler=scheduler, max_grad_norm=max_grad_norm,
                         accumulation_steps=accumulation_steps, device=device)
        va = evaluate(model, val_loader, loss_fn, device=device)
        out["train_loss"].append(tr["loss"])
        out["val_loss"].append(va["loss"])
        out["val_accuracy"].append(va["accuracy"])
        out["lr"].append(optimizer.param_groups[0]["lr"])
        if va["loss"] < best_loss:  # NaN < x is False
            best_loss, best_state, out["best_epoch"] = va["loss"], snapshot(model), epoch
        if early_stopping is not None and early_stopping.step(va["loss"]):
            out["stopped_early"] = True
            break
    if best_state is not None:
        restore(model, best_state)
    return out
