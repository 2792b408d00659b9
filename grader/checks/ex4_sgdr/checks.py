"""Exercise 4: linear warmup + SGDR, as a function and as a scheduler (ex4_sgdr.py), check by check in the contract's order.

Each check below is one property from the exercise's contract:

- ``sgdr_lr(step, base_lr, ...)``: right during warmup, strictly inside the cosine cycles,
  exactly at every restart, and quickly for huge steps; ValueError for invalid arguments.
- ``WarmupSGDR(optimizer, ...)``: every param group follows sgdr_lr from its own initial
  lr; state_dict() / load_state_dict() resume mid-cycle; any torch optimizer works;
  ValueError for invalid arguments; with no warmup and no decay it gives the lrs of
  torch's CosineAnnealingWarmRestarts.

The ``sgdr_lr`` checks split the schedule by region (warmup, inside cycles, restarts, huge
steps); the ``WarmupSGDR`` checks accept the rates of either the reference or the student's
own ``sgdr_lr`` (``comparisons.py``), so a wrong formula costs the formula's checks and not
the scheduler's too.

The student's code runs in the drivers (``drivers.py``): they build the optimizers and the
scheduler, step them, and return the learning rates as plain numbers. The expected rates
(``ref.sgdr_lr`` in ``oracles.py``, torch's ``CosineAnnealingWarmRestarts``) are computed and
compared here, in the grading process.
"""

from __future__ import annotations

import torch
from hypothesis import example, given
from hypothesis import strategies as st

from grader import strategies as S
from grader.checks.ex4_sgdr.comparisons import assert_follows_schedule, assert_lrs, matches
from grader.checks.ex4_sgdr.drivers import OPTIMIZERS, SGD, new_scheduler, resumed_lrs, scheduled_lrs, trained_lrs
from grader.compare import assert_raises
from grader.feedback import fail
from grader.probes import time_limit
from grader.spec import check

#: Seconds one call may take before it counts as a hang (a loop over 10**12 steps, or a bad
#: T_0 that never ends). Generous on purpose: on a loaded machine a fresh worker's start,
#: included in the first call after a failure, took over 2 s and cost correct answers a point.
HANG_GUARD_S = 10.0


# -- sgdr_lr(step, base_lr, ...) ------------------------------------------------------------


@check(
    2,
    needs_reference=True,
    ja="ウォームアップ中 (step < warmup_steps) の学習率が正しい",
    en="sgdr_lr is right during warmup (step < warmup_steps)",
    hint_ja="step < warmup_steps では base_lr * (f + (1 - f) * step / warmup_steps) です (f = warmup_start_factor)。"
    "step = 0 で base_lr * f、step = warmup_steps でちょうど base_lr になります。(step + 1) にしていませんか?",
    hint_en="For step < warmup_steps the rate is base_lr * (f + (1 - f) * step / warmup_steps), f = warmup_start_factor: "
    "base_lr * f at step 0, reaching base_lr exactly at step = warmup_steps. Did you use step + 1?",
)
@given(config=S.sgdr_configs(min_warmup=1), base_lr=S.BASE_LRS)
@S.explicit("config", [c for c in S.SGDR_SCENARIOS if c.warmup_steps], base_lr=0.1)
def test_warmup_values(student, config, base_lr):
    assert_lrs(student, range(config.warmup_steps), base_lr, config)


@check(
    2,
    needs_reference=True,
    ja="コサイン周期の内側 (再スタート以外) の学習率が正しい",
    en="sgdr_lr is right strictly inside the cosine cycles",
    hint_ja="s = step - warmup_steps から周期の長さ T_0, T_0*T_mult, T_0*T_mult**2, ... を順に引き、周期番号 i と周期内の位置を求めます。"
    "学習率は eta_min + (base_lr * cycle_decay**i - eta_min) * (1 + cos(pi * 位置 / T_i)) / 2 です (i は 0 から数えます)。",
    hint_en="Subtract the cycle lengths T_0, T_0*T_mult, T_0*T_mult**2, ... from s = step - warmup_steps to find cycle i "
    "and the position in it; the rate is eta_min + (base_lr * cycle_decay**i - eta_min) * (1 + cos(pi * pos / T_i)) / 2 "
    "(i counts from 0).",
)
@given(positions=S.inside_positions(), config=S.sgdr_configs(), base_lr=S.BASE_LRS)
@S.explicit("config", S.SGDR_SCENARIOS, positions=S.INSIDE_POSITIONS, base_lr=0.1)
def test_inside_cycle_values(student, positions, config, base_lr):
    assert_lrs(student, S.inside_steps(config, positions), base_lr, config)


@check(
    2,
    needs_reference=True,
    ja="再スタートの瞬間の学習率が正確 (ピーク base_lr * cycle_decay**i)",
    en="sgdr_lr is exact at every restart (the peak base_lr * cycle_decay**i)",
    hint_ja="周期番号を math.log などの浮動小数点の対数で求めると、ちょうど再スタートの step で 1 つ前の周期の終わり (eta_min) になることがあります"
    " (例: T_0=1, T_mult=3, step=121)。整数だけで求めましょう: 周期の長さを順に引く、または T_mult**i を掛け算で求めて比べる。",
    hint_en="A floating-point log (math.log) puts some restart steps at the end of the previous cycle (eta_min), e.g. "
    "T_0=1, T_mult=3, step 121. Find the cycle with integers only: subtract cycle lengths, or compare against "
    "T_mult**i built by multiplication.",
)
@given(config=S.restart_configs(), base_lr=S.BASE_LRS)
@example(  # the restart at step 121 that a float log places at the end of cycle 4
    config=S.SGDRConfig(warmup_steps=0, T_0=1, T_mult=3, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=1.0),
    base_lr=1.0,
)
@S.explicit("config", S.SGDR_SCENARIOS, base_lr=0.1)
def test_restart_values(student, config, base_lr):
    assert_lrs(student, S.restart_steps(config), base_lr, config)


@check(
    1,
    needs_reference=True,
    ja="巨大な step (10**12 など) でもすぐに正しい値を返す",
    en="sgdr_lr answers huge steps (10**12, 2**40) quickly and correctly",
    hint_ja="周期を 1 つずつたどるループは T_mult = 1 だと step / T_0 回まわります。T_mult = 1 なら divmod(s, T_0) で、"
    "T_mult > 1 なら T_mult**i の比較 (log 回の掛け算) で周期を求めましょう。",
    hint_en="A loop over cycles runs step / T_0 times when T_mult = 1. Use divmod(s, T_0) for T_mult = 1, and compare "
    "against powers T_mult**i (a logarithmic number of multiplications) for T_mult > 1.",
)
def test_huge_steps(student):
    for config in S.HUGE_CONFIGS:
        for step in S.HUGE_STEPS:
            with time_limit(HANG_GUARD_S, f"sgdr_lr({step}, 0.1, T_0={config.T_0}, T_mult={config.T_mult}, ...)"):
                assert_lrs(student, [step], 0.1, config)


#: Valid schedules, each spoilt by one entry of BAD_SCHEDULES at a time. Fixed, not drawn:
#: without validation a bad T_0 or T_mult can loop forever, and a hang must cost one time
#: limit, not one per shrinking attempt.
VALID_SCHEDULES = (
    S.SGDRConfig(warmup_steps=5, T_0=10, T_mult=2, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=1.0),
    S.SGDRConfig(warmup_steps=0, T_0=3, T_mult=1, eta_min=1e-3, warmup_start_factor=0.1, cycle_decay=0.9),
)

BAD_SCHEDULES: dict[str, dict[str, object]] = {
    "T_0 = 0": dict(T_0=0),
    "T_0 = -3": dict(T_0=-3),
    "T_mult = 0": dict(T_mult=0),
    "T_mult = -2": dict(T_mult=-2),
    "T_mult = 1.5 (not an integer)": dict(T_mult=1.5),
    "warmup_steps = -1": dict(warmup_steps=-1),
    "warmup_start_factor = -0.1": dict(warmup_start_factor=-0.1),
    "warmup_start_factor = 1.5": dict(warmup_start_factor=1.5),
    "eta_min = -0.001": dict(eta_min=-1e-3),
    "cycle_decay = 0": dict(cycle_decay=0.0),
    "cycle_decay = -0.5": dict(cycle_decay=-0.5),
    "cycle_decay = 1.5": dict(cycle_decay=1.5),
}

REJECT_HINT_JA = (
    "計算の前に引数を確かめ、T_0 < 1、T_mult < 1 または整数でない、warmup_steps < 0、warmup_start_factor が [0, 1] の外、"
    "eta_min < 0、cycle_decay が (0, 1] の外なら ValueError を送出しましょう。"
)
REJECT_HINT_EN = (
    "Check the arguments first and raise ValueError for T_0 < 1, T_mult < 1 or not an integer, warmup_steps < 0, "
    "warmup_start_factor outside [0, 1], eta_min < 0, or cycle_decay outside (0, 1]."
)


@check(
    1,
    ja="sgdr_lr は不正な引数で ValueError を送出する",
    en="sgdr_lr raises ValueError on invalid arguments",
    hint_ja=REJECT_HINT_JA,
    hint_en=REJECT_HINT_EN,
)
def test_sgdr_lr_rejects_invalid_arguments(student):
    for config in VALID_SCHEDULES:
        for step in (0, 7):  # in warmup (for the first schedule) and after it
            for case, bad in BAD_SCHEDULES.items():
                with time_limit(HANG_GUARD_S, f"sgdr_lr({step}, 0.1, ...) with {case}"):
                    assert_raises(ValueError, student.sgdr_lr, step, 0.1, **{**config.kwargs(), **bad}, case=case)


# -- WarmupSGDR(optimizer, ...) -----------------------------------------------------------------


@check(
    2,
    needs_reference=True,
    ja="WarmupSGDR: step() を t 回呼んだ後、各パラメータグループの lr が sgdr_lr(t, そのグループの初期 lr, ...) になる",
    en="WarmupSGDR: after t calls of step(), each param group's lr is sgdr_lr(t, that group's initial lr, ...)",
    hint_ja="get_lr では self.last_epoch と self.base_lrs (各グループの初期 lr) を使い、グループごとに sgdr_lr を計算して返しましょう。"
    "optimizer.param_groups[i]['lr'] (現在の lr) を基準にすると値が掛け算で積み重なってしまいます。",
    hint_en="In get_lr use self.last_epoch and self.base_lrs (each group's initial lr) and return sgdr_lr for every group. "
    "Starting from param_groups[i]['lr'] (the current lr) compounds the factors step after step.",
)
@given(config=S.sgdr_configs(), lrs=S.group_lrs(), n_steps=st.integers(1, 60))
@S.explicit("config", S.SGDR_SCENARIOS, lrs=[0.1, 1.0], n_steps=30)
def test_scheduler_follows_sgdr_lr_per_group(student, config, lrs, n_steps):
    seen = student.run(scheduled_lrs, config, lrs, n_steps)
    assert_follows_schedule(student, seen, lrs, config, example=dict(lrs=lrs, **config.kwargs()))


@check(
    1,
    ja="WarmupSGDR: state_dict() / load_state_dict() で周期の途中から同じように再開できる",
    en="WarmupSGDR: state_dict() / load_state_dict() resume mid-cycle exactly",
    hint_ja="位置 (何ステップ進んだか) は self.last_epoch などの属性に置き、state_dict() に含まれるようにしましょう。"
    "クロージャの中の変数や state_dict から除いた属性に置くと、再開したときに最初からになってしまいます。",
    hint_en="Keep the position (how many steps were taken) in an attribute such as self.last_epoch that state_dict() "
    "saves; a counter in a closure, or an attribute left out of state_dict(), restarts from zero on resume.",
)
@given(config=S.sgdr_configs(), lrs=S.group_lrs(3), before=st.integers(1, 40), after=st.integers(1, 30))
@S.explicit("config", S.SGDR_SCENARIOS, lrs=[0.1, 1.0], before=7, after=12)
def test_scheduler_state_dict_resumes(student, config, lrs, before, after):
    example = dict(lrs=lrs, steps_before_saving=before, **config.kwargs())
    runs = student.run(resumed_lrs, config, lrs, before, after)
    for t, kept_lrs, again_lrs in zip(range(before + 1, before + after + 1), runs["kept"], runs["resumed"]):
        for g, (kept, again) in enumerate(zip(kept_lrs, again_lrs)):
            if not matches(again, kept):
                raise fail(
                    f"再開した実行の param_groups[{g}]['lr'] が、ステップ {t} で中断しなかった実行と違います / "
                    f"after resuming, param_groups[{g}]['lr'] at step {t} differs from the run that was not interrupted",
                    example={**example, "step": t, "group": g},
                    expected=kept,
                    actual=again,
                )


@check(
    1,
    needs_reference=True,
    ja="WarmupSGDR は SGD・Adam・AdamW・RMSprop のどれとでも使える",
    en="WarmupSGDR works with any torch optimizer (SGD, Adam, AdamW, RMSprop)",
    hint_ja="どのオプティマイザにもあるものだけを使いましょう: 各グループの 'lr' に、初期 lr (self.base_lrs) から計算した値を書きます。"
    "'momentum' のように一部のオプティマイザにしかないキーを読んではいけません。",
    hint_en="Rely only on what every optimizer has: write each group's 'lr', computed from its initial lr (self.base_lrs). "
    "Do not read keys such as 'momentum' that only some optimizers have.",
)
@given(config=S.sgdr_configs(max_warmup=5), base_lr=S.BASE_LRS, n_steps=st.integers(1, 25), seed=S.SEEDS)
@S.explicit("config", S.SGDR_SCENARIOS, base_lr=0.1, n_steps=20, seed=0)
def test_scheduler_works_with_any_optimizer(student, config, base_lr, n_steps, seed):
    by_optimizer = student.run(trained_lrs, config, base_lr, n_steps, seed)
    for name in OPTIMIZERS:
        example = dict(optimizer=name, lr=base_lr, **config.kwargs())
        assert_follows_schedule(student, by_optimizer[name], [base_lr], config, example=example)


@check(
    1,
    ja="WarmupSGDR は不正な引数で ValueError を送出する",
    en="WarmupSGDR raises ValueError on invalid arguments",
    hint_ja=REJECT_HINT_JA + " super().__init__ を呼ぶ前に確かめると確実です。",
    hint_en=REJECT_HINT_EN + " Checking before super().__init__ is the safe place.",
)
def test_scheduler_rejects_invalid_arguments(student):
    def WarmupSGDR(optimizer: SGD, **settings):  # noqa: N802 - stands for the student's class
        return student.run(new_scheduler, optimizer.initial_lrs, settings)

    for config in VALID_SCHEDULES:
        for case, bad in BAD_SCHEDULES.items():
            with time_limit(HANG_GUARD_S, f"WarmupSGDR(optimizer, ...) with {case}"):
                assert_raises(ValueError, WarmupSGDR, SGD([0.1]), **{**config.kwargs(), **bad}, case=case)


@check(
    1,
    ja="ウォームアップなし・減衰なしなら CosineAnnealingWarmRestarts と同じ学習率になる",
    en="with no warmup and no decay, WarmupSGDR gives the same lrs as CosineAnnealingWarmRestarts",
    hint_ja="warmup_steps=0, cycle_decay=1 では torch.optim.lr_scheduler.CosineAnnealingWarmRestarts と一致するはずです。"
    "T_i = T_0 * T_mult**i の伸び方、eta_min の扱い、毎回初期 lr から計算しているかを見直しましょう。",
    hint_en="With warmup_steps=0 and cycle_decay=1 the schedule is torch.optim.lr_scheduler.CosineAnnealingWarmRestarts: "
    "check how T_i = T_0 * T_mult**i grows, how eta_min enters, and that every step starts from the initial lr.",
)
@given(config=S.sgdr_configs(max_warmup=0, cycle_decays=(1.0,)), base_lr=S.BASE_LRS, n_steps=st.integers(1, 100))
@S.explicit("config", [S.SGDRConfig(0, 5, 1, 0.0, 0.0, 1.0, defaults_left_out=True)], base_lr=0.1, n_steps=40)
def test_matches_cosine_annealing_warm_restarts(student, config, base_lr, n_steps):
    # Stepped one step at a time, CosineAnnealingWarmRestarts counts with integers and is
    # right at every step (only its step(epoch) form takes a float log). No float-log trap
    # lies within 100 steps for T_mult <= 4 (the first is step 121), so such a mistake
    # costs test_restart_values alone.
    seen = student.run(scheduled_lrs, config, [base_lr], n_steps)
    torch_optimizer = SGD([base_lr])
    builtin = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        torch_optimizer, T_0=config.T_0, T_mult=config.T_mult, eta_min=config.eta_min
    )
    for t, (actual,) in enumerate(seen):
        if t:
            torch_optimizer.step()
            builtin.step()
        expected = torch_optimizer.param_groups[0]["lr"]
        if not matches(actual, expected):
            raise fail(
                f"ステップ {t} の lr が CosineAnnealingWarmRestarts と違います / "
                f"the lr after {t} step(s) differs from CosineAnnealingWarmRestarts",
                example=dict(lr=base_lr, step=t, **config.kwargs()),
                expected=expected,
                actual=actual,
            )
