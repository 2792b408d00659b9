"""Correct: a LambdaLR subclass; each group's lambda is a picklable partial giving sgdr_lr(t, base) / base."""

from __future__ import annotations

import functools
import math

import torch


def _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay):
    for name, value, ok in [
        ("warmup_steps", warmup_steps, isinstance(warmup_steps, int) and warmup_steps >= 0),
        ("T_0", T_0, isinstance(T_0, int) and T_0 >= 1),
        ("T_mult", T_mult, isinstance(T_mult, int) and T_mult >= 1),
        ("eta_min", eta_min, eta_min >= 0),
        ("warmup_start_factor", warmup_start_factor, 0 <= warmup_start_factor <= 1),
        ("cycle_decay", cycle_decay, 0 < cycle_decay <= 1),
    ]:
        if not ok:
            raise ValueError(f"invalid {name}: {value!r}")


def sgdr_lr(step, base_lr, *, warmup_steps, T_0, T_mult=1, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=1.0):
    _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay)
    if step < warmup_steps:
        return base_lr * (warmup_start_factor + (1 - warmup_start_factor) * step / warmup_steps)
    s = step - warmup_steps
    if T_mult == 1:
        i, s = divmod(s, T_0)
        T_i = T_0
    else:
        i, T_i = 0, T_0
        while s >= T_i:
            s, T_i, i = s - T_i, T_i * T_mult, i + 1
    return eta_min + (base_lr * cycle_decay**i - eta_min) * (1 + math.cos(math.pi * s / T_i)) / 2


def _factor(step, *, base_lr, **schedule):
    return sgdr_lr(step, base_lr, **schedule) / base_lr


class WarmupSGDR(torch.optim.lr_scheduler.LambdaLR):
    def __init__(
        self,
        optimizer,
        warmup_steps,
        T_0,
        T_mult=1,
        eta_min=0.0,
        warmup_start_factor=0.0,
        cycle_decay=1.0,
        last_epoch=-1,
    ):
        _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay)
        schedule = dict(
            warmup_steps=warmup_steps,
            T_0=T_0,
            T_mult=T_mult,
            eta_min=eta_min,
            warmup_start_factor=warmup_start_factor,
            cycle_decay=cycle_decay,
        )
        key = "lr" if last_epoch == -1 else "initial_lr"  # the initial lrs, as LRScheduler will record them
        bases = [group[key] for group in optimizer.param_groups]
        factors = [functools.partial(_factor, base_lr=base, **schedule) for base in bases]
        super().__init__(optimizer, factors, last_epoch)
