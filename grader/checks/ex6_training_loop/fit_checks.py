"""Exercise 6, fit(...): each epoch's history, and the best epoch's weights restored where early stopping stops."""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch
from hypothesis import example, given

from grader import strategies as S
from grader.checks.ex6_training_loop.builders import ScriptedStopper
from grader.checks.ex6_training_loop.comparisons import TOLERANCE, assert_state, epoch_example, same, to_number
from grader.checks.ex6_training_loop.drivers import fitted, own_epochs
from grader.checks.ex6_training_loop.oracles import reference_fit
from grader.compare import assert_matches, assert_true
from grader.devices import on_devices, on_each_device
from grader.feedback import CheckFailure
from grader.spec import check


FIT_KINDS = ("linear", "mlp", "layernorm_mlp")  # inputs that can be NaN (not token ids)

FIT_TIE_AND_NAN = dict(  # a NaN first epoch, then the lr drops to 0: epochs 1 and 2 tie, 1 must win
    spec=S.NetSpec("mlp", 3, 4, 3, seed=7),
    plan=S.FitPlan(3, S.Batches((3, 2), seed=8), S.Batches((2, 2), seed=9), nan_epochs=(0,), stop_at=None),
    config=S.TrainConfig("SGD", lr_factors=(1.0, 1.0, 0.0)),
)


@check(
    2,
    needs_reference=True,
    ja="fit: 各エポックの train_loss・val_loss・val_accuracy・lr が参照実装 (またはあなたの train_epoch と evaluate) と一致する",
    en="fit: each epoch's train_loss, val_loss, val_accuracy and lr match the reference (or your own train_epoch and evaluate)",
    hint_ja="各エポックで train_epoch (scheduler、max_grad_norm、accumulation_steps、device をそのまま渡す) の次に "
    "evaluate(model, val_loader, ...) を呼び、それぞれの 'loss' と 'accuracy'、そしてエポックの後の "
    "optimizer.param_groups[0]['lr'] を記録します。",
    hint_en="Each epoch, call train_epoch (passing scheduler, max_grad_norm, accumulation_steps and device on), then "
    "evaluate(model, val_loader, ...), and record their 'loss' and 'accuracy' and, after the epoch, "
    "optimizer.param_groups[0]['lr'].",
)
@on_devices(half_on_cuda=False)
@given(
    spec=S.net_specs(kinds=FIT_KINDS),
    plan=S.fit_plans(),
    config=S.train_configs(accumulation=None, clipping=None, scheduler=None),
)
@example(**FIT_TIE_AND_NAN)
def test_fit_history_matches_reference(student, device, dtype, spec, plan, config):
    expected = reference_fit(spec, plan, config, device, dtype)
    result = student.run(fitted, spec, plan, config, device, dtype)["result"]
    example = fit_example(spec, plan, config, dtype)
    keys = ("train_loss", "val_loss", "val_accuracy", "lr")
    assert_true(
        isinstance(result, dict) and all(isinstance(result.get(key), list) for key in keys),
        "fit は 'train_loss'、'val_loss'、'val_accuracy'、'lr' のリストを持つ dict を返す必要があります / fit must return a "
        "dict with the lists 'train_loss', 'val_loss', 'val_accuracy' and 'lr'",
        example=example,
        actual=result,
    )
    epochs = min(len(expected["val_loss"]), *(len(result[key]) for key in keys))  # how many ran: the next check's business
    try:
        assert_history(result, expected, epochs, dtype, example)
    except CheckFailure as against_reference:
        own = student.run(own_epochs, spec, plan, config, device, dtype, epochs)
        try:
            assert_history(result, own, epochs, dtype, example)
        except CheckFailure:
            raise against_reference from None


@check(
    3,
    ja="fit: 検証損失が最小の (同じ値なら最初の、NaN は除く) エポックの重みに戻し、early_stopping が True を返したエポックで止まる",
    en="fit: restores the weights of the epoch with the lowest validation loss (the first on ties, never a NaN one), and "
    "stops at the epoch early_stopping says True",
    hint_ja="エポックごとに evaluate の後、検証損失が「それまでの最小より小さい」(NaN でない) ときだけ snapshot(model) を保存し、"
    "次に early_stopping.step(val_loss) が True なら止めます (stopped_early=True)。最後に restore(model, 最良の snapshot)。"
    "best を float('inf') で始めれば NaN は自然に除かれます。",
    hint_en="Each epoch, after evaluate, save snapshot(model) only when the validation loss is strictly below the lowest "
    "so far (and not NaN), then stop if early_stopping.step(val_loss) says True (stopped_early=True). At the end, "
    "restore(model, best snapshot). Starting from best = float('inf') leaves NaN out by itself.",
)
@on_each_device()
@given(spec=S.net_specs(kinds=FIT_KINDS), plan=S.fit_plans(), config=S.train_configs(scheduler=None))
@example(**FIT_TIE_AND_NAN)
@example(  # early stopping fires on the last epoch: still stopped_early
    spec=S.NetSpec("linear", 3, 2, 2, seed=10),
    plan=S.FitPlan(2, S.Batches((2, 1), seed=11), S.Batches((3,), seed=12), stop_at=1),
    config=S.TrainConfig("momentum SGD"),
)
def test_fit_restores_best_epoch_and_stops(student, device, spec, plan, config):
    dtype = torch.float32
    run = student.run(fitted, spec, plan, config, device, dtype)
    result = run["result"]
    example = fit_example(spec, plan, config, dtype)
    assert_true(
        isinstance(result, dict) and isinstance(result.get("val_loss"), list),
        "fit は 'val_loss' のリストを持つ dict を返す必要があります / fit must return a dict with a list 'val_loss'",
        example=example,
        actual=result,
    )
    stops = plan.stop_at is not None
    epochs = plan.stop_at + 1 if stops else plan.epochs
    val_losses = [to_number(v) for v in result["val_loss"]]
    assert_true(
        len(val_losses) == epochs,
        f"fit が {len(val_losses)} エポック学習しました ({epochs} のはず): early_stopping.step が True を返したエポックで止め、"
        f"それまでは止めません / fit ran {len(val_losses)} epoch(s), not {epochs}: it stops at the epoch "
        "early_stopping.step says True, and not before",
        example=example,
        expected=epochs,
        actual=len(val_losses),
    )
    assert_true(
        same(run["asked"], val_losses),
        "early_stopping.step(val_loss) は毎エポック 1 回、そのエポックの検証損失で呼びます / early_stopping.step(val_loss) "
        "is called once per epoch, with that epoch's validation loss",
        example=example,
        expected=val_losses,
        actual=run["asked"],
    )
    assert_true(
        result.get("stopped_early") is stops,
        "stopped_early が違います (最後のエポックで止まっても True) / stopped_early is wrong (True even when stopping on "
        "the last epoch)",
        example=example,
        expected=stops,
        actual=result.get("stopped_early"),
    )
    best = first_lowest(val_losses)
    assert_true(
        result.get("best_epoch") == best,
        "best_epoch が違います (検証損失が最小の最初のエポック、NaN は除く) / best_epoch is wrong (the first epoch with the "
        "lowest validation loss, NaN left out)",
        example=dict(example, val_loss=val_losses),
        expected=best,
        actual=result.get("best_epoch"),
    )
    assert_state(
        run["final"],
        run["epoch_states"][best],
        f"after fit (expected: the weights at the end of epoch {best}, the best one)",
        example,
        exact=True,
        problem=f"fit の後の重みが最良のエポック {best} の重みではありません / after fit the weights are not those of the "
        f"best epoch, {best}",
    )


# -- comparisons ------------------------------------------------------------------------------------------


def assert_history(result: dict[str, Any], expected: dict[str, Any], epochs: int, dtype: torch.dtype, example: dict[str, Any]) -> None:
    """The first ``epochs`` entries of fit's history lists equal ``expected``'s."""
    for key in ("train_loss", "val_loss", "val_accuracy", "lr"):
        for epoch in range(epochs):
            assert_matches(
                to_number(result[key][epoch]),
                expected[key][epoch],
                what=f"fit(...)['{key}'][{epoch}]",
                example=example,
                **TOLERANCE[dtype],
            )


def first_lowest(values: list[Any]) -> int | None:
    """The index of the first lowest value, NaN left out (None if every value is NaN)."""
    best = None
    for i, value in enumerate(values):
        if isinstance(value, numbers.Real) and not math.isnan(value) and (best is None or value < values[best]):
            best = i
    return best


def fit_example(spec: S.NetSpec, plan: S.FitPlan, config: S.TrainConfig, dtype: torch.dtype) -> dict[str, Any]:
    return dict(
        epoch_example(spec, plan.train, config, dtype),
        val_loader=f"batches of sizes {list(plan.val.sizes)} (data seed {plan.val.seed})"
        + (f", a NaN input in epoch(s) {list(plan.nan_epochs)}" if plan.nan_epochs else ""),
        epochs=plan.epochs,
        early_stopping=repr(ScriptedStopper(plan.stop_at)) if plan.stop_at is not None else "never stops",
    )
