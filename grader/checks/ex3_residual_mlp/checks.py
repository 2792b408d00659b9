"""Exercise 3: a depth-variable residual MLP with dropout (ex3_residual_mlp.py).

Each check below is one property from the exercise's contract. Value checks build the
reference here with random weights (LayerNorm's included) and hand its state_dict to a
driver, which builds the student's model with the same config, loads the state with
strict=True and returns the model's outputs; the check compares them with the
reference's. Checks of a property the student's model has on its own (train mode
without dropout equals eval, a zeroed block is the identity, gradients are those of the
forward) use only the student's model, so a wrong forward costs the value checks and
not these. The drivers (at the end of this file) run wherever the student's code runs
(this process, or an isolated worker); everything they return is compared here.

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
from collections.abc import Callable
from typing import Any

import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.autograd.gradcheck import GradcheckError

from grader import strategies as S
from grader.compare import assert_matches, assert_raises, assert_true
from grader.devices import on_devices, on_each_device
from grader.feedback import CheckFailure, fail
from grader.gradients import NOT_REENTRANT, NOT_REENTRANT_HINT, gradcheck_jointly, not_reentrant, remote_function
from grader.oracle import oracle, reference
from grader.runner import driver
from grader.spec import check


ref = reference("residual_mlp")

STRUCTURE_CHECK_JA = "チェック「state_dict の構造が参照実装と同じ」"
STRUCTURE_CHECK_EN = "the check “the state_dict has the reference's structure”"

#: How the reference's weights are named in a failure to load them (ja, en).
REFERENCE_WEIGHTS = ("参照実装", "the reference's")


class Swish(nn.Module):
    """``x * sigmoid(beta * x)`` in plain torch operations: an activation to hand to the student's model.

    Not exercise 2's answer (no custom autograd), and defined here rather than taken from
    ``reference``, because isolated workers build models with it and must not hold the reference.
    """

    def __init__(self, beta: float = 1.0, learnable: bool = False) -> None:
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta))) if learnable else beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.beta * x)


class LearnableSwish(Swish):
    """Swish with a learnable beta: one parameter per block, so blocks must not share it."""

    def __init__(self) -> None:
        super().__init__(beta=1.0, learnable=True)


#: Activations the model must accept as ``activation=``; each is a class called once per block.
#: (Module-level classes or torch's: they travel to a worker by reference.)
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "Swish": Swish,
    "Swish(learnable=True)": LearnableSwish,
    "nn.GELU": nn.GELU,
    "nn.PReLU": nn.PReLU,
}


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


# -- the reference's side (grading process only): oracle calls, plain data in and out ------------


@oracle
def reference_structure(kwargs: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The state_dict of ``ResidualMLP(**kwargs)`` as the reference builds it (only its names and shapes matter)."""
    return state_of(ref.ResidualMLP(**kwargs))


@oracle
def reference_eval(
    kwargs: dict[str, Any], device: str, dtype: torch.dtype, seed: int, x: torch.Tensor
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The reference with random weights: its state_dict, and ``model.eval()(x)``."""
    model = reference_model(kwargs, device, dtype, seed).eval()
    with torch.no_grad():
        return state_of(model), model(x)


@oracle(per_device=True)  # the dropout masks come from the device's own generator
def reference_train(
    kwargs: dict[str, Any], device: str, dtype: torch.dtype, seed: int, x: torch.Tensor
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The reference with random weights: its state_dict, and ``torch.manual_seed(seed); model.train()(x)``."""
    model = reference_model(kwargs, device, dtype, seed).train()
    return state_of(model), seeded(lambda: model(x), seed, device)


def reference_model(kwargs: dict[str, Any], device: str, dtype: torch.dtype, seed: int) -> nn.Module:
    """The reference with random weights (the same ones :func:`own_model` would give it)."""
    model = ref.ResidualMLP(**kwargs).to(device=device, dtype=dtype)
    randomize(model, seed)
    return model


def state_of(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model``'s state_dict as a plain dict of tensors: what a driver receives."""
    return dict(model.state_dict())


# -- drivers: these run where the student's code runs (no ``ref`` here) -------------------------


@driver
def state_dict_structure(
    student, kwargs: dict[str, Any], state: dict[str, torch.Tensor], example: dict[str, Any]
) -> dict[str, Any]:
    """The shape of each entry of ``ResidualMLP(**kwargs).state_dict()``, and why ``state`` does not load
    into it strictly (None if it does)."""
    model = build(student, kwargs)
    shapes = {str(name): tuple(value.shape) for name, value in model.state_dict().items()}
    try:
        load(model, state, example=example, source=REFERENCE_WEIGHTS)
        load_error = None
    except CheckFailure as err:
        load_error = err.detail
    return {"shapes": shapes, "load_error": load_error}


@driver
def eval_outputs(
    student,
    kwargs: dict[str, Any],
    device: str,
    dtype: torch.dtype,
    state: dict[str, torch.Tensor],
    x: torch.Tensor,
    example: dict[str, Any],
    probe: torch.Tensor | None = None,
) -> dict[str, Any]:
    """``model.eval()(x)`` for the student's model holding ``state``; with ``probe``, also two calls on it."""
    model = loaded_model(student, kwargs, device, dtype, state, example).eval()
    with torch.no_grad():
        out = output(call(student, model, x, example), example)
        repeats = None
        if probe is not None:
            probe_example = dict(example, x=probe)
            repeats = [output(call(student, model, probe, probe_example), probe_example) for _ in range(2)]
    return {"out": out, "probe": repeats}


@driver
def train_output(
    student,
    kwargs: dict[str, Any],
    device: str,
    dtype: torch.dtype,
    state: dict[str, torch.Tensor],
    x: torch.Tensor,
    example: dict[str, Any],
    seed: int,
) -> torch.Tensor:
    """``torch.manual_seed(seed); model.train()(x)`` for the student's model holding ``state``."""
    model = loaded_model(student, kwargs, device, dtype, state, example).train()
    return output(seeded(lambda: call(student, model, x, example), seed, device), example)


@driver
def train_and_eval_outputs(
    student, kwargs: dict[str, Any], device: str, dtype: torch.dtype, seed: int, x: torch.Tensor, example: dict[str, Any]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The student's own model (random weights): ``model.train()(x)`` under ``torch.manual_seed(seed)``,
    then ``model.eval()(x)``."""
    model = own_model(student, kwargs, device, dtype, seed)
    with torch.no_grad():
        in_train = output(seeded(lambda: call(student, model.train(), x, example), seed, device), example)
        in_eval = output(call(student, model.eval(), x, example), example)
    return in_train, in_eval


@driver
def zeroed_block_outputs(
    student,
    kwargs: dict[str, Any],
    device: str,
    dtype: torch.dtype,
    seed: int,
    k: int,
    x: torch.Tensor,
    example: dict[str, Any],
) -> tuple[torch.Tensor, torch.Tensor]:
    """In eval mode: the student's own model with ``blocks[k].fc2`` zeroed, and the same model without block ``k``."""
    full = own_model(student, kwargs, device, dtype, seed)
    state = full.state_dict()
    for name in (f"blocks.{k}.fc2.weight", f"blocks.{k}.fc2.bias"):
        if name not in state:
            raise fail(
                f"モデルに {name} がありません。まず{STRUCTURE_CHECK_JA}を直してください / "
                f"your model has no {name}: fix {STRUCTURE_CHECK_EN} first",
                example=example,
            )
        state[name].zero_()  # state_dict tensors share memory with the parameters
    shorter = own_model(student, dict(kwargs, depth=kwargs["depth"] - 1), device, dtype, seed)
    load(shorter, without_block(state, k), example=example, source=(f"ブロック {k} を除いた同じモデル", f"the same model minus block {k}"))
    with torch.no_grad():
        zeroed = output(call(student, full.eval(), x, example), example)
        without = output(call(student, shorter.eval(), x, example), example)
    return zeroed, without


@driver
def parameter_gradients(
    student, kwargs: dict[str, Any], device: str, seed: int, x: torch.Tensor, example: dict[str, Any]
) -> dict[str, Any]:
    """The student's own model (float64, random weights, eval mode): its parameters' names and values,
    which of them do not require grad, whether ``model(x)`` is connected to them, and which get no gradient from it."""
    model = own_model(student, kwargs, device, torch.float64, seed).eval()
    named = list(model.named_parameters())
    facts: dict[str, Any] = {
        "names": [name for name, _ in named],
        "params": [p.detach() for _, p in named],
        "frozen": [name for name, p in named if not p.requires_grad],
        "connected": False,
        "unreached": [],
        "out": None,
    }
    if facts["frozen"]:
        return facts
    out = call(student, model, x.detach().requires_grad_(True), example)
    facts["out"] = output(out, example)
    facts["connected"] = out.requires_grad
    if facts["connected"]:
        upstream = S.make(tuple(out.shape), torch.float64, device, seed + 1)
        grads = torch.autograd.grad(out, [p for _, p in named], upstream, allow_unused=True)
        facts["unreached"] = [name for (name, _), g in zip(named, grads) if g is None]
    return facts


@driver
def functional_forward(
    student,
    kwargs: dict[str, Any],
    device: str,
    seed: int,
    names: list[str],
    example: dict[str, Any],
    x: torch.Tensor,
    *params: torch.Tensor,
) -> torch.Tensor:
    """``model(x)`` with the parameters ``names`` set to ``params`` (torch.func.functional_call), for gradcheck.

    The model is the student's own (float64, eval mode), as in :func:`parameter_gradients`.
    """
    model = own_model(student, kwargs, device, torch.float64, seed).eval()
    return call(student, lambda x: torch.func.functional_call(model, dict(zip(names, params)), (x,)), x, example)


@driver
def construct(student, kwargs: dict[str, Any]) -> None:
    """``ResidualMLP(**kwargs)``, for what it raises (nothing is returned)."""
    student.ResidualMLP(**kwargs)


# -- helpers for the drivers ------------------------------------------------------------------


def build(student, kwargs: dict[str, Any]) -> nn.Module:
    """``student.ResidualMLP(**kwargs)``; what it raises is reported with the arguments."""
    try:
        model = student.ResidualMLP(**kwargs)
    except CheckFailure:
        raise
    except Exception as err:  # noqa: BLE001 - classes are not wrapped by the runner
        raise student.error("ResidualMLP(...)", err, dict(kwargs)) from err
    assert_true(
        isinstance(model, nn.Module),
        "ResidualMLP は nn.Module を継承する必要があります / ResidualMLP must subclass nn.Module",
        example=kwargs,
    )
    return model


def call(student, model: Callable[[torch.Tensor], Any], x: torch.Tensor, example: dict[str, Any]) -> Any:
    """``model(x)``; what the student's forward raises is reported with the example."""
    try:
        return model(x)
    except CheckFailure:
        raise
    except Exception as err:  # noqa: BLE001
        raise student.error("model(x)", err, example) from err


def output(value: Any, example: dict[str, Any]) -> torch.Tensor:
    """``value`` (what ``model(x)`` returned), detached to travel back as data; it must be a plain tensor."""
    if type(value) not in (torch.Tensor, nn.Parameter):
        raise fail(
            f"model(x) は torch.Tensor を返す必要があります / model(x) must return a torch.Tensor, got {type(value).__qualname__}",
            example=example,
        )
    return value.detach()


def randomize(model: nn.Module, seed: int) -> None:
    """Give every parameter (LayerNorm's too) reproducible random values in [-1, 1]."""
    generator = torch.Generator().manual_seed(seed)  # not torch.manual_seed: much slower, and global
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.rand(p.shape, generator=generator, dtype=torch.float64).mul_(2).sub_(1))


def own_model(student, kwargs: dict[str, Any], device: str, dtype: torch.dtype, seed: int) -> nn.Module:
    """The student's model alone, with random weights: for properties that need no reference."""
    model = build(student, kwargs).to(device=device, dtype=dtype)
    randomize(model, seed)  # every parameter: the result does not depend on the initialisation
    return model


def loaded_model(
    student, kwargs: dict[str, Any], device: str, dtype: torch.dtype, state: dict[str, torch.Tensor], example: dict[str, Any]
) -> nn.Module:
    """The student's model with the reference's weights ``state`` loaded strictly."""
    model = build(student, kwargs).to(device=device, dtype=dtype)
    load(model, state, example=example, source=REFERENCE_WEIGHTS)
    return model


def load(
    model: nn.Module,
    state: dict[str, torch.Tensor],
    *,
    example: dict[str, Any],
    source: tuple[str, str],
    pointer: bool = True,
) -> None:
    """``model.load_state_dict(state, strict=True)``; ``source`` names the state (ja, en) in the failure."""
    try:
        model.load_state_dict(state, strict=True)
    except Exception as err:  # noqa: BLE001 - RuntimeError for keys/shapes, anything from odd modules
        raise load_failure(_first_lines(str(err), 6), example=example, source=source, pointer=pointer) from None


def load_failure(detail: str, *, example: dict[str, Any], source: tuple[str, str], pointer: bool = True) -> CheckFailure:
    """The failure for a state_dict (named by ``source``, ja and en) that did not load strictly; ``detail`` says why."""
    ja = f"{source[0]}の state_dict があなたのモデルに strict に読み込めません"
    en = f"{source[1]} state_dict does not load strictly into your model"
    if pointer:
        ja += f"。まず{STRUCTURE_CHECK_JA}を直してください"
        en += f": fix {STRUCTURE_CHECK_EN} first"
    return fail(f"{ja} / {en}", example=example, detail=detail)


def without_block(state: dict[str, torch.Tensor], k: int) -> dict[str, torch.Tensor]:
    """``state`` with block ``k`` removed and the later blocks renumbered."""
    kept: dict[str, torch.Tensor] = {}
    for name, value in state.items():
        if name.startswith("blocks."):
            _, index, rest = name.split(".", 2)
            i = int(index)
            if i == k:
                continue
            name = f"blocks.{i - 1 if i > k else i}.{rest}"
        kept[name] = value
    return kept


def seeded(fn: Callable[[], Any], seed: int, device: str) -> Any:
    """``fn()`` right after ``torch.manual_seed(seed)``, leaving the global random state as it was."""
    devices = [torch.cuda.current_device()] if torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        return fn()


def _first_lines(text: str, n: int) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "\n".join(lines[:n] + (["..."] if len(lines) > n else []))
