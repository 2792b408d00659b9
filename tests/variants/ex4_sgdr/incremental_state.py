"""Correct: the scheduler advances (cycle, position, length) step by step like CAWR, all in saved attributes."""

from __future__ import annotations

import math

import torch


def _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay):
    if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 <= 0:
        raise ValueError(f"T_0 must be a positive integer, got {T_0}")
    if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult <= 0:
        raise ValueError(f"T_mult must be a positive integer, got {T_mult}")
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
    if not 0.0 <= warmup_start_factor <= 1.0:
        raise ValueError(f"warmup_start_factor must be in [0, 1], got {warmup_start_factor}")
    if not eta_min >= 0.0:
        raise ValueError(f"eta_min must be >= 0, got {eta_min}")
    if not 0.0 < cycle_decay <= 1.0:
        raise ValueError(f"cycle_decay must be in (0, 1], got {cycle_decay}")


def _locate(s, T_0, T_mult):
    if T_mult == 1:
        return s // T_0, s % T_0, T_0
    i, T_i = 0, T_0
    while s >= T_i:
        s -= T_i
        T_i *= T_mult
        i += 1
    return i, s, T_i


def _value(base_lr, i, pos, T_i, eta_min, cycle_decay):
    return eta_min + (base_lr * cycle_decay**i - eta_min) * (1 + math.cos(math.pi * pos / T_i)) / 2


def sgdr_lr(step, base_lr, *, warmup_steps, T_0, T_mult=1, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=1.0):
    _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay)
    if step < warmup_steps:
        return base_lr * (warmup_start_factor + (1 - warmup_start_factor) * step / warmup_steps)
    return _value(base_lr, *_locate(step - warmup_steps, T_0, T_mult), eta_min, cycle_decay)


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
        self.warmup_steps, self.T_0, self.T_mult = warmup_steps, T_0, T_mult
        self.eta_min, self.warmup_start_factor, self.cycle_decay = eta_min, warmup_start_factor, cycle_decay
        self.seen = None  # (step, cycle, pos, T_i) of the last rate computed
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t = self.last_epoch
        if t < self.warmup_steps:
            f = self.warmup_start_factor
            return [base * (f + (1 - f) * t / self.warmup_steps) for base in self.base_lrs]
        if self.seen is not None and self.seen[0] == t - 1 and t - 1 >= self.warmup_steps:
            _, i, pos, T_i = self.seen
            pos += 1
            if pos == T_i:  # restart
                i, pos, T_i = i + 1, 0, T_i * self.T_mult
        else:  # first step after warmup, or a jump: locate from scratch
            i, pos, T_i = _locate(t - self.warmup_steps, self.T_0, self.T_mult)
        self.seen = (t, i, pos, T_i)
        return [_value(base, i, pos, T_i, self.eta_min, self.cycle_decay) for base in self.base_lrs]
