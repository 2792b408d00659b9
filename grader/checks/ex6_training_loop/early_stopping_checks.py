"""Exercise 6, EarlyStopping(patience, min_delta, mode): step, best and counter as the reference's, and
state_dict() / load_state_dict()."""

from __future__ import annotations

import math

from hypothesis import example, given

from grader import strategies as S
from grader.checks.ex6_training_loop.comparisons import same
from grader.checks.ex6_training_loop.drivers import early_stopping_resumed, early_stopping_walk
from grader.checks.ex6_training_loop.oracles import reference_early_stopping
from grader.compare import assert_true
from grader.feedback import fail
from grader.spec import check


@check(
    3,
    needs_reference=True,
    ja="EarlyStopping: step の返り値、best、counter が、NaN を含む値の列で参照実装と一致する (min・max の両モード)",
    en="EarlyStopping: what step returns, best and counter follow the reference over sequences with NaN, in both modes",
    hint_ja="改善は mode='min' なら value < best - min_delta (mode='max' なら value > best + min_delta)、同じ値は改善では"
    "ありません。NaN は改善せず best にもならず (最初の値でも) counter に 1 を足します。counter >= patience で True を返し、"
    "その後はずっと True です (counter > patience ではありません)。",
    hint_en="A value improves when value < best - min_delta (mode 'min'; value > best + min_delta for 'max'); a tie "
    "does not. A NaN never improves and never becomes best, even first: it adds 1 to counter. Return True once "
    "counter >= patience (not > patience), and on every later call.",
)
@given(config=S.early_stopping_configs(), values=S.metric_sequences())
@example(config=S.EarlyStoppingConfig(2, 0.0, "min"), values=[math.nan, 1.0, 1.0, 2.0, 0.5])  # NaN first, a tie
@example(config=S.EarlyStoppingConfig(1, 0.5, "min"), values=[2.0, 1.5, 1.0])  # 1.5 is not below 2.0 - 0.5
@example(config=S.EarlyStoppingConfig(3, 0.25, "max"), values=[0.5, 0.75, 1.0, 1.0, math.nan, 0.0, 3.0])
def test_early_stopping_matches_reference(student, config, values):
    expected = reference_early_stopping(config, values)
    actual = student.run(early_stopping_walk, config, values)
    base = dict(patience=config.patience, min_delta=config.min_delta, mode=config.mode)
    assert_true(
        same(actual["initial"], expected["initial"]),
        "最初の step の前は best が None、counter が 0 のはずです / before the first step, best must be None and counter 0",
        example=base,
        expected=dict(zip(("best", "counter"), expected["initial"])),
        actual=dict(zip(("best", "counter"), actual["initial"])),
    )
    for t, ((stop, *state), (want_stop, *want_state)) in enumerate(zip(actual["steps"], expected["steps"])):
        example = dict(base, values=values[: t + 1])
        shown = ("step(value)", "best", "counter")
        if not same(stop, want_stop):
            raise fail(
                f"{t + 1} 回目の step({values[t]}) の返り値が違います / step({values[t]}) returned the wrong value at call {t + 1}",
                example=example,
                expected=want_stop,
                actual=stop,
            )
        if not want_stop and not same(state, want_state):  # after stopping, best and counter are left open
            raise fail(
                f"{t + 1} 回目の step({values[t]}) の後の best・counter が違います / best or counter is wrong after call "
                f"{t + 1}, step({values[t]})",
                example=example,
                expected=dict(zip(shown, (want_stop, *want_state))),
                actual=dict(zip(shown, (stop, *state))),
            )


@check(
    1,
    ja="EarlyStopping: state_dict() は後の step で変わらない新しい dict で、load_state_dict() でそのまま再開できる",
    en="EarlyStopping: state_dict() is a new dict that later steps do not change, and load_state_dict() resumes exactly",
    hint_ja="state_dict() では best、counter、止まったかどうか などを新しい dict に入れて返します (self.__dict__ そのものは不可)。"
    "load_state_dict() ではそれらをすべて戻しましょう。",
    hint_en="state_dict() returns a new dict holding best, counter, whether it has stopped, ... (not self.__dict__ "
    "itself); load_state_dict() puts all of them back.",
)
@given(config=S.early_stopping_configs(), before=S.metric_sequences(6), after=S.metric_sequences(6))
@example(config=S.EarlyStoppingConfig(1, 0.0, "min"), before=[1.0, 1.0], after=[0.0])  # stopped before saving
def test_early_stopping_state_dict_resumes(student, config, before, after):
    runs = student.run(early_stopping_resumed, config, before, after)
    example = dict(patience=config.patience, min_delta=config.min_delta, mode=config.mode, before_saving=before, after_saving=after)
    assert_true(
        same(runs["later"], runs["at_saving"]),
        "state_dict() が返した dict が、その後の step で変わりました (新しい dict を返していますか?) / the dict state_dict() "
        "returned changed with later steps (does it return a new dict?)",
        example=example,
        expected=runs["at_saving"],
        actual=runs["later"],
    )
    for t, (kept, resumed) in enumerate(zip(runs["kept"], runs["resumed"])):  # the same code from the same state
        if not same(resumed, kept):
            raise fail(
                f"再開したインスタンスの {t + 1} 回目の step が、中断しなかったものと違います / after load_state_dict(), "
                f"step {t + 1} differs from the instance that was not interrupted",
                example=example,
                expected=dict(zip(("step(value)", "best", "counter"), kept)),
                actual=dict(zip(("step(value)", "best", "counter"), resumed)),
            )
