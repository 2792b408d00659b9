"""reference.sgdr against PyTorch's schedulers and a slow, obviously correct step-by-step loop."""

from __future__ import annotations

import copy
import math
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts, LinearLR, SequentialLR

from grader import strategies as S
from grader.probes import time_limit
from reference.sgdr import WarmupSGDR, _floor_log, locate, sgdr_lr


def loop_schedule(n_steps: int, base_lr: float, config: S.SGDRConfig) -> list[float]:
    """The lrs at steps 0..n_steps, walking one step at a time: warmup, then cycle after cycle."""
    f = config.warmup_start_factor
    lrs, cycle, pos, length = [], 0, 0, config.T_0
    for step in range(n_steps + 1):
        if step < config.warmup_steps:
            lrs.append(base_lr * (f + (1 - f) * step / config.warmup_steps))
            continue
        if pos == length:  # the cycle is over: restart
            cycle, pos, length = cycle + 1, 0, length * config.T_mult
        peak = base_lr * config.cycle_decay**cycle
        lrs.append(config.eta_min + (peak - config.eta_min) * (1 + math.cos(math.pi * pos / length)) / 2)
        pos += 1
    return lrs


def sgd(lrs: list[float]) -> torch.optim.SGD:
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs])


def run(optimizer: torch.optim.Optimizer, scheduler, n_steps: int) -> list[list[float]]:
    """Each group's lr after 0, 1, ..., n_steps steps (optimizer.step() first, as in training)."""
    seen = [[g["lr"] for g in optimizer.param_groups]]
    for _ in range(n_steps):
        optimizer.step()
        scheduler.step()
        seen.append([g["lr"] for g in optimizer.param_groups])
    return seen


# -- sgdr_lr against the loop ----------------------------------------------------------------


@settings(max_examples=150)
@given(config=S.sgdr_configs(T_mults=st.integers(1, 10)), base_lr=S.BASE_LRS, n_steps=st.integers(0, 400))
def test_sgdr_lr_matches_step_by_step_loop(config, base_lr, n_steps):
    expected = loop_schedule(n_steps, base_lr, config)
    actual = [sgdr_lr(t, base_lr, **config.kwargs()) for t in range(n_steps + 1)]
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-15)


@settings(max_examples=100)
@given(config=S.restart_configs(), base_lr=S.BASE_LRS)
def test_restarts_are_exact_peaks(config, base_lr):
    for i in [*range(1, 41), 10**3]:  # far beyond where a float log goes wrong (3**5, 10**3, ...)
        step = config.restart(i)
        assert sgdr_lr(step, base_lr, **config.kwargs()) == pytest.approx(base_lr * config.cycle_decay**i, rel=1e-15)
    for step in S.restart_steps(config):  # what the check draws: restarts, all of them
        cycle, pos, _ = locate(step - config.warmup_steps, config.T_0, config.T_mult)
        assert pos == 0 and cycle >= 1 and config.restart(cycle) == step


@settings(max_examples=100)
@given(config=S.sgdr_configs(), positions=S.inside_positions())
def test_inside_cycle_steps_lie_strictly_inside(config, positions):
    for step in S.inside_steps(config, positions):  # what the check draws
        cycle, pos, length = locate(step - config.warmup_steps, config.T_0, config.T_mult)
        assert 0 < pos < length == config.cycle_length(cycle)


@settings(max_examples=20)
@given(config=st.sampled_from([c for c in S.HUGE_CONFIGS if c.T_0 >= 2]))  # T_0 = 1: a first cycle with no inside
def test_the_explicit_inside_positions_lie_strictly_inside(config):
    for step in S.inside_steps(config, S.INSIDE_POSITIONS):
        cycle, pos, length = locate(step - config.warmup_steps, config.T_0, config.T_mult)
        assert 0 < pos < length


@pytest.mark.parametrize("base", range(2, 13))
def test_floor_log_is_exact(base):
    for n in range(1, 5000):
        assert _floor_log(n, base) == max(k for k in range(20) if base**k <= n)
    for k in range(1, 200):
        assert _floor_log(base**k, base) == k
        assert _floor_log(base**k - 1, base) == k - 1
        assert _floor_log(base**k + 1, base) == k


def test_huge_steps_are_instant_and_exact():
    with time_limit(2.0, "sgdr_lr at huge steps"):
        for config in S.HUGE_CONFIGS:
            for step in S.HUGE_STEPS:
                s = step - config.warmup_steps
                cycle, pos, length = locate(s, config.T_0, config.T_mult)
                assert 0 <= pos < length == config.cycle_length(cycle)
                assert config.cycle_start(cycle) + pos == s
                assert 0.0 <= sgdr_lr(step, 0.1, **config.kwargs()) <= max(0.1, config.eta_min)
            for i in (10**6, 10**9) if config.T_mult == 1 else (60, 200):
                peak = sgdr_lr(config.restart(i), 1.0, **config.kwargs())
                assert peak == pytest.approx(config.cycle_decay**i, rel=1e-12)


# -- against PyTorch's schedulers ----------------------------------------------------------------


@settings(max_examples=80)
@given(
    config=S.sgdr_configs(max_warmup=0, T_mults=st.integers(1, 10), cycle_decays=(1.0,)),
    lrs=S.group_lrs(),
    n_steps=st.integers(1, 300),
)
def test_matches_cosine_annealing_warm_restarts_stepped(config, lrs, n_steps):
    """Stepped one step at a time, PyTorch counts with integers and is right everywhere."""
    ours, theirs = sgd(lrs), sgd(lrs)
    expected = run(theirs, CosineAnnealingWarmRestarts(theirs, config.T_0, config.T_mult, config.eta_min), n_steps)
    actual = run(ours, WarmupSGDR(ours, **config.kwargs()), n_steps)
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-15)


def cawr_closed_form(step: int, base_lr: float, config: S.SGDRConfig) -> float:
    """CosineAnnealingWarmRestarts.step(epoch): the closed form, which finds the cycle with math.log."""
    optimizer = sgd([base_lr])
    scheduler = CosineAnnealingWarmRestarts(optimizer, config.T_0, config.T_mult, config.eta_min)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(epoch) is deprecated
        scheduler.step(step)
    return optimizer.param_groups[0]["lr"]


def test_cosine_annealing_warm_restarts_closed_form_misses_a_restart():
    """The chapter's example: T_0=1, T_mult=3, step 121 starts cycle 5 (1 + 3 + 9 + 27 + 81 = 121)."""
    config = S.SGDRConfig(warmup_steps=0, T_0=1, T_mult=3, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=1.0)
    assert config.restart(5) == 121
    assert cawr_closed_form(121, 1.0, config) == 0.0  # PyTorch: the end of cycle 4
    assert sgdr_lr(121, 1.0, **config.kwargs()) == 1.0  # the peak of cycle 5
    assert loop_schedule(121, 1.0, config)[121] == 1.0


@settings(max_examples=100)
@given(
    config=S.sgdr_configs(max_warmup=0, T_mults=st.integers(1, 10), cycle_decays=(1.0,)),
    base_lr=S.BASE_LRS,
    data=st.data(),
)
def test_matches_cosine_annealing_warm_restarts_closed_form_where_it_is_right(config, base_lr, data):
    """PyTorch's closed form agrees everywhere except at restarts its float log puts in the previous cycle."""
    steps = [data.draw(st.integers(0, 10**6))] + S.restart_steps(config, max_cycle=12)
    for step in steps:
        theirs, ours = cawr_closed_form(step, base_lr, config), sgdr_lr(step, base_lr, **config.kwargs())
        cycle, pos, _ = locate(step, config.T_0, config.T_mult)
        if pos == 0 and cycle > 0 and theirs == pytest.approx(config.eta_min, abs=1e-15):
            assert math.log(step / config.T_0 * (config.T_mult - 1) + 1, config.T_mult) < cycle  # the float-log miss
            assert ours == pytest.approx(base_lr, rel=1e-15)
        else:
            assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-15)


@settings(max_examples=60)
@given(
    config=S.sgdr_configs(min_warmup=1, cycle_decays=(1.0,)).filter(lambda c: c.warmup_start_factor > 0),
    lrs=S.group_lrs(),
    extra=st.integers(0, 150),
)
def test_matches_linear_warmup_then_cosine_annealing_warm_restarts(config, lrs, extra):
    """Warmup is LinearLR(start_factor=f) and then SGDR is CosineAnnealingWarmRestarts (SequentialLR)."""
    n_steps = config.warmup_steps + extra
    theirs = sgd(lrs)
    builtin = SequentialLR(
        theirs,
        [
            LinearLR(theirs, start_factor=config.warmup_start_factor, end_factor=1.0, total_iters=config.warmup_steps),
            CosineAnnealingWarmRestarts(theirs, config.T_0, config.T_mult, config.eta_min),
        ],
        milestones=[config.warmup_steps],
    )
    expected = run(theirs, builtin, n_steps)
    ours = sgd(lrs)
    actual = run(ours, WarmupSGDR(ours, **config.kwargs()), n_steps)
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-15)


# -- the scheduler -----------------------------------------------------------------------------


@settings(max_examples=60)
@given(config=S.sgdr_configs(), lrs=S.group_lrs(), n_steps=st.integers(0, 100))
def test_scheduler_follows_sgdr_lr_for_each_group(config, lrs, n_steps):
    optimizer = sgd(lrs)
    seen = run(optimizer, WarmupSGDR(optimizer, **config.kwargs()), n_steps)
    expected = [[sgdr_lr(t, lr, **config.kwargs()) for lr in lrs] for t in range(n_steps + 1)]
    assert seen == expected


@settings(max_examples=40)
@given(config=S.sgdr_configs(), lrs=S.group_lrs(3), before=st.integers(0, 60), after=st.integers(1, 60))
def test_state_dict_resumes_mid_cycle(config, lrs, before, after):
    optimizer = sgd(lrs)
    scheduler = WarmupSGDR(optimizer, **config.kwargs())
    run(optimizer, scheduler, before)
    saved = copy.deepcopy((optimizer.state_dict(), scheduler.state_dict()))
    expected = run(optimizer, scheduler, after)

    fresh_optimizer = sgd(lrs)
    fresh = WarmupSGDR(fresh_optimizer, **config.kwargs())
    fresh_optimizer.load_state_dict(saved[0])
    fresh.load_state_dict(saved[1])
    assert run(fresh_optimizer, fresh, after) == expected


def test_resuming_with_last_epoch_and_jumping_with_step_epoch():
    config = S.SGDRConfig(warmup_steps=4, T_0=3, T_mult=2, eta_min=1e-4, warmup_start_factor=0.1, cycle_decay=0.8)
    optimizer = sgd([0.5, 0.05])
    scheduler = WarmupSGDR(optimizer, **config.kwargs())
    run(optimizer, scheduler, 17)
    resumed = WarmupSGDR(optimizer, **config.kwargs(), last_epoch=17)  # initial_lr is kept in the groups
    assert resumed.get_last_lr() == [sgdr_lr(18, lr, **config.kwargs()) for lr in (0.5, 0.05)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(epoch) is deprecated, but the closed form supports it
        resumed.step(10**12)
    assert resumed.get_last_lr() == [sgdr_lr(10**12, lr, **config.kwargs()) for lr in (0.5, 0.05)]


@pytest.mark.parametrize(
    "make",
    [
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
        lambda p: torch.optim.Adam(p, lr=0.1),
        lambda p: torch.optim.AdamW(p, lr=0.1),
        lambda p: torch.optim.RMSprop(p, lr=0.1),
        lambda p: torch.optim.Adagrad(p, lr=0.1),
    ],
    ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"],
)
def test_works_with_any_optimizer(make):
    config = S.SGDRConfig(warmup_steps=3, T_0=4, T_mult=2, eta_min=1e-3, warmup_start_factor=0.0, cycle_decay=0.5)
    model = torch.nn.Linear(3, 1)
    optimizer = make(model.parameters())
    scheduler = WarmupSGDR(optimizer, **config.kwargs())
    for t in range(1, 30):
        optimizer.zero_grad()
        model(torch.randn(5, 3)).pow(2).mean().backward()
        optimizer.step()
        scheduler.step()
        assert optimizer.param_groups[0]["lr"] == sgdr_lr(t, 0.1, **config.kwargs())


# -- invalid arguments -------------------------------------------------------------------------

GOOD = dict(warmup_steps=5, T_0=10, T_mult=2, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=1.0)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (dict(T_0=0), "T_0 must be an integer >= 1"),
        (dict(T_0=2.5), "T_0 must be an integer >= 1"),
        (dict(T_mult=0), "T_mult must be an integer >= 1"),
        (dict(T_mult=1.5), "T_mult must be an integer >= 1"),
        (dict(T_mult=True), "T_mult must be an integer >= 1"),
        (dict(warmup_steps=-1), "warmup_steps must be an integer >= 0"),
        (dict(warmup_start_factor=-0.1), "warmup_start_factor must lie in \\[0, 1\\]"),
        (dict(warmup_start_factor=1.5), "warmup_start_factor must lie in \\[0, 1\\]"),
        (dict(warmup_start_factor=float("nan")), "warmup_start_factor must lie in \\[0, 1\\]"),
        (dict(eta_min=-1e-3), "eta_min must be a number >= 0"),
        (dict(cycle_decay=0.0), "cycle_decay must lie in \\(0, 1\\]"),
        (dict(cycle_decay=1.5), "cycle_decay must lie in \\(0, 1\\]"),
    ],
)
def test_invalid_arguments_raise(bad, message):
    with pytest.raises(ValueError, match=message):
        sgdr_lr(7, 0.1, **{**GOOD, **bad})
    optimizer = sgd([0.1])
    with pytest.raises(ValueError, match=message):
        WarmupSGDR(optimizer, **{**GOOD, **bad})
    assert "initial_lr" not in optimizer.param_groups[0]  # rejected before touching the optimizer


@pytest.mark.parametrize("step", [-1, 2.0, True])
def test_invalid_step_raises(step):
    with pytest.raises(ValueError, match="step must be an integer >= 0"):
        sgdr_lr(step, 0.1, **GOOD)


def test_boundaries_are_valid():
    for edge in (dict(warmup_steps=0), dict(T_0=1, T_mult=1), dict(warmup_start_factor=1.0), dict(cycle_decay=1.0)):
        sgdr_lr(0, 0.1, **{**GOOD, **edge})
    assert sgdr_lr(0, 0.1, **{**GOOD, "warmup_steps": 0}) == 0.1  # no warmup: start at the peak
    assert sgdr_lr(0, 0.1, **{**GOOD, "warmup_start_factor": 0.25}) == 0.025
