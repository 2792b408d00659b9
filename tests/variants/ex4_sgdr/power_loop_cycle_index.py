"""Correct: the cycle index as an integer logarithm, T_mult**i built by repeated multiplication."""

from __future__ import annotations

import math
import numbers

import torch


def _check(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay):
    if not isinstance(T_0, numbers.Integral) or T_0 < 1:
        raise ValueError("T_0 must be a positive integer")
    if not isinstance(T_mult, numbers.Integral) or T_mult < 1:
        raise ValueError("T_mult must be an integer >= 1")
    if not isinstance(warmup_steps, numbers.Integral) or warmup_steps < 0:
        raise ValueError("warmup_steps must be a non-negative integer")
    if warmup_start_factor < 0 or warmup_start_factor > 1:
        raise ValueError("warmup_start_factor must be in [0, 1]")
    if eta_min < 0:
        raise ValueError("eta_min must be non-negative")
    if cycle_decay <= 0 or cycle_decay > 1:
        raise ValueError("cycle_decay must be in (0, 1]")


def sgdr_lr(step, base_lr, *, warmup_steps, T_0, T_mult=1, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=1.0):
    _check(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay)
    if step < warmup_steps:
        frac = step / warmup_steps
        return base_lr * (warmup_start_factor * (1 - frac) + frac)
    s = step - warmup_steps
    if T_mult == 1:
        i = s // T_0
        start, length = i * T_0, T_0
    else:
        # cycle i has started iff T_0 * (T_mult**i - 1) <= s * (T_mult - 1)
        i, power = 0, 1
        while T_0 * (power * T_mult - 1) <= s * (T_mult - 1):
            power *= T_mult
            i += 1
        start, length = T_0 * (power - 1) // (T_mult - 1), T_0 * power
    cos_term = (1 + math.cos(math.pi * (s - start) / length)) / 2
    return eta_min * (1 - cos_term) + base_lr * cycle_decay**i * cos_term


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
        _check(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay)
        self.warmup_steps, self.T_0, self.T_mult = warmup_steps, T_0, T_mult
        self.eta_min, self.warmup_start_factor, self.cycle_decay = eta_min, warmup_start_factor, cycle_decay
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        out = []
        for base_lr in self.base_lrs:
            out.append(
                sgdr_lr(
                    self.last_epoch,
                    base_lr,
                    warmup_steps=self.warmup_steps,
                    T_0=self.T_0,
                    T_mult=self.T_mult,
                    eta_min=self.eta_min,
                    warmup_start_factor=self.warmup_start_factor,
                    cycle_decay=self.cycle_decay,
                )
            )
        return out
