"""Exercise 6, snapshot(model) and restore(model, snap): a snapshot later training leaves alone, an exact restore."""

from __future__ import annotations

import torch
from hypothesis import given

from grader import strategies as S
from grader.checks.ex6_training_loop.builders import probe_description
from grader.checks.ex6_training_loop.comparisons import assert_state
from grader.checks.ex6_training_loop.drivers import restore_effects, snapshot_then_train
from grader.compare import assert_matches, assert_true
from grader.devices import on_each_device
from grader.spec import check


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
