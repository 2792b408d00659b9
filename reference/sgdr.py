"""Learning-rate schedules for chapter problem 4: linear warmup, then SGDR (cosine with warm restarts).

After ``warmup_steps`` steps of linear warmup the rate follows Loshchilov & Hutter's
SGDR (ICLR 2017, eq. 5): cycle ``i`` lasts ``T_i = T_0 * T_mult**i`` steps and anneals
from ``base_lr * cycle_decay**i`` down towards ``eta_min`` along half a cosine.

The cycle that holds a step is found with integer arithmetic only. PyTorch's
``CosineAnnealingWarmRestarts.step(epoch)`` and timm's ``CosineLRScheduler`` take a
floating-point logarithm instead, and land in the previous cycle at some restarts
(``T_0=1, T_mult=3``, step 121 gives ``eta_min`` instead of the peak).
"""

from __future__ import annotations

import math
import numbers

import torch
from torch.optim.lr_scheduler import LRScheduler


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
    """The learning rate after ``step`` scheduler steps, for a group whose initial rate is ``base_lr``.

    Warmup (``step < warmup_steps``): ``base_lr * (f + (1 - f) * step / warmup_steps)`` with
    ``f = warmup_start_factor``. Then, with ``s = step - warmup_steps`` lying ``pos`` steps into
    cycle ``i`` of length ``T_i``: ``eta_min + (base_lr * cycle_decay**i - eta_min) * (1 + cos(pi * pos / T_i)) / 2``.
    O(1) in ``step`` (a few big-integer operations), exact at every restart.
    """
    check_schedule(
        warmup_steps=warmup_steps,
        T_0=T_0,
        T_mult=T_mult,
        eta_min=eta_min,
        warmup_start_factor=warmup_start_factor,
        cycle_decay=cycle_decay,
    )
    if not _is_int(step) or step < 0:
        raise ValueError(f"step must be an integer >= 0, got {step!r}")
    if step < warmup_steps:
        f = warmup_start_factor
        return float(base_lr * (f + (1.0 - f) * step / warmup_steps))
    cycle, pos, length = locate(step - warmup_steps, T_0, T_mult)
    peak = base_lr * cycle_decay**cycle
    return float(eta_min + (peak - eta_min) * (1.0 + math.cos(math.pi * (pos / length))) / 2.0)


def locate(s: int, T_0: int, T_mult: int) -> tuple[int, int, int]:
    """``(i, pos, T_i)``: step ``s`` (counted from the end of warmup) lies ``pos`` steps into cycle ``i``.

    Cycle ``i`` starts at ``T_0 * (T_mult**i - 1) // (T_mult - 1)`` (``T_0 * i`` when ``T_mult == 1``).
    """
    if T_mult == 1:
        cycle, pos = divmod(s, T_0)
        return cycle, pos, T_0
    # Cycle i has started iff T_0 * (T_mult**i - 1) <= s * (T_mult - 1), i.e. (both sides are
    # integers) iff T_mult**i <= bound: the answer is floor(log_T_mult(bound)), found exactly.
    bound = s * (T_mult - 1) // T_0 + 1
    cycle = _floor_log(bound, T_mult)
    start = T_0 * (T_mult**cycle - 1) // (T_mult - 1)
    return cycle, s - start, T_0 * T_mult**cycle


def _floor_log(n: int, base: int) -> int:
    """The largest ``k`` with ``base**k <= n`` (``n >= 1``, ``base >= 2``), in exact integers.

    A floating-point estimate from the bit length, corrected by at most a step or two.
    """
    k = max(0, int((n.bit_length() - 1) / math.log2(base)))
    while base**k > n:
        k -= 1
    while base ** (k + 1) <= n:
        k += 1
    return k


def check_schedule(
    *,
    warmup_steps: int,
    T_0: int,
    T_mult: int,
    eta_min: float,
    warmup_start_factor: float,
    cycle_decay: float,
) -> None:
    """Raise ``ValueError`` naming the first argument that does not describe a schedule."""
    if not _is_int(warmup_steps) or warmup_steps < 0:
        raise ValueError(f"warmup_steps must be an integer >= 0, got {warmup_steps!r}")
    if not _is_int(T_0) or T_0 < 1:
        raise ValueError(f"T_0 must be an integer >= 1, got {T_0!r}")
    if not _is_int(T_mult) or T_mult < 1:
        raise ValueError(f"T_mult must be an integer >= 1, got {T_mult!r}")
    if not _is_real(eta_min) or not eta_min >= 0:
        raise ValueError(f"eta_min must be a number >= 0, got {eta_min!r}")
    if not _is_real(warmup_start_factor) or not 0 <= warmup_start_factor <= 1:
        raise ValueError(f"warmup_start_factor must lie in [0, 1], got {warmup_start_factor!r}")
    if not _is_real(cycle_decay) or not 0 < cycle_decay <= 1:
        raise ValueError(f"cycle_decay must lie in (0, 1], got {cycle_decay!r}")


def _is_int(x: object) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _is_real(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


class WarmupSGDR(LRScheduler):
    """Linear warmup then SGDR, for every param group of ``optimizer``.

    After ``t`` calls of :meth:`step`, group ``g``'s ``lr`` is
    ``sgdr_lr(t, <group g's initial lr>, ...)``. The position is ``last_epoch`` alone, so
    :meth:`state_dict` / :meth:`load_state_dict` resume exactly, and ``step(epoch)``
    jumps straight to any step.
    """

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
        check_schedule(
            warmup_steps=warmup_steps,
            T_0=T_0,
            T_mult=T_mult,
            eta_min=eta_min,
            warmup_start_factor=warmup_start_factor,
            cycle_decay=cycle_decay,
        )
        self.warmup_steps = warmup_steps
        self.T_0 = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.warmup_start_factor = warmup_start_factor
        self.cycle_decay = cycle_decay
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """The rates at step ``last_epoch``, from each group's initial rate (never the current one)."""
        return [self._lr(base) for base in self.base_lrs]

    def _get_closed_form_lr(self) -> list[float]:
        return [self._lr(base) for base in self.base_lrs]

    def _lr(self, base_lr: float | torch.Tensor) -> float:
        return sgdr_lr(
            self.last_epoch,
            float(base_lr),
            warmup_steps=self.warmup_steps,
            T_0=self.T_0,
            T_mult=self.T_mult,
            eta_min=self.eta_min,
            warmup_start_factor=self.warmup_start_factor,
            cycle_decay=self.cycle_decay,
        )
