"""Exercise 4's drivers: they run the student's code and return learning rates as plain numbers.

They build the optimizers and the scheduler, step them, and report every param group's
lr, wherever the student's code runs (this process, or an isolated worker). The checks
compare the rates in the grading process; drivers never touch ``reference``.
"""

from __future__ import annotations

import copy
import numbers

import torch

from grader import strategies as S
from grader.devices import seeded
from grader.feedback import CheckFailure
from grader.runner import driver

#: The optimizers WarmupSGDR must work with (test_scheduler_works_with_any_optimizer).
OPTIMIZERS = {
    "SGD": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
    "Adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
    "AdamW": lambda params, lr: torch.optim.AdamW(params, lr=lr, weight_decay=0.01),
    "RMSprop": lambda params, lr: torch.optim.RMSprop(params, lr=lr),
}


@driver
def sgdr_lrs(student, steps: list[int], base_lr: float, config: S.SGDRConfig) -> list[object]:
    """``student.sgdr_lr(step, base_lr, **config)`` for each step, in order."""
    return [lr_data(student.sgdr_lr(step, base_lr, **config.kwargs())) for step in steps]


@driver
def own_sgdr_lrs(student, steps: list[int], base_lrs: list[float], config: S.SGDRConfig) -> list[list[object]]:
    """The student's own ``sgdr_lr(t, base_lr, **config)`` for each step t and each base_lr; None where it raises."""
    return [[own_sgdr_lr(student, t, base_lr, config) for base_lr in base_lrs] for t in steps]


@driver
def scheduled_lrs(student, config: S.SGDRConfig, lrs: list[float], n_steps: int) -> list[list[object]]:
    """WarmupSGDR on an SGD with one param group per lr: every group's lr after t = 0, 1, ..., n_steps steps."""
    optimizer = SGD(lrs)
    scheduler = student.WarmupSGDR(optimizer, **config.kwargs())
    seen = [group_lrs(optimizer)]
    for _ in range(n_steps):
        optimizer.step()
        scheduler.step()
        seen.append(group_lrs(optimizer))
    return seen


@driver
def resumed_lrs(student, config: S.SGDRConfig, lrs: list[float], before: int, after: int) -> dict[str, list]:
    """Save after ``before`` steps, resume in a fresh optimizer and scheduler, then step both runs ``after`` times.

    Returns every group's lr after each of those ``after`` steps, in the run that went on
    ("kept") and in the resumed one ("resumed").
    """
    optimizer = SGD(lrs)
    scheduler = student.WarmupSGDR(optimizer, **config.kwargs())
    for _ in range(before):
        optimizer.step()
        scheduler.step()
    saved = copy.deepcopy(dict(optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict()))

    resumed_optimizer = SGD(lrs)  # a fresh run, as after restarting the program
    resumed = student.WarmupSGDR(resumed_optimizer, **config.kwargs())
    resumed_optimizer.load_state_dict(saved["optimizer"])
    resumed.load_state_dict(saved["scheduler"])
    runs: dict[str, list] = {"kept": [], "resumed": []}
    for _ in range(after):
        for name, opt, sched in (("kept", optimizer, scheduler), ("resumed", resumed_optimizer, resumed)):
            opt.step()
            sched.step()
            runs[name].append(group_lrs(opt))
    return runs


@driver
def trained_lrs(student, config: S.SGDRConfig, base_lr: float, n_steps: int, seed: int) -> dict[str, list]:
    """For each of OPTIMIZERS: train a Linear(3, 1) under WarmupSGDR; its lr after t = 0, 1, ..., n_steps steps."""
    by_optimizer = {}
    for name, make_optimizer in OPTIMIZERS.items():
        with seeded(seed):  # the same weights and inputs for every optimizer, and on both sides
            model = torch.nn.Linear(3, 1)
            inputs = torch.randn(4, 3)
        optimizer = make_optimizer(model.parameters(), base_lr)
        scheduler = student.WarmupSGDR(optimizer, **config.kwargs())
        seen = [group_lrs(optimizer)]
        for _ in range(n_steps):
            optimizer.zero_grad()
            model(inputs).pow(2).mean().backward()
            optimizer.step()
            scheduler.step()
            seen.append(group_lrs(optimizer))
        by_optimizer[name] = seen
    return by_optimizer


@driver
def new_scheduler(student, lrs: list[float], settings: dict[str, object]) -> None:
    """``WarmupSGDR(SGD(lrs), **settings)``, for what it raises."""
    student.WarmupSGDR(SGD(lrs), **settings)


class SGD(torch.optim.SGD):
    """Plain SGD with one param group per lr, shown briefly in a failure's example."""

    def __init__(self, lrs: list[float]) -> None:
        super().__init__([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs])
        self.initial_lrs = list(lrs)

    def __repr__(self) -> str:
        return f"SGD(param groups with lr={self.initial_lrs})"


def lr_data(value: object) -> object:
    """A learning rate the student's code gave, as data: a real number as a float, anything else as it is.

    (The check then says what is wrong with a value that is not a number.)
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value.detach() if isinstance(value, torch.Tensor) else value


def group_lrs(optimizer: torch.optim.Optimizer) -> list[object]:
    """Every param group's current lr, as data."""
    return [lr_data(group["lr"]) for group in optimizer.param_groups]


def own_sgdr_lr(student, t: int, base_lr: float, config: S.SGDRConfig) -> object:
    """The student's own sgdr_lr at this step, or None if it cannot give one."""
    try:
        return lr_data(student.sgdr_lr(t, base_lr, **config.kwargs()))
    except CheckFailure:
        return None
