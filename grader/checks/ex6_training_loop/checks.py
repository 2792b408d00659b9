"""Exercise 6: the chapter's training loop, graded by what it does to the weights (ex6_training_loop.py).

Each check below is one property from the exercise's contract, in the contract's order.
A loop is judged by its effect: the weights of a small seeded net after the student's
``train_epoch`` are compared with the weights after the reference's, for SGD, momentum SGD
and AdamW, with accumulation, clipping and a scheduler each in a check of its own; other
checks compare the student's loop with itself (accumulated micro-batches against one big
batch, stale gradients against clean ones) or watch it with instruments (how long each
micro-batch's graph lives, when the scheduler steps, the mode of each forward).

The student's code runs in the drivers of ``drivers.py``; the reference's in the
oracle calls at the end of this file, which build the same nets, optimizers and loaders
from the same plain data. Everything is compared here, in the grading process.

Cases: float32 and float64, on the CPU and on CUDA, as the exercise's contract says (no
half-precision cases); checks of a property with no dtype of its own run in float32.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

import torch
from hypothesis import example, given
from hypothesis import strategies as st

from grader import strategies as S
from grader.checks.ex6_training_loop.drivers import (
    bad_call,
    early_stopping_resumed,
    early_stopping_walk,
    evaluate_effects,
    evaluated,
    fitted,
    graph_lifetimes,
    groups_of,
    own_epochs,
    restore_effects,
    scheduler_calls,
    snapshot_then_train,
    trained,
    windows_and_big_batches,
    with_stale_gradients,
)
from grader.checks.ex6_training_loop.builders import (
    ScriptedStopper,
    build_net,
    describe_net,
    describe_zoo,
    loss_fn,
    make_loader,
    probe_description,
    setup,
    state_of,
    val_loader,
    zoo,
)
from grader.compare import assert_matches, assert_raises, assert_true
from grader.devices import on_devices, on_each_device
from grader.feedback import CheckFailure, fail
from grader.oracle import oracle, reference
from grader.spec import check

ref = reference("training_loop")

#: Floats computed in a dtype (losses, gradient norms) compare with assert_close's tolerances for it.
TOLERANCE = {torch.float32: dict(rtol=1.3e-6, atol=1e-5), torch.float64: dict(rtol=1e-7, atol=1e-7)}


# -- param_groups(model, weight_decay) ------------------------------------------------------------


@check(
    2,
    ja="param_groups: グループは 2 つ (減衰あり、減衰なし の順)。学習可能なパラメータがそれぞれちょうど 1 回、"
    "named_parameters() の順に入り、AdamW が受け付ける",
    en="param_groups: two groups (decay, then no decay) holding each trainable parameter exactly once, in "
    "named_parameters() order, and AdamW accepts them",
    hint_ja="model.named_parameters() を 1 回だけ回し、requires_grad が False のものは飛ばして、2 つのリストのどちらかに入れましょう。"
    "named_parameters() は共有された重み (tied weights) を 1 回しか返しません。片方が空でもグループは 2 つ返し、"
    "各グループには 'params' と 'weight_decay' (1 つ目は weight_decay、2 つ目は 0.0) を入れます。",
    hint_en="Loop once over model.named_parameters(), skip those with requires_grad=False, and put each into one of "
    "two lists; named_parameters() lists a shared (tied) weight once. Return two groups even when one is empty, each "
    "with 'params' and 'weight_decay' (weight_decay for the first, 0.0 for the second).",
)
@given(spec=S.zoo_specs(), weight_decay=st.sampled_from([0.0, 0.01, 0.1]))
@example(spec=S.ZooSpec((("fc", "Linear", False), ("ln", "LayerNorm", True)), tied=True), weight_decay=0.05)
@example(spec=S.ZooSpec((("fc", "Linear(bias=False)", False),)), weight_decay=0.1)  # nothing to exempt
def test_param_groups_hold_each_trainable_parameter_once(student, spec, weight_decay):
    facts = student.run(groups_of, spec, weight_decay)
    example = dict(model=describe_zoo(spec), weight_decay=weight_decay)
    groups = two_groups(facts, example)
    for i, (group, wanted) in enumerate(zip(groups, (weight_decay, 0.0))):
        missing = {"params", "weight_decay"} - set(group["keys"])
        assert_true(
            not missing,
            f"グループ {i} にキー {sorted(missing)} がありません / group {i} has no key {sorted(missing)}",
            example=example,
        )
        assert_matches(group["weight_decay"], wanted, what=f"param_groups(...)[{i}]['weight_decay']", example=example)
    listed = groups[0]["params"] + groups[1]["params"]
    trainable = facts["trainable"]
    twice = sorted({name for name in listed if listed.count(name) > 1})
    assert_true(
        not twice,
        f"2 回以上現れるパラメータがあります (共有された重みは 1 回) / parameters listed more than once (a tied weight "
        f"counts once): {twice}",
        example=example,
    )
    extra = [name for name in listed if name not in trainable]
    assert_true(
        not extra,
        f"学習しないパラメータ (requires_grad=False) が入っています / frozen parameters (requires_grad=False) are "
        f"listed: {extra}",
        example=example,
    )
    left_out = [name for name in trainable if name not in listed]
    assert_true(not left_out, f"入っていないパラメータがあります / parameters left out: {left_out}", example=example)
    for i, group in enumerate(groups):
        in_order = [name for name in trainable if name in group["params"]]
        assert_true(
            group["params"] == in_order,
            f"グループ {i} のパラメータが named_parameters() の順になっていません / group {i} is not in "
            "named_parameters() order",
            example=example,
            expected=in_order,
            actual=group["params"],
        )
    assert_true(
        facts["adamw_error"] is None,
        "torch.optim.AdamW(param_groups(...)) が失敗しました / torch.optim.AdamW(param_groups(...)) failed",
        example=example,
        detail=str(facts["adamw_error"]),
    )


@check(
    2,
    needs_reference=True,
    ja="param_groups: 減衰しないのは「bias」という名前で登録されたパラメータと正規化層 (LayerNorm・BatchNorm・GroupNorm・"
    "RMSNorm とそのサブクラス) のパラメータだけ",
    en="param_groups: exempt from decay are exactly the parameters registered as `bias` and those of normalisation "
    "layers (LayerNorm, BatchNorm, GroupNorm, RMSNorm and their subclasses)",
    hint_ja="'norm' in name のようにフルネームの部分文字列で選ぶと、normalizer という名前の Linear を除外し、ln という名前の "
    "LayerNorm を減衰させてしまいます。model.modules() の各モジュールで module.named_parameters(recurse=False) を回し、"
    "登録名が 'bias' か、isinstance(module, (nn.LayerNorm, nn.BatchNorm1d, ...)) かで決めましょう。",
    hint_en="Substrings of the full name ('norm' in name) exempt a Linear named normalizer and decay a LayerNorm named "
    "ln. For each module in model.modules(), loop over module.named_parameters(recurse=False) and decide by the "
    "registration name ('bias') or isinstance(module, (nn.LayerNorm, nn.BatchNorm1d, ...)).",
)
@given(spec=S.zoo_specs(), weight_decay=st.sampled_from([0.01, 0.1]))
@example(  # substring traps: a Linear named normalizer, a LayerNorm named ln, "bias" inside other names
    spec=S.ZooSpec(
        (
            ("normalizer", "Linear", False),
            ("ln", "LayerNorm", False),
            ("biased", "Linear(bias=False)", False),
            ("gate", "Gate(gain, bias_logit)", False),
            ("encoder", "Affine(scale, bias)", False),
        )
    ),
    weight_decay=0.1,
)
@example(  # every kind of normalisation layer, a subclass and a nested one included
    spec=S.ZooSpec(
        (
            ("fc", "BatchNorm1d", False),
            ("head", "BatchNorm2d", False),
            ("gate", "GroupNorm", False),
            ("bn", "RMSNorm", False),
            ("encoder", "LayerNorm subclass", False),
        )
    ),
    weight_decay=0.1,
)
@example(spec=S.ZooSpec((("layer_norm", "Sequential(Linear, LayerNorm)", False), ("bias_proj", "Embedding", False))), weight_decay=0.1)
def test_param_groups_exempt_biases_and_norm_layers(student, spec, weight_decay):
    expected = reference_groups(spec, weight_decay)
    facts = student.run(groups_of, spec, weight_decay)
    example = dict(model=describe_zoo(spec), weight_decay=weight_decay)
    groups = two_groups(facts, example)
    decayed, exempt = set(groups[0]["params"]), set(groups[1]["params"])
    wrongly_exempt = [name for name in expected["decay"] if name in exempt and name not in decayed]
    wrongly_decayed = [name for name in expected["no_decay"] if name in decayed and name not in exempt]
    if wrongly_exempt or wrongly_decayed:
        raise fail(
            "減衰するかどうかの選び方が違います / the choice of which parameters decay is wrong",
            example=example,
            detail="\n".join(
                line
                for line in (
                    f"減衰すべきなのに除外 / exempt but should decay: {wrongly_exempt}" if wrongly_exempt else "",
                    f"除外すべきなのに減衰 / decayed but should be exempt: {wrongly_decayed}" if wrongly_decayed else "",
                )
                if line
            ),
        )


# -- train_epoch(model, loader, optimizer, loss_fn, ...) ----------------------------------------------


@check(
    3,
    needs_reference=True,
    ja="train_epoch: SGD・モーメンタム SGD・AdamW で 1 エポック学習した後の重みが参照実装と一致する (学習モードで)",
    en="train_epoch: after one epoch with SGD, momentum SGD or AdamW the weights equal the reference's (trained in train mode)",
    hint_ja="各バッチで: バッチを device へ移す → model(inputs) → loss_fn → loss.backward() → optimizer.step() → 勾配を消す。"
    "最初に model.train() を呼び、呼ぶ前から残っていた勾配も消しておきます。zero_grad を backward と step の間に置くと"
    "勾配が 0 のまま更新してしまいます。",
    hint_en="Per batch: move it to the device, model(inputs), loss_fn, loss.backward(), optimizer.step(), clear the "
    "gradients. Call model.train() first, and clear gradients left from before. zero_grad between backward and step "
    "steps with zero gradients.",
)
@on_devices(half_on_cuda=False)
@given(spec=S.net_specs(), batches=S.batches(), config=S.train_configs())
def test_train_epoch_matches_reference(student, device, dtype, spec, batches, config):
    expected = reference_epoch(spec, batches, config, device, dtype)
    mine = student.run(trained, spec, batches, config, device, dtype, start_in_eval=True)
    example = epoch_example(spec, batches, config, dtype, model="in eval mode when train_epoch is called")
    assert_true(
        all(mine["modes"]),
        "学習中の forward が評価モードで実行されました (最初に model.train() を呼んでいますか?) / a forward during training "
        "ran in eval mode (does train_epoch call model.train() first?)",
        example=example,
    )
    assert_state(mine["state"], expected["state"], "after train_epoch", example)


@check(
    2,
    needs_reference=True,
    ja="train_epoch: 勾配累積 (accumulation_steps > 1、最後の窓が短い場合も) の後の重みが参照実装と一致する",
    en="train_epoch: with gradient accumulation (accumulation_steps > 1, a short last window included) the weights "
    "equal the reference's",
    hint_ja="accumulation_steps 個のマイクロバッチで 1 回 step します。各マイクロバッチの損失を「その窓の長さ」で割ってから "
    "backward すると、勾配は窓の平均になります。最後の窓は短いことがあります: 捨てずに、accumulation_steps ではなく"
    "その窓の実際の長さで割りましょう。",
    hint_en="Step once per window of accumulation_steps micro-batches. Divide each micro-batch's loss by the length of "
    "its window before backward, so the gradient is the window's mean. The last window may be shorter: do not drop "
    "it, and divide by its real length, not by accumulation_steps.",
)
@on_devices(half_on_cuda=False)
@given(spec=S.net_specs(), batches=S.batches(2, 6), config=S.train_configs(accumulation=True))
@example(  # windows of 2: the last one holds a single micro-batch
    spec=S.NetSpec("mlp", 3, 4, 3, seed=1),
    batches=S.Batches((2, 2, 2, 1, 2), seed=2),
    config=S.TrainConfig("SGD", accumulation_steps=2),
)
def test_train_epoch_accumulation_matches_reference(student, device, dtype, spec, batches, config):
    expected = reference_epoch(spec, batches, config, device, dtype)
    mine = student.run(trained, spec, batches, config, device, dtype)
    assert_state(mine["state"], expected["state"], "after train_epoch", epoch_example(spec, batches, config, dtype))


@check(
    2,
    needs_reference=True,
    ja="train_epoch: 勾配クリッピング (max_grad_norm) ありの重みが参照実装と一致する",
    en="train_epoch: with gradient clipping (max_grad_norm) the weights equal the reference's",
    hint_ja="torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm) は、窓の勾配がそろった後、optimizer.step() の"
    "「前」に呼びます。step の後でクリップしても、更新にはもう効きません。",
    hint_en="Call torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm) once the window's gradients are "
    "complete, BEFORE optimizer.step(): clipping after the step no longer changes the update.",
)
@on_devices(half_on_cuda=False)
@given(spec=S.net_specs(), batches=S.batches(), config=S.train_configs(clipping=True))
def test_train_epoch_clipping_matches_reference(student, device, dtype, spec, batches, config):
    expected = reference_epoch(spec, batches, config, device, dtype)
    mine = student.run(trained, spec, batches, config, device, dtype)
    assert_state(mine["state"], expected["state"], "after train_epoch", epoch_example(spec, batches, config, dtype))


@check(
    2,
    needs_reference=True,
    ja="train_epoch: スケジューラ (LambdaLR) ありの重みが参照実装と一致する",
    en="train_epoch: with a scheduler (LambdaLR) the weights equal the reference's",
    hint_ja="scheduler.step() は optimizer.step() の「後」に、optimizer.step() 1 回につき 1 回だけ呼びます "
    "(勾配累積中のマイクロバッチごとではありません)。先に呼ぶと、最初の更新から次の学習率を使ってしまいます。",
    hint_en="Call scheduler.step() AFTER optimizer.step(), once per optimizer step (not once per micro-batch while "
    "accumulating). Calling it first makes even the first update use the next learning rate.",
)
@on_devices(half_on_cuda=False)
@given(spec=S.net_specs(), batches=S.batches(), config=S.train_configs(scheduler=True))
def test_train_epoch_scheduler_matches_reference(student, device, dtype, spec, batches, config):
    expected = reference_epoch(spec, batches, config, device, dtype)
    mine = student.run(trained, spec, batches, config, device, dtype)
    assert_state(mine["state"], expected["state"], "after train_epoch", epoch_example(spec, batches, config, dtype))


@check(
    2,
    ja="train_epoch: 同じ大きさの k 個のマイクロバッチを累積した 1 ステップは、それらをつなげた 1 バッチの 1 ステップと同じ重みになる",
    en="train_epoch: accumulating k equal micro-batches gives the same weights as one step on their concatenation",
    hint_ja="窓の勾配はマイクロバッチの勾配の「平均」です。損失を窓の長さで割らずに backward すると、勾配が k 倍になります。",
    hint_en="A window's gradient is the MEAN of its micro-batches' gradients: without dividing each loss by the "
    "window's length before backward, the gradient is k times too large.",
)
@on_devices(half_on_cuda=False)
@given(spec=S.net_specs(), windows=S.equal_windows(), optimizer=st.sampled_from(S.OPTIMIZER_NAMES))
def test_accumulation_equals_one_big_batch(student, device, dtype, spec, windows, optimizer):
    batches, k = windows
    config = S.TrainConfig(optimizer, accumulation_steps=k)
    states = student.run(windows_and_big_batches, spec, batches, config, device, dtype)
    example = epoch_example(spec, batches, config, dtype)
    assert_state(
        states["windows"],
        states["big batches"],
        f"after windows of {k} micro-batches (expected: one step per concatenated batch)",
        example,
        problem="累積した勾配での重みが、つなげたバッチでの重みと違います / the weights after accumulating differ from "
        "the weights after one step per concatenated batch",
    )


@check(
    2,
    ja="train_epoch: 呼ぶ前に残っていた勾配は使わず、返るときには勾配が消えている",
    en="train_epoch: gradients left before the call change nothing, and none are left when it returns",
    hint_ja="最初の backward の前に optimizer.zero_grad() (または model.zero_grad()) を呼び、各 step の後にも消します。"
    "「zero_grad → backward → step」の順だと、最後の step の勾配が残ったまま返ります。",
    hint_en="Call optimizer.zero_grad() (or model.zero_grad()) before the first backward, and after each step. With "
    "the order zero_grad, backward, step the last step's gradients are still there when train_epoch returns.",
)
@on_each_device()
@given(spec=S.net_specs(), batches=S.batches(), config=S.train_configs(accumulation=None), seed=S.SEEDS)
def test_stale_gradients_are_ignored_and_cleared(student, device, spec, batches, config, seed):
    dtype = torch.float32
    runs = student.run(with_stale_gradients, spec, batches, config, device, dtype, seed)
    example = epoch_example(spec, batches, config, dtype)
    assert_state(
        runs["stale"],
        runs["clean"],
        "after train_epoch with stale gradients (expected: the same without them)",
        example,
        problem="呼ぶ前に残っていた勾配が更新に入りました / gradients left before the call reached the update",
    )
    for run in ("clean", "stale"):
        left = runs[f"{run} grads left"]
        assert_true(
            not left,
            f"train_epoch が返った後も勾配が残っています / gradients are left after train_epoch returns: {left}",
            example=example,
        )


@check(
    2,
    ja="train_epoch: scheduler.step() は optimizer.step() の後に、1 回につき 1 回だけ呼ばれる",
    en="train_epoch: scheduler.step() is called after each optimizer.step(), once per optimizer step",
    hint_ja="窓の終わりで optimizer.step() → scheduler.step() の順に呼びます。マイクロバッチごとに呼んだり、最後の短い窓を"
    "捨てたりすると回数が合いません。",
    hint_en="At the end of each window call optimizer.step(), then scheduler.step(). Calling it per micro-batch, or "
    "dropping the short last window, gives the wrong number of calls.",
)
@on_each_device()
@given(spec=S.net_specs(), batches=S.batches(1, 6), config=S.train_configs(scheduler=True, accumulation=None))
def test_scheduler_steps_once_after_each_optimizer_step(student, device, spec, batches, config):
    seen = student.run(scheduler_calls, spec, batches, config, device, torch.float32)
    n_steps = -(-len(batches.sizes) // config.accumulation_steps)
    assert_true(
        seen == list(range(1, n_steps + 1)),
        "scheduler.step() の呼び方が違います / scheduler.step() is not called once after each optimizer.step()",
        example=epoch_example(spec, batches, config, torch.float32),
        expected=list(range(1, n_steps + 1)),
        actual=seen,
        detail="各 scheduler.step() の時点での optimizer.step() の回数 / for each scheduler.step(), the number of "
        "optimizer steps taken by then",
    )


@check(
    2,
    needs_reference=True,
    ja="train_epoch の返り値: サンプルあたりの平均損失 (float)、ステップ数、クリップ前の勾配ノルムが参照実装と一致する",
    en="train_epoch returns the mean loss per sample (a float), the number of steps and the gradient norms before "
    "clipping, as the reference does",
    hint_ja="loss は loss.item() * バッチサイズ の合計をサンプル数で割ります (バッチの平均の平均ではありません)。"
    "grad_norms には clip_grad_norm_ の返り値 (クリップ前の全体ノルム) を step ごとに 1 つ、max_grad_norm が None なら空のリスト。",
    hint_en="loss is the sum of loss.item() * batch size over the epoch divided by the number of samples (not the mean "
    "of batch means). grad_norms holds what clip_grad_norm_ returns (the total norm before clipping), one per step; "
    "an empty list when max_grad_norm is None.",
)
@on_devices(half_on_cuda=False)
@given(spec=S.net_specs(), batches=S.batches(), config=S.train_configs(accumulation=None, clipping=None))
@example(  # uneven batches: the mean of batch means is not the mean per sample
    spec=S.NetSpec("linear", 3, 2, 3, seed=3),
    batches=S.Batches((4, 4, 1), seed=4, dataloader=True),
    config=S.TrainConfig("SGD", 1, 1.0),
)
def test_train_epoch_returns_loss_steps_and_grad_norms(student, device, dtype, spec, batches, config):
    # A scheduler that sets the lr to 0: the weights stay as they are, so what train_epoch returns depends on
    # how it counts, averages and measures, not on whether its updates are right (the checks above see to those).
    config = dataclasses.replace(config, lr_factors=(0.0,))
    expected = reference_epoch(spec, batches, config, device, dtype)["result"]
    actual = student.run(trained, spec, batches, config, device, dtype)["result"]
    example = epoch_example(spec, batches, config, dtype)
    assert_true(
        isinstance(actual, dict) and {"loss", "steps", "grad_norms"} <= set(actual),
        "train_epoch は 'loss'、'steps'、'grad_norms' を持つ dict を返す必要があります / train_epoch must return a dict "
        "with 'loss', 'steps' and 'grad_norms'",
        example=example,
        actual=actual,
    )
    assert_matches(actual["loss"], expected["loss"], what="train_epoch(...)['loss']", example=example, **TOLERANCE[dtype])
    assert_matches(actual["steps"], expected["steps"], what="train_epoch(...)['steps']", example=example, exact=True)
    norms = actual["grad_norms"]
    assert_true(
        isinstance(norms, list) and len(norms) == len(expected["grad_norms"]),
        "grad_norms の長さが違います (ステップごとに 1 つ、max_grad_norm が None なら空) / grad_norms has the wrong length "
        "(one per step; empty when max_grad_norm is None)",
        example=example,
        expected=expected["grad_norms"],
        actual=norms,
    )
    for i, (norm, want) in enumerate(zip(norms, expected["grad_norms"])):
        assert_matches(to_number(norm), want, what=f"train_epoch(...)['grad_norms'][{i}]", example=example, **TOLERANCE[dtype])


@check(
    2,
    ja="train_epoch: 計算グラフは次のマイクロバッチの forward より長く残らず、返り値もグラフを持たない",
    en="train_epoch: no graph outlives the next micro-batch's forward, and nothing returned holds one",
    hint_ja="損失を足すときは loss.item() (Python の float) を足しましょう。total += loss のようにテンソルのまま足すと、"
    "各マイクロバッチの計算グラフがエポックの終わりまで (返り値に入れればその後も) 残り、メモリが増え続けます。",
    hint_en="Add up loss.item() (a Python float). Adding the tensor (total += loss) keeps every micro-batch's graph "
    "alive until the end of the epoch (and after it, if returned): memory grows with every batch.",
)
@on_each_device()
@given(spec=S.net_specs(), batches=S.batches(2, 6), config=S.train_configs(accumulation=None))
def test_train_epoch_keeps_no_graph(student, device, spec, batches, config):
    lives = student.run(graph_lifetimes, spec, batches, config, device, torch.float32)
    example = epoch_example(spec, batches, config, torch.float32)
    late = [i for i, alive in enumerate(lives["older_graphs"]) if alive]
    assert_true(
        not late,
        f"マイクロバッチ {late[0] if late else '?'} の forward の時点で、2 つ以上前のマイクロバッチの計算グラフが残っています "
        f"(テンソルの損失を足し続けていませんか?) / at the forward of micro-batch {late[0] if late else '?'}, graphs of "
        "micro-batches before the previous one are still alive (are loss tensors being added up?)",
        example=example,
        detail=f"各 forward の時点で残っていた古いグラフの数 / old graphs alive at each forward: {lives['older_graphs']}",
    )
    assert_true(
        not lives["result_holds_graph"] and not lives["after_return"],
        "train_epoch が返った後も計算グラフが残っています (返り値に requires_grad のテンソルが入っていませんか?) / a graph is "
        "still alive after train_epoch returned (does the result hold a tensor that requires grad?)",
        example=example,
    )


# -- evaluate(model, loader, loss_fn) -------------------------------------------------------------------


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


# -- snapshot(model), restore(model, snap) -------------------------------------------------------------


@check(
    2,
    ja="snapshot: 後で学習してもスナップショットは変わらない (すべてのテンソルを detach して clone、同じデバイス・dtype)",
    en="snapshot: later training does not change the snapshot (every tensor detached and cloned, same device and dtype)",
    hint_ja="state_dict().copy() や dict(state_dict()) は浅いコピーで、学習中のテンソルそのものを指しています。"
    "{k: v.detach().clone() for k, v in model.state_dict().items()} のように、各テンソルを複製しましょう。",
    hint_en="state_dict().copy() and dict(state_dict()) are shallow copies: they hold the live tensors training "
    "changes. Clone each tensor: {k: v.detach().clone() for k, v in model.state_dict().items()}.",
)
@on_each_device()
@given(spec=S.net_specs(kinds=("mlp",)))
def test_snapshot_survives_training(student, device, spec):
    facts = student.run(snapshot_then_train, spec, device, torch.float32)
    example = dict(net=probe_description(spec))
    snap, at_snapshot = facts["snapshot"], facts["at_snapshot"]
    assert_true(
        isinstance(snap, dict) and list(snap) == list(at_snapshot),
        "snapshot は model.state_dict() と同じキー (同じ順) の dict を返す必要があります / snapshot must return a dict with "
        "the keys of model.state_dict(), in order",
        example=example,
        expected=list(at_snapshot),
        actual=list(snap) if isinstance(snap, dict) else snap,
    )
    for key, value in at_snapshot.items():
        entry = facts["entries"].get(key)
        assert_true(
            entry is not None,
            f"snapshot['{key}'] がテンソルではありません / snapshot['{key}'] is not a tensor",
            example=example,
            actual=snap[key],
        )
        assert_true(
            entry["device"] == str(value.device) and entry["dtype"] == value.dtype and not entry["requires_grad"],
            f"snapshot['{key}'] は detach されて同じデバイス・dtype にある必要があります / snapshot['{key}'] must be "
            "detached, on the model's device, in its dtype",
            example=example,
            expected=f"{value.dtype}, {value.device}, requires_grad=False",
            actual=f"{entry['dtype']}, {entry['device']}, requires_grad={entry['requires_grad']}",
        )
        assert_matches(
            snap[key].to(value.device),
            value,
            what=f"snapshot['{key}']",
            example=example,
            exact=True,
            problem=f"学習した後、snapshot['{key}'] が変わりました / snapshot['{key}'] changed when the model trained",
        )


@check(
    2,
    ja="restore: スナップショットの値をモデル自身のテンソルに正確に書き戻し (パラメータのオブジェクトはそのまま)、キーが違えば"
    "エラーにする",
    en="restore: copies the snapshot exactly into the model's own tensors (the parameter objects stay), and refuses "
    "keys that do not match",
    hint_ja="model.load_state_dict(snap, strict=True) を使いましょう。値を既存のテンソルにコピーするので、オプティマイザは"
    "同じパラメータを更新し続け、snapshot 自身も変わりません。strict=False や assign=True、p.data = ... は不可です。",
    hint_en="Use model.load_state_dict(snap, strict=True): it copies the values into the existing tensors, so the "
    "optimizer keeps driving the same parameters and the snapshot itself does not change. Not strict=False, "
    "assign=True, or p.data = ....",
)
@on_each_device()
@given(spec=S.net_specs(kinds=("mlp",)))
def test_restore_gives_back_the_exact_weights(student, device, spec):
    facts = student.run(restore_effects, spec, device, torch.float32)
    example = dict(net=probe_description(spec))
    assert_state(facts["restored"], facts["saved"], "after restore", example, exact=True)
    assert_true(
        facts["same_parameters"],
        "restore でパラメータのオブジェクトが置き換わりました: 先に作ったオプティマイザがモデルを更新できません / restore "
        "replaced the parameter objects: an optimizer built before can no longer train the model",
        example=example,
    )
    assert_state(
        facts["after_step"],
        {name: facts["saved"][name] - 0.5 for name in facts["after_step"]},
        "after restore, then one step of the optimizer built before it (lr 0.5, every gradient 1)",
        example,
        problem="restore の後、先に作ったオプティマイザの更新がモデルに届きません / after restore, the optimizer built "
        "before does not update the model",
    )
    assert_state(
        facts["copy_after_step"],
        facts["saved"],
        "the snapshot after restore and one more step",
        example,
        exact=True,
        problem="restore の後の学習でスナップショットが変わりました (モデルとテンソルを共有していませんか?) / training after "
        "restore changed the snapshot (does the model share its tensors?)",
    )
    for case in ("a key missing", "an unexpected key"):
        raised = facts[case]
        assert_true(
            raised == "RuntimeError",
            f"{case} のスナップショットで restore が RuntimeError を送出しませんでした / restore with {case} did not raise "
            f"RuntimeError (load_state_dict(..., strict=True) does){'' if raised is None else f', it raised {raised}'}",
            example=example,
        )


# -- EarlyStopping(patience, min_delta, mode) ----------------------------------------------------------


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


# -- fit(...) ----------------------------------------------------------------------------------------------

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


# -- bad arguments --------------------------------------------------------------------------------------

BAD_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "param_groups(model, weight_decay=-0.1)": ("param_groups", dict(weight_decay=-0.1)),
    "train_epoch(..., accumulation_steps=0)": ("train_epoch", dict(accumulation_steps=0)),
    "train_epoch(..., accumulation_steps=-2)": ("train_epoch", dict(accumulation_steps=-2)),
    "train_epoch(..., max_grad_norm=0.0)": ("train_epoch", dict(max_grad_norm=0.0)),
    "train_epoch(..., max_grad_norm=-1.0)": ("train_epoch", dict(max_grad_norm=-1.0)),
    "train_epoch(model, [], ...) (an empty loader)": ("train_epoch", dict(loader="empty")),
    "evaluate(model, [], loss_fn) (an empty loader)": ("evaluate", dict(loader="empty")),
    "EarlyStopping(patience=0)": ("EarlyStopping", dict(patience=0)),
    "EarlyStopping(patience=-1)": ("EarlyStopping", dict(patience=-1)),
    "EarlyStopping(patience=3, min_delta=-0.1)": ("EarlyStopping", dict(patience=3, min_delta=-0.1)),
    "EarlyStopping(patience=3, mode='average')": ("EarlyStopping", dict(patience=3, mode="average")),
    "fit(..., epochs=0)": ("fit", dict(epochs=0)),
    "fit(..., epochs=-1)": ("fit", dict(epochs=-1)),
}


@check(
    2,
    ja="不正な引数で ValueError を送出する (weight_decay < 0、accumulation_steps < 1、max_grad_norm <= 0、空の loader、"
    "patience < 1、min_delta < 0、不明な mode、epochs < 1)",
    en="raises ValueError on bad arguments (weight_decay < 0, accumulation_steps < 1, max_grad_norm <= 0, an empty "
    "loader, patience < 1, min_delta < 0, an unknown mode, epochs < 1)",
    hint_ja="計算を始める前に引数を確かめ、違反していれば ValueError を送出しましょう。空の loader は len(loader) == 0 で分かります。",
    hint_en="Check the arguments before doing anything and raise ValueError when one is out of range; an empty loader "
    "has len(loader) == 0.",
)
def test_rejects_bad_arguments(student):
    def call(function: str, arguments: dict[str, Any]) -> None:
        student.run(bad_call, function, arguments)

    for case, (function, arguments) in BAD_CALLS.items():
        assert_raises(ValueError, call, function, arguments, case=case)


# -- comparisons ------------------------------------------------------------------------------------------


def assert_state(
    actual: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    what: str,
    example: dict[str, Any],
    *,
    exact: bool = False,
    problem: str | None = None,
) -> None:
    """Every tensor of ``expected`` (a state_dict) equals ``actual``'s under the same name; the first that does not fails."""
    for name, want in expected.items():
        assert_matches(
            actual[name],
            want,
            what=f"{name} {what}",
            example=example,
            exact=exact,
            problem=None if problem is None else f"{problem}: {name}",
        )


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


def two_groups(facts: dict[str, Any], example: dict[str, Any]) -> list[dict[str, Any]]:
    """The student's param groups, which must be a list of two dicts."""
    groups = facts["groups"]
    assert_true(
        isinstance(groups, list) and len(groups) == 2,
        "param_groups は 2 つの dict のリストを返す必要があります / param_groups must return a list of two dicts",
        example=example,
        actual=groups,
    )
    return groups


def same(a: Any, b: Any) -> bool:
    """Equality of plain data in which NaN equals NaN, a bool is not a number, and 1 == 1.0."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape and bool(torch.equal(a, b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        return a == b or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


def to_number(value: Any) -> Any:
    """A one-element tensor as a float (the checks accept either for a norm or a history entry); anything else as it is."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.item())
    return value


def first_lowest(values: list[Any]) -> int | None:
    """The index of the first lowest value, NaN left out (None if every value is NaN)."""
    best = None
    for i, value in enumerate(values):
        if isinstance(value, numbers.Real) and not math.isnan(value) and (best is None or value < values[best]):
            best = i
    return best


# -- what a failure shows ----------------------------------------------------------------------------------


def epoch_example(spec: S.NetSpec, batches: S.Batches, config: S.TrainConfig, dtype: torch.dtype, **extra: Any) -> dict[str, Any]:
    return dict(
        net=describe_net(spec),
        loader=f"{'DataLoader' if batches.dataloader else 'list'} of batches of sizes {list(batches.sizes)} (data seed {batches.seed})",
        dtype=dtype,
        loss_fn="cross_entropy",
        **config.describe(),
        **extra,
    )


def fit_example(spec: S.NetSpec, plan: S.FitPlan, config: S.TrainConfig, dtype: torch.dtype) -> dict[str, Any]:
    return dict(
        epoch_example(spec, plan.train, config, dtype),
        val_loader=f"batches of sizes {list(plan.val.sizes)} (data seed {plan.val.seed})"
        + (f", a NaN input in epoch(s) {list(plan.nan_epochs)}" if plan.nan_epochs else ""),
        epochs=plan.epochs,
        early_stopping=repr(ScriptedStopper(plan.stop_at)) if plan.stop_at is not None else "never stops",
    )


# -- the reference's side (grading process only): oracle calls, plain data in and out ---------------------


@oracle
def reference_groups(spec: S.ZooSpec, weight_decay: float) -> dict[str, list[str]]:
    """The names in the reference's two groups for ``zoo(spec)``."""
    model = zoo(spec)
    names = {id(p): name for name, p in model.named_parameters()}
    decay, no_decay = ref.param_groups(model, weight_decay)
    return {"decay": [names[id(p)] for p in decay["params"]], "no_decay": [names[id(p)] for p in no_decay["params"]]}


@oracle
def reference_epoch(spec: S.NetSpec, batches: S.Batches, config: S.TrainConfig, device: str, dtype: torch.dtype) -> dict[str, Any]:
    """The reference's train_epoch on the net, loader and optimizer the drivers build: the weights after, and its result."""
    net, optimizer, scheduler = setup(spec, config, device, dtype)
    result = ref.train_epoch(
        net,
        make_loader(spec, batches, dtype),
        optimizer,
        loss_fn,
        scheduler=scheduler,
        max_grad_norm=config.max_grad_norm,
        accumulation_steps=config.accumulation_steps,
    )
    return {"state": state_of(net), "result": result}


@oracle
def reference_evaluate(spec: S.NetSpec, batches: S.Batches, device: str, dtype: torch.dtype) -> dict[str, float]:
    """The reference's evaluate of the net the drivers build."""
    return ref.evaluate(build_net(spec, device, dtype), make_loader(spec, batches, dtype), loss_fn)


@oracle
def reference_early_stopping(config: S.EarlyStoppingConfig, values: list[float]) -> dict[str, Any]:
    """The reference's (best, counter) before any step, and (step(value), best, counter) after each value."""
    stopper = ref.EarlyStopping(**config.kwargs())
    initial = (stopper.best, stopper.counter)
    return {"initial": initial, "steps": [(stopper.step(v), stopper.best, stopper.counter) for v in values]}


@oracle
def reference_fit(spec: S.NetSpec, plan: S.FitPlan, config: S.TrainConfig, device: str, dtype: torch.dtype) -> dict[str, Any]:
    """The reference's fit history on the same net, loaders, optimizer, scheduler and stand-in early stopping."""
    net, optimizer, scheduler = setup(spec, config, device, dtype)
    result = ref.fit(
        net,
        make_loader(spec, plan.train, dtype),
        val_loader(spec, plan, dtype),
        optimizer,
        loss_fn,
        plan.epochs,
        scheduler=scheduler,
        max_grad_norm=config.max_grad_norm,
        accumulation_steps=config.accumulation_steps,
        early_stopping=ScriptedStopper(plan.stop_at),
    )
    return {key: result[key] for key in ("train_loss", "val_loss", "val_accuracy", "lr")}
