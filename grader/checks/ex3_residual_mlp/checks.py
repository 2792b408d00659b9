"""Exercise 3: a depth-variable residual MLP with dropout (ex3_residual_mlp.py), check by check in the contract's order.

Each check below is one property from the exercise's contract:

- Structure: the state_dict has the reference's names and shapes (it loads strictly).
- Values: in eval mode the output matches the reference; in training mode, under the same
  seed, too (the same dropout masks); with dropout=0 training mode equals eval mode; a
  block whose fc2 is zeroed is the identity; any activation (one instance per block) works.
- Gradients: they reach every parameter, with the values the forward implies (gradcheck).
- Arguments: ValueError for a negative depth, a size <= 0, or dropout outside [0, 1).

Value checks build the reference with random weights (LayerNorm's included; ``oracles.py``)
and hand its state_dict to a driver (``drivers.py``), which builds the student's model with the
same config, loads the state with strict=True and returns the model's outputs; the check
compares them with the reference's. Checks of a property the student's model has on its own
(train mode without dropout equals eval, a zeroed block is the identity, gradients are those
of the forward) use only the student's model, so a wrong forward costs the value checks and
not these. Both sides get the same random weights and dropout masks (``seeding.py``); the
activations handed to the model are in ``activations.py``, strict loading in ``loading.py``.
The drivers run wherever the student's code runs (this process, or an isolated worker);
everything they return is compared here.

Half precision: the value checks run in float32/float64 only (also on CUDA). In a chain of
Linear layers and LayerNorms, one different rounding (say ``h @ W.T + b`` against the fused
``addmm`` of ``nn.Linear``) is amplified wherever a LayerNorm divides by a small standard
deviation. Measured on an H100 with this module's random configs, that equally correct
route broke the half-precision tolerance of grader.compare in 1 of 300 float16 and 2 of 300
bfloat16 models (up to 0.12 off in bfloat16): over 40 examples per check, a correct answer
would lose points by chance.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.autograd.gradcheck import GradcheckError

from grader import strategies as S
from grader.checks.ex3_residual_mlp.activations import ACTIVATIONS
from grader.checks.ex3_residual_mlp.drivers import (
    construct,
    eval_outputs,
    functional_forward,
    parameter_gradients,
    state_dict_structure,
    train_and_eval_outputs,
    train_output,
    zeroed_block_outputs,
)
from grader.checks.ex3_residual_mlp.loading import REFERENCE_WEIGHTS, load_failure
from grader.checks.ex3_residual_mlp.oracles import reference_eval, reference_structure, reference_train
from grader.compare import assert_matches, assert_raises, assert_true
from grader.devices import on_devices, on_each_device
from grader.feedback import fail
from grader.gradients import NOT_REENTRANT, NOT_REENTRANT_HINT, gradcheck_jointly, not_reentrant, remote_function
from grader.spec import check

# -- structure ----------------------------------------------------------------------------


@check(
    3,
    needs_reference=True,
    ja="state_dict の構造が参照実装と同じ (load_state_dict(..., strict=True) で読み込める)",
    en="the state_dict has the reference's structure (it loads with load_state_dict(..., strict=True))",
    hint_ja="属性名を問題文のとおりに: input_proj、blocks (nn.ModuleList、各ブロックに norm・fc1・activation・fc2・dropout)、"
    "norm、output_proj。ブロックは depth 個ちょうど作り、最後の norm も忘れずに。",
    hint_en="Use exactly the names of the task: input_proj, blocks (an nn.ModuleList whose blocks have norm, fc1, "
    "activation, fc2, dropout), norm, output_proj. Make exactly depth blocks, and do not forget the final norm.",
)
@given(config=S.mlp_configs(max_depth=4))
@S.explicit("config", [S.NO_BLOCKS, S.DEFAULT_DROPOUT_CONFIG])
def test_structure_loads_reference_state_dict(student, config):
    example = config.kwargs()
    theirs = reference_structure(config.kwargs())
    mine = student.run(state_dict_structure, config.kwargs(), theirs, example)
    ours = mine["shapes"]
    missing = [k for k in theirs if k not in ours]
    unexpected = [k for k in ours if k not in theirs]
    shapes = [
        f"{k}: expected {tuple(theirs[k].shape)}, got {tuple(ours[k])}"
        for k in theirs
        if k in ours and tuple(theirs[k].shape) != tuple(ours[k])
    ]
    if missing or unexpected or shapes:
        lines = []
        if missing:
            lines.append("足りないキー / missing keys: " + ", ".join(missing))
        if unexpected:
            lines.append("余分なキー / unexpected keys: " + ", ".join(unexpected))
        if shapes:
            lines.append("形の違うパラメータ / parameters of the wrong shape: " + "; ".join(shapes))
        raise fail(
            "state_dict のキーや形が参照実装と違います / the state_dict's keys or shapes differ from the reference's",
            example=example,
            detail="\n".join(lines),
        )
    if mine["load_error"] is not None:
        raise load_failure(mine["load_error"], example=example, source=REFERENCE_WEIGHTS, pointer=False)


# -- values ---------------------------------------------------------------------------------


@check(
    4,
    needs_reference=True,
    ja="評価モード (model.eval()) の出力が参照実装と一致する",
    en="in evaluation mode (model.eval()) the output matches the reference",
    hint_ja="ブロックは x + dropout(fc2(activation(fc1(norm(x)))))、全体は output_proj(norm(blocks(input_proj(x))))。"
    "ドロップアウトは nn.Dropout か F.dropout(..., training=self.training) で、評価モードでは何もしないように。",
    hint_en="A block is x + dropout(fc2(activation(fc1(norm(x))))); the model is output_proj(norm(blocks(input_proj(x)))). "
    "Use nn.Dropout or F.dropout(..., training=self.training), so that dropout does nothing in eval mode.",
)
@on_devices(half_on_cuda=False)  # no half: see the module docstring
@given(config=S.mlp_configs(), lead=S.LEADING_SHAPES, seed=S.SEEDS, noncontiguous=st.booleans())
@S.explicit("config", [S.ONE_FEATURE, S.NO_BLOCKS], lead=(2,), seed=0, noncontiguous=True)
@S.explicit("lead", S.EVERY_LEADING_SHAPE, config=S.DEFAULT_DROPOUT_CONFIG, seed=0, noncontiguous=False)
def test_eval_matches_reference(student, device, dtype, config, lead, seed, noncontiguous):
    x = S.make((*lead, config.in_features), dtype, device, seed, noncontiguous=noncontiguous)
    example = dict(**config.kwargs(), x=x, mode="eval")
    state, expected = reference_eval(config.kwargs(), device, dtype, seed, x)
    # a batch large enough to show dropout, run twice: eval mode must be deterministic
    probe = S.make((64, config.in_features), dtype, device, seed + 1)
    mine = student.run(eval_outputs, config.kwargs(), device, dtype, state, x, example, probe=probe)
    first, second = mine["probe"]
    assert_true(
        first.shape != second.shape or bool(torch.isclose(first, second, rtol=0, atol=0, equal_nan=True).all()),
        "評価モードなのに、同じ入力への出力が呼ぶたびに変わります (評価モードで乱数を使う計算が動いています。"
        "ドロップアウトは評価モードでは何もしないはずです) / in eval mode the output changes from call to call for the "
        "same input: something random runs in eval mode (dropout must do nothing there)",
        example=dict(example, x=probe),
        expected=first,
        actual=second,
        detail="期待 = 1 回目の呼び出し、実際 = 2 回目 / expected = the first call, actual = the second call",
    )
    for out, inputs in ((mine["out"], example), (first, dict(example, x=probe))):
        assert_finite(out, what="model.eval()(x)", example=inputs)
    assert_matches(mine["out"], expected, what="model.eval()(x)", example=example)


@check(
    3,
    needs_reference=True,
    ja="学習モード (model.train()) で、同じ乱数シードなら参照実装と同じ出力 (同じドロップアウトのマスク) になる",
    en="in training mode (model.train()), under the same seed, the output matches the reference (same dropout masks)",
    hint_ja="ドロップアウトは各ブロックで 1 回、fc2 の「後」、残差の足し算の「前」に、枝の出力 (形 (..., hidden)) にだけかけます。"
    "nn.Dropout(dropout) をそのまま使えば、参照実装と同じ順序で乱数を使います。",
    hint_en="Apply dropout once per block, AFTER fc2 and BEFORE the residual sum, to the branch output (shape (..., hidden)) only. "
    "Using nn.Dropout(dropout) there draws random numbers in the same order as the reference.",
)
@on_devices(half_on_cuda=False)  # no half: see the module docstring
@given(config=S.mlp_configs(min_depth=1, dropouts=(0.1, 0.5, 0.9, None)), lead=S.LEADING_SHAPES, seed=S.SEEDS)
@S.explicit("config", [S.DEFAULT_DROPOUT_CONFIG], lead=(4,), seed=0)
def test_train_matches_reference(student, device, dtype, config, lead, seed):
    x = S.make((*lead, config.in_features), dtype, device, seed)
    example = dict(**config.kwargs(), x=x, mode="train", manual_seed=seed)
    state, expected = reference_train(config.kwargs(), device, dtype, seed, x)
    actual = student.run(train_output, config.kwargs(), device, dtype, state, x, example, seed)
    assert_matches(actual, expected, what=f"torch.manual_seed({seed}); model.train()(x)", example=example)


@check(
    2,
    ja="dropout=0 なら学習モードの出力は評価モードの出力と同じ",
    en="with dropout=0, the output in training mode equals the output in eval mode",
    hint_ja="dropout=0 は「ドロップアウトなし」です (既定値の 0.1 に置き換えたりしない)。学習モードだけで違う計算をしていませんか?",
    hint_en="dropout=0 means no dropout (do not replace it by the default 0.1, e.g. with `dropout or 0.1`). "
    "Does your model compute anything else differently in training mode?",
)
@on_devices(half_on_cuda=False)
@given(config=S.mlp_configs(min_depth=1, dropout=0.0), lead=S.LEADING_SHAPES, seed=S.SEEDS)
def test_train_without_dropout_equals_eval(student, device, dtype, config, lead, seed):
    x = S.make((*lead, config.in_features), dtype, device, seed)
    example = dict(**config.kwargs(), x=x)
    in_train, in_eval = student.run(train_and_eval_outputs, config.kwargs(), device, dtype, seed, x, example)
    assert_matches(in_train, in_eval, what="model.train()(x) (expected: model.eval()(x))", example=example)


@check(
    2,
    ja="fc2 をゼロにしたブロックは恒等写像 (そのブロックを取り除いたモデルと同じ出力)",
    en="a block whose fc2 is zeroed is the identity (the model equals the same model without that block)",
    hint_ja="残差接続は x + 枝(x) です。枝の出力が 0 ならブロックは x をそのまま返します。足し算のあとで正規化 (post-norm) "
    "したり、x を足し忘れたりしていませんか?",
    hint_en="The residual connection is x + branch(x): when the branch gives 0 the block returns x unchanged. "
    "Do not normalise after the sum (post-norm), and do not forget to add x.",
)
@on_devices(half_on_cuda=False)
@given(config=S.mlp_configs(min_depth=1, dropout=0.0), which=st.integers(0, 2), lead=S.LEADING_SHAPES, seed=S.SEEDS)
def test_zeroed_fc2_block_is_identity(student, device, dtype, config, which, lead, seed):
    k = which % config.depth
    x = S.make((*lead, config.in_features), dtype, device, seed)
    example = dict(**config.kwargs(), x=x, zeroed_block=k)
    actual, expected = student.run(zeroed_block_outputs, config.kwargs(), device, dtype, seed, k, x, example)
    assert_matches(
        actual, expected, what=f"model(x) with blocks[{k}].fc2 = 0 (expected: the model without block {k})", example=example
    )


@check(
    2,
    needs_reference=True,
    ja="activation に Swish・学習可能な Swish・nn.GELU・nn.PReLU を渡しても参照実装と一致する (ブロックごとに別のインスタンス)",
    en="with activation=Swish, a learnable Swish, nn.GELU or nn.PReLU the output matches the reference (one instance per block)",
    hint_ja="活性化関数はブロックごとに activation() を呼んで作ります。1 つのインスタンスを全ブロックで共有すると、学習可能な"
    "パラメータ (Swish の beta、PReLU の weight) まで共有されてしまいます。nn.ReLU を決め打ちしていませんか?",
    hint_en="Create each block's activation by calling activation() in that block. One instance shared by all blocks also "
    "shares its learnable parameters (Swish's beta, PReLU's weight). Is nn.ReLU hard-coded somewhere?",
)
@on_devices(half_on_cuda=False)
@given(config=S.mlp_configs(min_depth=2, dropout=0.0), lead=S.LEADING_SHAPES, seed=S.SEEDS)
def test_other_activations(student, device, dtype, config, lead, seed):
    x = S.make((*lead, config.in_features), dtype, device, seed)
    for name, activation in ACTIVATIONS.items():
        kwargs = dict(config.kwargs(), activation=activation)
        example = dict(**config.kwargs(), activation=name, x=x)
        state, expected = reference_eval(kwargs, device, dtype, seed, x)
        mine = student.run(eval_outputs, kwargs, device, dtype, state, x, example)
        assert_matches(mine["out"], expected, what=f"ResidualMLP(..., activation={name}).eval()(x)", example=example)


# -- gradients ----------------------------------------------------------------------------


@check(
    2,
    ja="勾配がすべてのパラメータに届き、forward の計算どおりの値になる (gradcheck)",
    en="gradients reach every parameter, with the values the forward computation implies (gradcheck)",
    hint_ja=".detach()、.data、torch.no_grad()、requires_grad=False などで計算グラフを切らないでください。",
    hint_en="Do not cut the graph: no .detach(), .data, torch.no_grad() or requires_grad=False inside the model.",
)
@on_each_device()
@given(config=S.mlp_configs(max_depth=2, max_size=4, dropout=0.0), seed=S.SEEDS)
def test_gradients_reach_every_parameter(student, device, config, seed):
    # float64 and a smooth activation, so that finite differences are accurate (no ReLU kinks).
    kwargs = dict(config.kwargs(), activation=nn.Tanh)
    x = S.make((3, config.in_features), torch.float64, device, seed, requires_grad=True)
    example = dict(**config.kwargs(), activation="nn.Tanh", x=x)
    facts = student.run(parameter_gradients, kwargs, device, seed, x, example)
    assert_true(
        not facts["frozen"],
        "requires_grad=False のパラメータがあります / some parameters do not require grad: " + ", ".join(facts["frozen"]),
        example=example,
    )
    if facts["out"] is not None:  # finite differences of NaN or inf say nothing about the graph
        assert_finite(facts["out"], what="model(x)", example=example)
    assert_true(
        facts["connected"],
        "出力がパラメータにつながっていません / the output is not connected to the parameters (requires_grad=False)",
        example=example,
    )
    assert_true(
        not facts["unreached"],
        "勾配が届かないパラメータがあります / no gradient reaches these parameters: " + ", ".join(facts["unreached"]),
        example=example,
    )
    # gradcheck runs here: every forward and backward it asks for is a round trip to the student's model
    names = facts["names"]
    as_function = remote_function(student, functional_forward, kwargs, device, seed, names, example)
    inputs = (x, *(p.clone().requires_grad_(True) for p in facts["params"]))
    try:
        gradcheck_jointly(as_function, inputs, check_undefined_grad=False)
    except GradcheckError as err:
        if not_reentrant(err):
            raise fail(f"{NOT_REENTRANT[0]} / {NOT_REENTRANT[1]}", example=example, hint=NOT_REENTRANT_HINT) from None
        found = re.search(r"with respect to input (\d+)", str(err))
        wrt = ("x", *names)[int(found.group(1))] if found else "?"
        raise fail(
            "逆伝播の勾配が forward の数値微分と一致しません (どこかで計算グラフが切れていませんか?) / "
            "the gradients differ from finite differences of your forward (is the graph cut somewhere?)",
            example=example,
            detail=f"d model(x) / d {wrt}: " + str(err).splitlines()[0],
        ) from None


# -- arguments ------------------------------------------------------------------------------

GOOD_ARGUMENTS = dict(in_features=3, hidden_features=4, out_features=2, depth=2, dropout=0.1)

BAD_ARGUMENTS: dict[str, dict[str, Any]] = {
    "depth=-1": dict(depth=-1),
    "in_features=0": dict(in_features=0),
    "hidden_features=0": dict(hidden_features=0),
    "out_features=0": dict(out_features=0),
    "hidden_features=-4": dict(hidden_features=-4),
    "dropout=-0.1": dict(dropout=-0.1),
    "dropout=1.0": dict(dropout=1.0),
    "dropout=1.5": dict(dropout=1.5),
}


@check(
    2,
    ja="負の depth、0 以下の大きさ、[0, 1) の外の dropout で ValueError を送出する",
    en="raises ValueError for a negative depth, a size <= 0, or dropout outside [0, 1)",
    hint_ja="層を作る前に引数を確かめましょう: depth >= 0、各サイズ >= 1、0 <= dropout < 1。違えば ValueError を送出します。",
    hint_en="Check the arguments before building layers: depth >= 0, every size >= 1, 0 <= dropout < 1; raise ValueError otherwise.",
)
def test_rejects_bad_arguments(student):
    def ResidualMLP(**kwargs: Any) -> None:  # noqa: N802 - the student's constructor, called where their code runs
        student.run(construct, kwargs)

    for case, bad in BAD_ARGUMENTS.items():
        assert_raises(ValueError, ResidualMLP, case=case, **(GOOD_ARGUMENTS | bad))


# -- assertions the checks share ----------------------------------------------------------


def assert_finite(out: torch.Tensor, *, what: str, example: dict[str, Any]) -> None:
    """``out`` (a tensor of the right shape or not) holds no NaN or inf: the reference's never does."""
    bad = int((~torch.isfinite(out)).sum()) if out.is_floating_point() else 0
    assert_true(
        bad == 0,
        f"{what} に NaN か inf が {bad} 個あります ({out.numel()} 個中) / {what} has {bad} NaN or inf entries "
        f"(of {out.numel()})",
        example=example,
        actual=out,
    )
