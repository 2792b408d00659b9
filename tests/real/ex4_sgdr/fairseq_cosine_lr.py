"""fairseq's cosine schedule: linear warmup, a floating-point log for the cycle, and lr_shrink applied to both ends of the cycle.

Source: facebookresearch/fairseq, fairseq/optim/lr_scheduler/cosine_lr_scheduler.py, commit
1ab54f9646abebf5346164335949f778723d5464, ``CosineLRSchedule.step_update`` and ``__init__``.
Edits (interface only), as a PATCH of the model answer: ``sgdr_lr`` is ``step_update(step)``
with lr = max_lr = base_lr, warmup_updates = warmup_steps, warmup_init_lr = base_lr *
warmup_start_factor, lr_period_updates = T_0, t_mult = T_mult, min_lr = eta_min, lr_shrink =
cycle_decay; the model answer's WarmupSGDR calls it per group, without argument checks
(fairseq's constructor only asserts max_lr > min_lr). Re-written in our words, the same
operations.
Kept: warmup_init_lr + num_updates * lr_step; the float-log cycle for t_mult != 1; both
max_lr and min_lr multiplied by lr_shrink**i.

Decided before grading: warmup is right; the cycles' floor eta_min * cycle_decay**i (the
contract keeps eta_min) is wrong inside cycles, at restarts and at huge steps whenever
eta_min > 0 and cycle_decay < 1, and the float log misses restarts besides. The scheduler
checks accept the file's own sgdr_lr, and compare with CosineAnnealingWarmRestarts only
without decay, so they pass. No ValueError for bad arguments.
"""

EXPECTED_FAILURES = {
    "test_inside_cycle_values",
    "test_restart_values",
    "test_huge_steps",
    "test_sgdr_lr_rejects_invalid_arguments",
    "test_scheduler_rejects_invalid_arguments",
}

PATCH = [
    ('    _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay)\n    if step < 0:\n        raise ValueError(f"step must be >= 0, got {step}")\n\n    if step < warmup_steps:\n        progress = step / warmup_steps\n        return base_lr * (warmup_start_factor + (1.0 - warmup_start_factor) * progress)\n\n    s = step - warmup_steps\n    if T_mult == 1:\n        i, pos = divmod(s, T_0)\n        T_i = T_0\n    else:\n        i, pos, T_i = 0, s, T_0\n        while pos >= T_i:  # at most log_T_mult(s / T_0) + 1 rounds\n            pos -= T_i\n            T_i *= T_mult\n            i += 1\n\n    peak = base_lr * cycle_decay**i\n    return eta_min + (peak - eta_min) * (1.0 + math.cos(math.pi * pos / T_i)) / 2.0\n',
     '    warmup_init_lr = base_lr * warmup_start_factor\n    if step < warmup_steps:\n        lr_step = (base_lr - warmup_init_lr) / warmup_steps\n        return warmup_init_lr + step * lr_step\n    curr_updates = step - warmup_steps\n    period = T_0\n    if T_mult != 1:\n        i = math.floor(math.log(1 - curr_updates / period * (1 - T_mult), T_mult))\n        t_i = T_mult**i * period\n        t_curr = curr_updates - (1 - T_mult**i) / (1 - T_mult) * period\n    else:\n        i = math.floor(curr_updates / period)\n        t_i = period\n        t_curr = curr_updates - (period * i)\n    lr_shrink = cycle_decay**i\n    min_lr = eta_min * lr_shrink\n    max_lr = base_lr * lr_shrink\n    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * t_curr / t_i))\n'),
    ('        _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay)\n        self.warmup_steps = warmup_steps\n',
     '        self.warmup_steps = warmup_steps  # (the original checks no argument: no _validate)\n'),
]
