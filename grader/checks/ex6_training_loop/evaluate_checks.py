"""Exercise 6, evaluate(model, loader, loss_fn): the mean loss and accuracy, eval mode restored, no graph."""

from __future__ import annotations

import torch
from hypothesis import example, given

from grader import strategies as S
from grader.checks.ex6_training_loop.builders import describe_net, probe_description
from grader.checks.ex6_training_loop.comparisons import TOLERANCE, to_number
from grader.checks.ex6_training_loop.drivers import evaluate_effects, evaluated
from grader.checks.ex6_training_loop.oracles import reference_evaluate
from grader.compare import assert_matches, assert_true
from grader.devices import on_devices, on_each_device
from grader.spec import check


@check(
    2,
    needs_reference=True,
    ja="evaluate: サンプルあたりの平均損失と正解率が参照実装と一致する (最後のバッチが小さくても)",
    en="evaluate: the mean loss per sample and the accuracy equal the reference's (a smaller last batch included)",
    hint_ja="バッチごとに loss.item() * バッチサイズ と正解数を足し、最後にサンプル数で割ります。バッチの平均損失を平均すると、"
    "最後のバッチが小さいときに違う値になります。正解は outputs.argmax(dim=-1) == targets です。",
    hint_en="Per batch, add loss.item() * batch size and the number of hits; divide by the number of samples at the "
    "end. The mean of the batches' mean losses is wrong when the last batch is smaller. A hit is "
    "outputs.argmax(dim=-1) == targets.",
)
@on_devices(half_on_cuda=False)
@given(spec=S.net_specs(), batches=S.batches())
@example(spec=S.NetSpec("mlp", 3, 4, 3, seed=5), batches=S.Batches((3, 3, 1), seed=6))
def test_evaluate_matches_reference(student, device, dtype, spec, batches):
    expected = reference_evaluate(spec, batches, device, dtype)
    actual = student.run(evaluated, spec, batches, device, dtype)
    example = dict(net=describe_net(spec), batch_sizes=list(batches.sizes), data_seed=batches.seed, dtype=dtype)
    assert_true(
        isinstance(actual, dict) and {"loss", "accuracy"} <= set(actual),
        "evaluate は 'loss' と 'accuracy' を持つ dict を返す必要があります / evaluate must return a dict with 'loss' and "
        "'accuracy'",
        example=example,
        actual=actual,
    )
    for key in ("loss", "accuracy"):
        assert_matches(to_number(actual[key]), expected[key], what=f"evaluate(...)['{key}']", example=example, **TOLERANCE[dtype])


@check(
    2,
    ja="evaluate: 評価モードで実行し、終わったら元のモードに戻す。パラメータもバッファ (BatchNorm の統計) も変えない",
    en="evaluate: runs in eval mode, restores the mode it found, and changes no parameter or buffer (BatchNorm's statistics)",
    hint_ja="was_training = model.training を覚えてから model.eval() し、最後に model.train(was_training) で戻します "
    "(try/finally が確実)。学習モードのままだと BatchNorm の running_mean が変わり、ドロップアウトも効いてしまいます。",
    hint_en="Remember was_training = model.training, call model.eval(), and end with model.train(was_training) "
    "(try/finally is safest). In train mode BatchNorm's running_mean changes and dropout is active.",
)
@on_each_device()
@given(spec=S.net_specs(kinds=("mlp",)), batches=S.batches(min_size=2))
def test_evaluate_uses_eval_mode_and_restores_it(student, device, spec, batches):
    for start_training in (True, False):
        effects = student.run(evaluate_effects, spec, batches, device, torch.float32, start_training)
        example = dict(net=probe_description(spec), batch_sizes=list(batches.sizes), model_mode="train" if start_training else "eval")
        assert_true(
            all(not any(modes) for modes in effects["forward_modes"]),
            "evaluate の forward が評価モードではありません (model.eval() を呼んでいますか?) / evaluate's forward did not run "
            "in eval mode (is model.eval() called?)",
            example=example,
        )
        assert_true(
            not effects["changed"],
            f"evaluate がモデルの値を変えました / evaluate changed the model: {effects['changed']}",
            example=example,
        )
        assert_true(
            all(mode == start_training for mode in effects["modes_after"]),
            "evaluate の後、モデル (とそのすべてのモジュール) が呼び出し前のモードに戻っていません / after evaluate, the model "
            "(and every module in it) is not back in the mode it was in before the call",
            example=example,
            expected=f"training={start_training} for every module",
            actual=f"training flags of the modules: {effects['modes_after']}",
        )


@check(
    1,
    ja="evaluate: 計算グラフを作らない (torch.no_grad() か torch.inference_mode() の中で実行する)",
    en="evaluate: builds no graph (runs under torch.no_grad() or torch.inference_mode())",
    hint_ja="評価のループ全体を with torch.no_grad(): (または torch.inference_mode()) で囲みましょう。グラフを作ると、"
    "使わない勾配のために中間結果をすべてメモリに残します。",
    hint_en="Wrap the whole evaluation loop in with torch.no_grad(): (or torch.inference_mode()). Building a graph "
    "keeps every intermediate result in memory for gradients nobody will take.",
)
@on_each_device()
@given(spec=S.net_specs(kinds=("mlp",)), batches=S.batches(min_size=2))
def test_evaluate_builds_no_graph(student, device, spec, batches):
    effects = student.run(evaluate_effects, spec, batches, device, torch.float32, True)
    assert_true(
        not any(effects["grad_enabled"]),
        "evaluate の forward で勾配の計算が有効でした / gradients were enabled during evaluate's forward",
        example=dict(net=probe_description(spec), batch_sizes=list(batches.sizes)),
    )
