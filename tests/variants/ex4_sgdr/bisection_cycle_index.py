"""Correct: the cycle index by bisection on exact integer cycle starts; the scheduler via _get_closed_form_lr."""

from __future__ import annotations

import math

import torch


def _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay):
    problems = []
    if type(T_0) is not int or T_0 < 1:
        problems.append(f"T_0={T_0!r} (need an integer >= 1)")
    if type(T_mult) is not int or T_mult < 1:
        problems.append(f"T_mult={T_mult!r} (need an integer >= 1)")
    if type(warmup_steps) is not int or warmup_steps < 0:
        problems.append(f"warmup_steps={warmup_steps!r} (need an integer >= 0)")
    if not (0.0 <= warmup_start_factor <= 1.0):
        problems.append(f"warmup_start_factor={warmup_start_factor!r} (need [0, 1])")
    if not (eta_min >= 0.0):
        problems.append(f"eta_min={eta_min!r} (need >= 0)")
    if not (0.0 < cycle_decay <= 1.0):
        problems.append(f"cycle_decay={cycle_decay!r} (need (0, 1])")
    if problems:
        raise ValueError("invalid schedule: " + ", ".join(problems))


def _start(i, T_0, T_mult):
    return T_0 * i if T_mult == 1 else T_0 * (T_mult**i - 1) // (T_mult - 1)


def sgdr_lr(step, base_lr, *, warmup_steps, T_0, T_mult=1, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=1.0):
    _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay)
    if step < warmup_steps:
        return base_lr * warmup_start_factor + base_lr * (1.0 - warmup_start_factor) * (step / warmup_steps)
    s = step - warmup_steps
    lo, hi = 0, 1
    while _start(hi, T_0, T_mult) <= s:  # doubling: hi ends above the answer
        hi *= 2
    while hi - lo > 1:  # invariant: start(lo) <= s < start(hi)
        mid = (lo + hi) // 2
        if _start(mid, T_0, T_mult) <= s:
            lo = mid
        else:
            hi = mid
    pos, length = s - _start(lo, T_0, T_mult), T_0 * T_mult**lo
    high = base_lr * cycle_decay**lo
    return eta_min + 0.5 * (high - eta_min) * (1.0 + math.cos(math.pi * pos / length))


class WarmupSGDR(torch.optim.lr_scheduler.LRScheduler):
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
        self.kw = dict(
            warmup_steps=warmup_steps,
            T_0=T_0,
            T_mult=T_mult,
            eta_min=eta_min,
            warmup_start_factor=warmup_start_factor,
            cycle_decay=cycle_decay,
        )
        super().__init__(optimizer, last_epoch)

    def _get_closed_form_lr(self):
        return [sgdr_lr(self.last_epoch, lr, **self.kw) for lr in self.base_lrs]

    def get_lr(self):
        return self._get_closed_form_lr()
