"""PyTorch's own schedulers in sequence: LinearLR's warmup, then CosineAnnealingWarmRestarts.step(epoch), which has no decay and a float log.

Source: pytorch/pytorch, torch/optim/lr_scheduler.py, commit
91a8950d1b07074bdd6a13051956e8c470d17f83 (the same code as torch 2.13.0): ``LinearLR._get_closed_form_lr``
and ``CosineAnnealingWarmRestarts.step(epoch)`` / ``get_lr``, chained as SequentialLR
chains them (the second scheduler counts its epochs from the milestone).
Edits (interface only), as a PATCH of the model answer: ``sgdr_lr`` is LinearLR's closed form
(start_factor = warmup_start_factor, end_factor = 1, total_iters = warmup_steps) before
warmup_steps, and CosineAnnealingWarmRestarts at epoch = step - warmup_steps after it;
``cycle_decay`` has no counterpart in either and is not used; the model answer's
WarmupSGDR calls it per group, without argument checks (the constructors' checks are not
run). Re-written in our words, the same operations.
Kept: n = int(math.log(epoch / T_0 * (T_mult - 1) + 1, T_mult)); epoch % T_0 for T_mult = 1.

Decided before grading: warmup is right, and every schedule without decay is right except
at the float-log traps; with cycle_decay < 1 the peaks never decay, which the inside-cycle,
restart and huge-step checks see (their explicit examples decay). The scheduler checks
accept the file's own sgdr_lr, and compare with CosineAnnealingWarmRestarts only without
decay, so they pass. No ValueError for bad arguments.
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
     "    if step < warmup_steps:  # LinearLR's closed form\n        start_factor, end_factor, total_iters = warmup_start_factor, 1.0, warmup_steps\n        return base_lr * (start_factor + (end_factor - start_factor) * min(total_iters, step) / total_iters)\n    epoch = step - warmup_steps  # CosineAnnealingWarmRestarts.step(epoch)\n    if epoch >= T_0:\n        if T_mult == 1:\n            T_cur = epoch % T_0\n            T_i = T_0\n        else:\n            n = int(math.log((epoch / T_0 * (T_mult - 1) + 1), T_mult))\n            T_cur = epoch - T_0 * (T_mult**n - 1) / (T_mult - 1)\n            T_i = T_0 * T_mult ** (n)\n    else:\n        T_i = T_0\n        T_cur = epoch\n    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2\n"),
    ('        _validate(warmup_steps, T_0, T_mult, eta_min, warmup_start_factor, cycle_decay)\n        self.warmup_steps = warmup_steps\n',
     '        self.warmup_steps = warmup_steps  # (the original checks no argument: no _validate)\n'),
]
