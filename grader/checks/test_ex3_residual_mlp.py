"""Exercise 3: a depth-variable residual MLP with dropout (ex3_residual_mlp.py).

Each check below is one property from the exercise's contract. Value checks build the
student's model and the reference with the same config, give the reference random
weights (LayerNorm's included), load the reference's state_dict into the student's
model with strict=True, and compare. Checks of a property the student's model has on
its own (train mode without dropout equals eval, a zeroed block is the identity,
gradients are those of the forward) use only the student's model, so a wrong forward
costs the value checks and not these.

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
from grader.oracle import reference
from grader.spec import check


ref = reference("residual_mlp")

STRUCTURE_CHECK_JA = "チェック「state_dict の構造が参照実装と同じ」"
STRUCTURE_CHECK_EN = "the check “the state_dict has the reference's structure”"


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
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "Swish": Swish,
    "Swish(learnable=True)": LearnableSwish,
    "nn.GELU": nn.GELU,
    "nn.PReLU": nn.PReLU,
}


# -- structure ----------------------------------------------------------------------------


@check(
    3,
    ja="state_dict の構造が参照実装と同じ (load_state_dict(..., strict=True) で読み込める)",
    en="the state_dict has the reference's structure (it loads with load_state_dict(..., strict=True))",
    hint_ja="属性名を問題文のとおりに: input_proj、blocks (nn.ModuleList、各ブロックに norm・fc1・activation・fc2・dropout)、"
    "norm、output_proj。ブロックは depth 個ちょうど作り、最後の norm も忘れずに。",
    hint_en="Use exactly the names of the task: input_proj, blocks (an nn.ModuleList whose blocks have norm, fc1, "
    "activation, fc2, dropout), norm, output_proj. Make exactly depth blocks, and do not forget the final norm.",
)
@given(config=S.mlp_configs(max_depth=4))
def test_structure_loads_reference_state_dict(student, config):
    expected_model = ref.ResidualMLP(**config.kwargs())
    mine = build(student, config.kwargs())
    example = config.kwargs()
    theirs, ours = expected_model.state_dict(), mine.state_dict()
    missing = [k for k in theirs if k not in ours]
    unexpected = [k for k in ours if k not in theirs]
    shapes = [
        f"{k}: expected {tuple(theirs[k].shape)}, got {tuple(ours[k].shape)}"
        for k in theirs
        if k in ours and theirs[k].shape != ours[k].shape
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
    load_reference_weights(mine, expected_model, example=example, pointer=False)


# -- values ---------------------------------------------------------------------------------


@check(
    4,
    ja="評価モード (model.eval()) の出力が参照実装と一致する",
    en="in evaluation mode (model.eval()) the output matches the reference",
    hint_ja="ブロックは x + dropout(fc2(activation(fc1(norm(x)))))、全体は output_proj(norm(blocks(input_proj(x))))。"
    "ドロップアウトは nn.Dropout か F.dropout(..., training=self.training) で、評価モードでは何もしないように。",
    hint_en="A block is x + dropout(fc2(activation(fc1(norm(x))))); the model is output_proj(norm(blocks(input_proj(x)))). "
    "Use nn.Dropout or F.dropout(..., training=self.training), so that dropout does nothing in eval mode.",
)
@on_devices(half_on_cuda=False)  # no half: see the module docstring
@given(config=S.mlp_configs(), lead=S.LEADING_SHAPES, seed=S.SEEDS, noncontiguous=st.booleans())
def test_eval_matches_reference(student, device, dtype, config, lead, seed, noncontiguous):
    x = S.make((*lead, config.in_features), dtype, device, seed, noncontiguous=noncontiguous)
    example = dict(**config.kwargs(), x=x, mode="eval")
    expected_model, mine = reference_pair(student, config.kwargs(), device, dtype, seed, example)
    expected_model.eval()
    mine.eval()
    with torch.no_grad():
        expected = expected_model(x)
        actual = call(student, mine, x, example)
        assert_deterministic(student, mine, config.in_features, device, dtype, seed, example)
    assert_matches(actual, expected, what="model.eval()(x)", example=example)


@check(
    3,
    ja="学習モード (model.train()) で、同じ乱数シードなら参照実装と同じ出力 (同じドロップアウトのマスク) になる",
    en="in training mode (model.train()), under the same seed, the output matches the reference (same dropout masks)",
    hint_ja="ドロップアウトは各ブロックで 1 回、fc2 の「後」、残差の足し算の「前」に、枝の出力 (形 (..., hidden)) にだけかけます。"
    "nn.Dropout(dropout) をそのまま使えば、参照実装と同じ順序で乱数を使います。",
    hint_en="Apply dropout once per block, AFTER fc2 and BEFORE the residual sum, to the branch output (shape (..., hidden)) only. "
    "Using nn.Dropout(dropout) there draws random numbers in the same order as the reference.",
)
@on_devices(half_on_cuda=False)  # no half: see the module docstring
@given(config=S.mlp_configs(min_depth=1, dropouts=(0.1, 0.5, 0.9)), lead=S.LEADING_SHAPES, seed=S.SEEDS)
def test_train_matches_reference(student, device, dtype, config, lead, seed):
    x = S.make((*lead, config.in_features), dtype, device, seed)
    example = dict(**config.kwargs(), x=x, mode="train", manual_seed=seed)
    expected_model, mine = reference_pair(student, config.kwargs(), device, dtype, seed, example)
    expected_model.train()
    mine.train()
    expected = seeded(lambda: expected_model(x), seed, device)
    actual = seeded(lambda: call(student, mine, x, example), seed, device)
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
    mine = own_model(student, config.kwargs(), device, dtype, seed)
    with torch.no_grad():
        in_train = seeded(lambda: call(student, mine.train(), x, example), seed, device)
        in_eval = call(student, mine.eval(), x, example)
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
    full = own_model(student, config.kwargs(), device, dtype, seed)
    state = full.state_dict()
    for name in (f"blocks.{k}.fc2.weight", f"blocks.{k}.fc2.bias"):
        if name not in state:
            raise fail(
                f"モデルに {name} がありません。まず{STRUCTURE_CHECK_JA}を直してください / "
                f"your model has no {name}: fix {STRUCTURE_CHECK_EN} first",
                example=example,
            )
        state[name].zero_()  # state_dict tensors share memory with the parameters
    shorter = own_model(student, dict(config.kwargs(), depth=config.depth - 1), device, dtype, seed)
    load(shorter, without_block(state, k), example=example, source=(f"ブロック {k} を除いた同じモデル", f"the same model minus block {k}"))
    with torch.no_grad():
        actual = call(student, full.eval(), x, example)
        expected = call(student, shorter.eval(), x, example)
    assert_matches(
        actual, expected, what=f"model(x) with blocks[{k}].fc2 = 0 (expected: the model without block {k})", example=example
    )


@check(
    2,
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
        expected_model, mine = reference_pair(student, kwargs, device, dtype, seed, example)
        with torch.no_grad():
            expected = expected_model.eval()(x)
            actual = call(student, mine.eval(), x, example)
        assert_matches(actual, expected, what=f"ResidualMLP(..., activation={name}).eval()(x)", example=example)


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
    model = own_model(student, kwargs, device, torch.float64, seed).eval()
    named = list(model.named_parameters())
    frozen = [name for name, p in named if not p.requires_grad]
    assert_true(
        not frozen,
        "requires_grad=False のパラメータがあります / some parameters do not require grad: " + ", ".join(frozen),
        example=example,
    )
    out = call(student, model, x, example)
    assert_true(
        isinstance(out, torch.Tensor) and out.requires_grad,
        "出力がパラメータにつながっていません / the output is not connected to the parameters (requires_grad=False)",
        example=example,
    )
    upstream = S.make(tuple(out.shape), torch.float64, device, seed + 1)
    grads = torch.autograd.grad(out, [p for _, p in named], upstream, allow_unused=True)
    unreached = [name for (name, _), g in zip(named, grads) if g is None]
    assert_true(
        not unreached,
        "勾配が届かないパラメータがあります / no gradient reaches these parameters: " + ", ".join(unreached),
        example=example,
    )
    names = [name for name, _ in named]

    def as_function(x: torch.Tensor, *params: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(model, dict(zip(names, params)), (x,))

    inputs = (x, *(p.detach().clone().requires_grad_(True) for _, p in named))
    try:
        torch.autograd.gradcheck(as_function, inputs, fast_mode=True, check_undefined_grad=False)
    except GradcheckError as err:
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
    for case, bad in BAD_ARGUMENTS.items():
        assert_raises(ValueError, student.ResidualMLP, case=case, **(GOOD_ARGUMENTS | bad))


# -- helpers --------------------------------------------------------------------------------


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


def call(student, model: nn.Module, x: torch.Tensor, example: dict[str, Any]) -> Any:
    """``model(x)``; what the student's forward raises is reported with the example."""
    try:
        return model(x)
    except CheckFailure:
        raise
    except Exception as err:  # noqa: BLE001
        raise student.error("model(x)", err, example) from err


def assert_deterministic(
    student, model: nn.Module, in_features: int, device: str, dtype: torch.dtype, seed: int, example: dict[str, Any]
) -> None:
    """Two calls on the same input in eval mode give the same output (on a batch large enough to show dropout)."""
    probe = S.make((64, in_features), dtype, device, seed + 1)
    example = dict(example, x=probe)
    first, second = call(student, model, probe, example), call(student, model, probe, example)
    if isinstance(first, torch.Tensor) and isinstance(second, torch.Tensor) and first.shape == second.shape:
        assert_true(
            torch.equal(first, second),
            "評価モードなのに、同じ入力への出力が呼ぶたびに変わります (ドロップアウトが評価モードでも効いていませんか?) / "
            "in eval mode the output changes from call to call for the same input (is dropout active in eval mode?)",
            example=example,
            expected=first,
            actual=second,
            detail="期待 = 1 回目の呼び出し、実際 = 2 回目 / expected = the first call, actual = the second call",
        )


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


def reference_pair(
    student, kwargs: dict[str, Any], device: str, dtype: torch.dtype, seed: int, example: dict[str, Any]
) -> tuple[nn.Module, nn.Module]:
    """The reference with random weights, and the student's model with those weights loaded strictly."""
    expected_model = ref.ResidualMLP(**kwargs).to(device=device, dtype=dtype)
    randomize(expected_model, seed)
    mine = build(student, kwargs).to(device=device, dtype=dtype)
    load_reference_weights(mine, expected_model, example=example)
    return expected_model, mine


def load_reference_weights(mine: nn.Module, expected_model: nn.Module, *, example: dict[str, Any], pointer: bool = True) -> None:
    load(mine, expected_model.state_dict(), example=example, source=("参照実装", "the reference's"), pointer=pointer)


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
        ja = f"{source[0]}の state_dict があなたのモデルに strict に読み込めません"
        en = f"{source[1]} state_dict does not load strictly into your model"
        if pointer:
            ja += f"。まず{STRUCTURE_CHECK_JA}を直してください"
            en += f": fix {STRUCTURE_CHECK_EN} first"
        raise fail(f"{ja} / {en}", example=example, detail=_first_lines(str(err), 6)) from None


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
