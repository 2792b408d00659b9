"""演習問題 4 の模範解答 / Model answer to exercise 4 (walks the cycles by subtraction; reference/ uses an integer log).

The cycle is found with integers only: for T_mult = 1 by divmod, for T_mult > 1 by
subtracting cycle lengths T_0, T_0*T_mult, ... until the remainder fits; there are only
about log_T_mult(step) of them, so even step = 10**12 takes a few dozen subtractions.
"""

from __future__ import annotations

import math

import torch


def _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay) -> None:
    def is_int(x) -> bool:
        return isinstance(x, int) and not isinstance(x, bool)

    if not is_int(warmup_steps) or warmup_steps < 0:
        raise ValueError(f"warmup_steps must be an integer >= 0, got {warmup_steps!r}")
    if not is_int(T_0) or T_0 < 1:
        raise ValueError(f"T_0 must be an integer >= 1, got {T_0!r}")
    if not is_int(T_mult) or T_mult < 1:
        raise ValueError(f"T_mult must be an integer >= 1, got {T_mult!r}")
    if not eta_min >= 0:
        raise ValueError(f"eta_min must be >= 0, got {eta_min!r}")
    if not 0.0 <= warmup_start_factor <= 1.0:
        raise ValueError(f"warmup_start_factor must be in [0, 1], got {warmup_start_factor!r}")
    if not 0.0 < cycle_decay <= 1.0:
        raise ValueError(f"cycle_decay must be in (0, 1], got {cycle_decay!r}")


def sgdr_lr(
    step: int,
    base_lr: float,
    *,
    warmup_steps: int,
    T_0: int,
    T_mult: int = 1,
    eta_min: float = 0.0,
    warmup_start_factor: float = 0.0,
    cycle_decay: float = 1.0,
) -> float:
    """Linear warmup, then cosine annealing with warm restarts (SGDR, eq. 5)."""
    _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay)
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")

    if step < warmup_steps:
        progress = step / warmup_steps
        return base_lr * (warmup_start_factor + (1.0 - warmup_start_factor) * progress)

    s = step - warmup_steps
    if T_mult == 1:
        i, pos = divmod(s, T_0)
        T_i = T_0
    else:
        i, pos, T_i = 0, s, T_0
        while pos >= T_i:  # at most log_T_mult(s / T_0) + 1 rounds
            pos -= T_i
            T_i *= T_mult
            i += 1

    peak = base_lr * cycle_decay**i
    return eta_min + (peak - eta_min) * (1.0 + math.cos(math.pi * pos / T_i)) / 2.0


class WarmupSGDR(torch.optim.lr_scheduler.LRScheduler):
    """Warmup + SGDR for every param group: lr after t steps is sgdr_lr(t, that group's initial lr)."""

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_steps: int,
        T_0: int,
        T_mult: int = 1,
        eta_min: float = 0.0,
        warmup_start_factor: float = 0.0,
        cycle_decay: float = 1.0,
        last_epoch: int = -1,
    ) -> None:
        _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay)
        self.warmup_steps = warmup_steps
        self.T_0 = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.warmup_start_factor = warmup_start_factor
        self.cycle_decay = cycle_decay
        super().__init__(optimizer, last_epoch)  # takes the first step: last_epoch becomes 0

    def get_lr(self) -> list[float]:
        settings = dict(
            warmup_steps=self.warmup_steps,
            T_0=self.T_0,
            T_mult=self.T_mult,
            eta_min=self.eta_min,
            warmup_start_factor=self.warmup_start_factor,
            cycle_decay=self.cycle_decay,
        )
        # self.base_lrs holds each group's initial lr; the current group["lr"] would compound.
        return [sgdr_lr(self.last_epoch, base_lr, **settings) for base_lr in self.base_lrs]
