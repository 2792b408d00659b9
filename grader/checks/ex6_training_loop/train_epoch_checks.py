"""Exercise 6, train_epoch(model, loader, optimizer, loss_fn, ...): the weights after one epoch (plain, accumulated,
clipped, scheduled), accumulation against one big batch, stale gradients, the scheduler's steps, what it returns,
and the graphs it keeps."""

from __future__ import annotations

import dataclasses

import torch
from hypothesis import example, given
from hypothesis import strategies as st

from grader import strategies as S
from grader.checks.ex6_training_loop.comparisons import TOLERANCE, assert_state, epoch_example, to_number
from grader.checks.ex6_training_loop.drivers import graph_lifetimes, scheduler_calls, trained, windows_and_big_batches, with_stale_gradients
from grader.checks.ex6_training_loop.oracles import reference_epoch
from grader.compare import assert_matches, assert_true
from grader.devices import on_devices, on_each_device
from grader.spec import check


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
