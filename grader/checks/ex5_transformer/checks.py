"""Exercise 5: Transformer building blocks (ex5_transformer.py).

Each check below is one property from the exercise's contract. The student's modules are
built, run and differentiated by the drivers (see "drivers" below), wherever the student's
code runs; the checks compare what comes back. Values are compared with reference/ after
loading the reference's weights into the student's module (a strict ``load_state_dict``,
so the chapter's names matter). The structural properties (fully masked rows, masking,
causality, permutation equivariance, dropout) are checked on the student's own modules
against themselves, so a wrong formula costs the value checks and not those. What can
only be measured where the student's code runs (operator counts, how often self.dropout
runs, which parameters get a gradient) is believed only together with outputs that match
the reference, so those checks share the reference's weights too.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from hypothesis import given
from hypothesis import strategies as st
import torch.nn.functional as F
from torch import nn

from grader import strategies as S
from grader.compare import assert_credited_with_values, assert_matches, assert_raises, assert_true
from grader.devices import FULL, HALF, on_devices, on_each_device
from grader.feedback import fail
from grader.oracle import oracle, reference
from grader.probes import aten_ops
from grader.runner import driver
from grader.spec import check, titles

ref = reference("transformer")


# -- helpers ---------------------------------------------------------------------------------------------


def build(factory: Any, seed: int, *args: Any, **kwargs: Any) -> nn.Module:
    """``factory(*args, **kwargs)`` with its parameters drawn under ``seed``, so an example is reproducible."""
    with torch.random.fork_rng(devices=[]):
        # the CPU generator alone: torch.manual_seed would also queue a (slow) lazy CUDA seeding
        torch.random.default_generator.manual_seed(seed)
        return factory(*args, **kwargs)


@contextlib.contextmanager
def seeded(seed: int, device: str) -> Iterator[None]:
    """Dropout draws from ``seed`` on ``device``; the global generators are left as they were."""
    if device == "cpu":
        with torch.random.fork_rng(devices=[]):
            torch.random.default_generator.manual_seed(seed)
            yield
    else:
        with torch.random.fork_rng(devices=[torch.device(device)]):
            torch.cuda.manual_seed(seed)
            yield


@dataclass(frozen=True)
class Recipe:
    """How one of the exercise's modules is built, the same way for the student's (in a driver) and the reference's.

    ``<cls>(*args, **kwargs)`` with its parameters drawn under ``seed``, moved to ``device``
    (and ``dtype``, when given), put in eval mode if ``eval_mode``. A driver then loads
    ``state`` (the reference's ``state_dict()``, computed in the grading process) strictly,
    when there is one.
    """

    cls: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    device: str = "cpu"
    dtype: torch.dtype | None = None
    eval_mode: bool = True
    state: dict[str, torch.Tensor] | None = None


def make(factory: Any, recipe: Recipe) -> nn.Module:
    """``recipe`` built with ``factory`` (a class of the student's or of the reference), without its ``state``."""
    module = build(factory, recipe.seed, *recipe.args, **recipe.kwargs)
    module = module.to(device=recipe.device) if recipe.dtype is None else module.to(device=recipe.device, dtype=recipe.dtype)
    return module.eval() if recipe.eval_mode else module


def student_module(student: Any, recipe: Recipe) -> nn.Module:
    """The student's module built from ``recipe``, holding the reference's weights when the recipe has them."""
    module = make(getattr(student, recipe.cls), recipe)
    if recipe.state is not None:
        share_weights(module, recipe.state, recipe.cls)
    return module


def share_weights(module: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """Load the reference's state into the student's module (strict), with a readable failure."""
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise fail(
            f"参照実装の重みを {what} に読み込めません (state_dict の名前か形が違います) / "
            f"cannot load the reference's weights into {what}: its state_dict names or shapes differ",
            example=dict(expected_keys=sorted(state), actual_keys=sorted(module.state_dict())),
            detail=str(err).strip(),
        ) from None


def reference_of(recipe: Recipe) -> nn.Module:
    """The reference's module built from ``recipe`` (a TransformerBlock with its LayerNorms at random).

    Only inside oracle calls (below): elsewhere a check holds a :class:`ReferenceModule`.
    """
    factory = getattr(ref, recipe.cls)
    if recipe.cls == "TransformerBlock":
        factory = lambda *args, **kwargs: randomize_norms(ref.TransformerBlock(*args, **kwargs), recipe.seed)  # noqa: E731
    return make(factory, recipe)


@oracle
def reference_state(recipe: Recipe) -> dict[str, torch.Tensor]:
    """The state_dict of the reference's module for ``recipe`` (an oracle call)."""
    return dict(reference_of(recipe).state_dict())


@oracle
def reference_output(recipe: Recipe, dtype: torch.dtype, inputs: tuple[Any, ...]) -> Any:
    """:func:`expected_output` of the reference's module for ``recipe`` on ``inputs`` (an oracle call)."""
    return expected_output(reference_of(recipe), dtype, *inputs)


@oracle(per_device=True)  # the dropout masks come from the device's own generator
def reference_train_output(recipe: Recipe, inputs: tuple[Any, ...], seed: int) -> Any:
    """The reference's module for ``recipe`` in train mode on ``inputs``, its dropout drawn under ``seed`` (an oracle call).

    Computed in the recipe's own dtype (never widened): dropout masks on a GPU depend on the dtype.
    """
    module = reference_of(replace(recipe, eval_mode=False))
    with torch.no_grad(), seeded(seed, recipe.device):
        return module(*inputs)


@oracle
def reference_parameter_names(recipe: Recipe) -> list[str]:
    """The names of the reference's parameters for ``recipe`` (an oracle call)."""
    return [name for name, _ in reference_of(recipe).named_parameters()]


@dataclass(frozen=True)
class ReferenceModule:
    """The reference's module for ``recipe`` as a check holds it: reached only through oracle calls.

    :func:`expected_output` of it is its output; :meth:`named_parameters` gives its parameters' names.
    """

    recipe: Recipe

    def named_parameters(self) -> list[tuple[str, None]]:
        """``(name, None)`` for each parameter of the reference's module: the names, not the values."""
        return [(name, None) for name in reference_parameter_names(self.recipe)]


def shared(recipe: Recipe) -> tuple[Recipe, ReferenceModule]:
    """The reference's module for ``recipe``, and ``recipe`` carrying its weights for the student's module."""
    return replace(recipe, state=reference_state(recipe)), ReferenceModule(recipe)


def submodule(module: nn.Module, name: str, kind: type, what: str) -> Any:
    """``module.<name>``, which the contract says is a ``kind``; a clear failure if it is missing or something else."""
    value = getattr(module, name, None)
    if not isinstance(value, kind):
        raise fail(
            f"{what}.{name} が {kind.__name__} ではありません / {what}.{name} must be an {kind.__name__}, "
            f"got {type(value).__name__}"
        )
    return value


def detached(value: Any) -> Any:
    """``value`` with every tensor in it detached (in tuples, lists and dicts too): data to send back."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    if type(value) in (tuple, list):
        return type(value)(detached(v) for v in value)
    if type(value) is dict:
        return {k: detached(v) for k, v in value.items()}
    return value


def wide(dtype: torch.dtype) -> torch.dtype:
    """The dtype the expected values are computed in: float32 for half precision, else ``dtype`` itself."""
    return torch.float32 if dtype in HALF else dtype


def expected_output(reference: Any, dtype: torch.dtype, *inputs: Any) -> Any:
    """``reference(*inputs)`` computed in ``wide(dtype)`` and rounded to ``dtype`` once, at the end.

    Half-precision results are compared with the float32 result of the same (half-rounded)
    weights and inputs, so the tolerance covers one implementation's rounding, not two.
    ``reference`` is a reference function (``ref.<name>``), a :class:`ReferenceModule`, or,
    inside an oracle call, the reference's module itself.
    """
    if isinstance(reference, ReferenceModule):
        return reference_output(reference.recipe, dtype, inputs)
    if wide(dtype) != dtype:
        if isinstance(reference, nn.Module):
            reference = copy.deepcopy(reference).to(wide(dtype))
        inputs = tuple(t.to(wide(dtype)) if isinstance(t, torch.Tensor) and t.is_floating_point() else t for t in inputs)
    with torch.no_grad():
        result = reference(*inputs)
    return tuple(r.to(dtype) for r in result) if isinstance(result, tuple) else result.to(dtype)


def pair(result: Any, what: str, example: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The (out, weights) pair a function returns, or a failure saying it must return one."""
    if not (isinstance(result, tuple) and len(result) == 2):
        raise fail(
            f"{what} は 2 つ組 (out, weights) を返す必要があります / {what} must return a pair (out, weights), "
            f"got {type(result).__name__}",
            example=example,
        )
    return result


def randomize_norms(block: nn.Module, seed: int) -> nn.Module:
    """LayerNorm weights and biases at random (not 1 and 0), so that norm1 and norm2 can be told apart."""
    with torch.no_grad():
        for i, norm in enumerate((block.norm1, block.norm2)):
            shape, dtype = tuple(norm.weight.shape), norm.weight.dtype
            norm.weight.copy_(S.make(shape, dtype, "cpu", seed + 2 * i, low=0.5, high=1.5))
            norm.bias.copy_(S.make(shape, dtype, "cpu", seed + 2 * i + 1, low=-0.5, high=0.5))
    return block


#: The modules whose self-attention the structural checks look at (one drawn per example).
MODULES = ("MultiHeadAttention", "TransformerBlock (post-norm)", "TransformerBlock (pre-norm)")

#: The check of each module's values (looked up when needed: the checks are defined further down).
VALUE_CHECKS = {
    "AttentionHead": lambda: test_attention_head_values,
    "MultiHeadAttention": lambda: test_mha_values,
    "TransformerBlock (post-norm)": lambda: test_block_post_norm_values,
    "TransformerBlock (pre-norm)": lambda: test_block_pre_norm_values,
}


def mha_recipe(config: S.AttentionConfig, seed: int, device: str, dtype: torch.dtype) -> Recipe:
    """MultiHeadAttention(d_model, num_heads, bias=bias) of ``config``, in eval mode."""
    return Recipe("MultiHeadAttention", (config.d_model, config.num_heads), dict(bias=config.bias), seed, device, dtype)


def self_attention(module: str, config: S.AttentionConfig, seed: int, device: str, dtype: torch.dtype) -> tuple[str, Recipe]:
    """The student's ``module`` in eval mode: its name for messages, and its recipe."""
    d_model, H = config.d_model, config.num_heads
    if module == "MultiHeadAttention":
        return f"MultiHeadAttention({d_model}, {H}, bias={config.bias})", mha_recipe(config, seed, device, dtype)
    norm_first = module.endswith("(pre-norm)")
    recipe = Recipe("TransformerBlock", (d_model, H, 2 * d_model), dict(norm_first=norm_first), seed, device, dtype)
    return f"TransformerBlock({d_model}, {H}, {2 * d_model}, norm_first={norm_first})", recipe


def self_attention_args(cls: str, x: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[Any, ...]:
    """The arguments of ``cls``'s self-attention on ``x``: (x, x, x, mask) for an attention module, (x, mask) for a block."""
    if cls == "TransformerBlock":
        return (x,) if mask is None else (x, mask)
    if cls == "AttentionHead":
        return (x, x, x) if mask is None else (x, x, x, mask)
    return (x, x, x, mask)


def sizes_of(config: S.AttentionConfig) -> dict[str, int]:
    return dict(B=config.batch, L=config.query_len, S=config.key_len, d_model=config.d_model, num_heads=config.num_heads)


def assert_dropout_applied(noisy: torch.Tensor, clean: torch.Tensor, p: float, *, what: str, example: dict) -> None:
    """``noisy`` is ``clean`` after dropout: each entry zero or scaled by 1/(1-p), about a fraction p of them zero."""
    kept = noisy != 0
    n, dropped = kept.numel(), int((~kept).sum())
    slack = 6 * (n * p * (1 - p)) ** 0.5  # six standard deviations of a binomial count
    assert_true(
        abs(dropped - n * p) <= slack,
        f"{what}: 確率 p={p} のドロップアウトなら約 {n * p:.0f} / {n} 個がゼロになるはずが {dropped} 個です / "
        f"with dropout p={p} about {n * p:.0f} of {n} entries should be zero, but {dropped} are",
        example=example,
    )
    assert_matches(
        noisy,
        torch.where(kept, clean / (1 - p), torch.zeros_like(clean)),
        problem=f"{what}: 残った値が評価モードの値の 1/(1-p) 倍になっていません / "
        "the entries that survive dropout must be the eval-mode values times 1/(1-p)",
        what="train-mode output",
        example=example,
    )


# -- drivers: they run where the student's code runs, and return data -------------------------------------


@driver
def construct(student: Any, recipe: Recipe) -> None:
    """Build the student's module (for the checks that expect the constructor to raise)."""
    student_module(student, recipe)


@driver
def outputs(student: Any, recipe: Recipe, calls: list[tuple[Any, ...]]) -> list[Any]:
    """The student's module called on each argument tuple in ``calls``, without gradients."""
    module = student_module(student, recipe)
    with torch.no_grad():
        return [detached(module(*args)) for args in calls]


@driver
def output_and_bias(student: Any, recipe: Recipe, args: tuple[Any, ...]) -> dict[str, Any]:
    """MultiHeadAttention's output on ``args`` (no gradients), and its W_o.bias (None without a bias)."""
    mha = student_module(student, recipe)
    with torch.no_grad():
        y = mha(*args)
    bias = submodule(mha, "W_o", nn.Linear, "MultiHeadAttention").bias
    return detached(dict(y=y, bias=bias))


@driver
def positional_encoding(student: Any, recipe: Recipe, inputs: list[torch.Tensor] = ()) -> dict[str, Any]:
    """PositionalEncoding's buffers: whether one is named pe, that table, and its outputs on ``inputs`` (no gradients)."""
    module = student_module(student, recipe)
    buffers = dict(module.named_buffers())
    with torch.no_grad():
        outs = [module(x) for x in inputs]
    return detached(dict(registered="pe" in buffers, pe=buffers.get("pe"), outputs=outs))


@driver
def forward_op_counts(student: Any, jobs: list[tuple[Recipe, tuple[Any, ...]]]) -> list[tuple[Any, int]]:
    """For each (recipe, args): the student's module's output on args, and how many aten operators it dispatched."""
    results = []
    for recipe, args in jobs:
        module = student_module(student, recipe)
        with torch.no_grad():
            out, ops = aten_ops(lambda module=module, args=args: module(*args))
        results.append((detached(out), len(ops)))
    return results


@driver
def parameter_gradients(student: Any, recipe: Recipe, x: torch.Tensor, upstream: torch.Tensor) -> dict[str, Any]:
    """The module's self-attention on ``x`` (AttentionHead: its context), and d out / d (x, each parameter) · upstream.

    Returns ``out`` (None unless a tensor), whether it is connected to the graph, and
    ``grads``: name -> gradient (None where none flowed; "x (input)" first), taken only
    when ``out`` has ``upstream``'s shape.
    """
    module = student_module(student, recipe)
    x = x.detach().requires_grad_(True)
    out = module(*self_attention_args(recipe.cls, x))
    if recipe.cls == "AttentionHead" and isinstance(out, tuple):
        out = out[0]  # (context, weights)
    if not isinstance(out, torch.Tensor):
        return dict(out=None, connected=False, grads=None)
    result: dict[str, Any] = dict(out=out.detach(), connected=out.requires_grad, grads=None)
    if out.requires_grad and out.shape == upstream.shape:
        named = dict(module.named_parameters())
        grads = torch.autograd.grad(out, [x, *named.values()], upstream, allow_unused=True)
        result["grads"] = dict(zip(["x (input)", *named], detached(list(grads))))
    return result


@driver
def attention_dropout(student: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, p: float, seed: int) -> dict:
    """scaled_dot_product_attention(q, k, v): as it is, with dropout_p=p and training=False, and with training=True under ``seed``."""
    call = student.scaled_dot_product_attention
    plain = call(q, k, v)
    evaluated = call(q, k, v, dropout_p=p, training=False)
    with seeded(seed, q.device.type):
        trained = call(q, k, v, dropout_p=p, training=True)
    return detached(dict(plain=plain, evaluated=evaluated, trained=trained))


@driver
def eval_twice_then_train(
    student: Any, recipe: Recipe, args: tuple[Any, ...], seed: int, identity: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The module on ``args`` in eval mode (twice) and in train mode under ``seed``, without gradients.

    The nn.Linear submodules named in ``identity`` get the identity as their weight first.
    """
    module = student_module(student, recipe)
    with torch.no_grad():
        for name in identity:
            linear = submodule(module, name, nn.Linear, recipe.cls)
            linear.weight.copy_(torch.eye(linear.weight.shape[0], linear.weight.shape[1]))
        clean = module.eval()(*args)
        again = module(*args)
        with seeded(seed, recipe.device):
            noisy = module.train()(*args)
    return detached(dict(clean=clean, again=again, noisy=noisy))


@driver
def block_dropout(student: Any, recipe: Recipe, x: torch.Tensor, seed: int) -> dict[str, Any]:
    """A TransformerBlock with dropout and the same block with dropout=0 on ``x``, without gradients.

    Returns its eval-mode output (twice), that of the block without dropout, its train-mode
    output under ``seed``, and how many times self.dropout ran in that train-mode forward.
    """
    block = student_module(student, recipe)
    without = student_module(student, replace(recipe, kwargs=dict(recipe.kwargs, dropout=0.0), state=None))
    without.load_state_dict(block.state_dict())
    calls: list[int] = []
    hook = submodule(block, "dropout", nn.Dropout, "TransformerBlock").register_forward_hook(
        lambda module, args, out: calls.append(1)
    )
    try:
        with torch.no_grad():
            clean = block.eval()(x)
            plain = without(x)
            again = block(x)
            calls.clear()
            with seeded(seed, recipe.device):
                noisy = block.train()(x)
    finally:
        hook.remove()
    return detached(dict(clean=clean, without=plain, again=again, noisy=noisy, calls=len(calls)))


# -- scaled_dot_product_attention and causal_mask ----------------------------------------------------------


@check(
    3,
    needs_reference=True,
    ja="scaled_dot_product_attention の out と weights が参照実装と一致する (マスクつきも)",
    en="scaled_dot_product_attention returns the right out and weights (with masks too)",
    hint_ja="scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)。softmax は最後の次元 (キー) でとります。"
    "mask は非ゼロが「見てよい」なので、mask == 0 の位置を埋めてから softmax します。",
    hint_en="scores = q @ k.transpose(-2, -1) / math.sqrt(d_k); take the softmax over the last dimension (the keys). "
    "Nonzero mask entries may be attended: fill the positions where mask == 0 before the softmax.",
)
@on_devices()
@given(data=st.data())
def test_attention_values(student, device, dtype, data):
    q, k, v, mask = data.draw(S.attention_inputs(device, dtype))
    example = dict(q=q, k=k, v=v, mask=mask)
    call = "scaled_dot_product_attention(q, k, v, mask)"
    out, weights = pair(student.scaled_dot_product_attention(q, k, v, mask), call, example)
    expected_out, expected_weights = expected_output(ref.scaled_dot_product_attention, dtype, q, k, v, mask)
    assert_matches(weights, expected_weights, what=f"weights = {call}[1]", example=example)
    assert_matches(out, expected_out, what=f"out = {call}[0]", example=example)


@check(
    2,
    ja="見てよいキーが 1 つもない行は、重みも出力もゼロ (NaN でも一様でもない)。MultiHeadAttention ではその行は W_o.bias だけ",
    en="a query that may attend to no key gets zero weights and output (no NaN, no uniform attention); "
    "in MultiHeadAttention such a row is W_o.bias alone",
    hint_ja="-1e9 や -inf で埋めて softmax すると、全部埋まった行は一様な重みか NaN になります。"
    "softmax の後で、見てよいキーのない行 (~allowed.any(dim=-1, keepdim=True)) の重みを 0 にしましょう。",
    hint_en="Filling with -1e9 or -inf and taking the softmax gives uniform weights or NaN in a fully masked row. "
    "After the softmax, set the weights of rows with no key (~allowed.any(dim=-1, keepdim=True)) to 0.",
)
@on_devices()
@given(data=st.data(), case=st.sampled_from(["function", "padding (B, 1, 1, S)", "rows (L, S)"]))
def test_fully_masked_rows(student, device, dtype, data, case):
    if case == "function":
        assert_empty_rows_are_zero(student, device, dtype, data)
        return
    config = data.draw(S.attention_configs())
    B, L, d_model = config.batch, config.query_len, config.d_model
    recipe = mha_recipe(config, data.draw(S.SEEDS), device, dtype)
    x = data.draw(S.tensors((B, L, d_model), dtype, device))
    if case == "padding (B, 1, 1, S)":  # whole sequences with no key at all
        mask = data.draw(S.attention_masks((B, 1, 1, L), device, empty_rows=True))
        empty, rows = (mask == 0).flatten(1).all(1), "y[(mask == 0).flatten(1).all(1)]"
        pick = lambda y: y[empty]  # noqa: E731
    else:  # query rows with no key
        mask = data.draw(S.attention_masks((L, L), device, empty_rows=True))
        empty, rows = (mask == 0).all(1), "y[:, (mask == 0).all(1)]"
        pick = lambda y: y[:, empty]  # noqa: E731
    example = dict(**sizes_of(config), bias=config.bias, x=x, mask=mask)
    result = student.run(output_and_bias, recipe, (x, x, x, mask))
    y, bias = result["y"], result["bias"]
    assert_true(
        bool(torch.isfinite(y).all()),
        "MultiHeadAttention の出力に NaN か inf があります / MultiHeadAttention returned NaN or inf",
        example=example,
        actual=y,
    )
    expected = torch.zeros_like(pick(y)) if bias is None else bias.expand_as(pick(y))
    assert_matches(
        pick(y),
        expected,
        problem="見てよいキーのない行の出力は W_o.bias だけのはずです (アテンションの出力がゼロ) / "
        "a row with no key to attend to must come out as W_o.bias alone (a zero attention output)",
        what=f"{rows} with y = MultiHeadAttention(x, x, x, mask)",
        example=example,
    )


def assert_empty_rows_are_zero(student, device, dtype, data) -> None:
    lead = data.draw(st.sampled_from([(), (2,)]))
    L, S_, d = data.draw(S.sizes(1, 4)), data.draw(S.sizes(1, 4)), data.draw(S.sizes(1, 3))
    q, k, v = (data.draw(S.tensors((*lead, n, d), dtype, device)) for n in (L, S_, S_))
    mask = data.draw(S.attention_masks((*lead, L, S_), device, empty_rows=True))
    example = dict(q=q, k=k, v=v, mask=mask)
    call = "scaled_dot_product_attention(q, k, v, mask)"
    out, weights = pair(student.scaled_dot_product_attention(q, k, v, mask), call, example)
    assert_true(
        bool(torch.isfinite(out).all() and torch.isfinite(weights).all()),
        f"{call} の結果に NaN か inf があります / {call} returned NaN or inf",
        example=example,
        actual=(out, weights),
    )
    empty = (mask == 0).all(dim=-1)  # (..., L): rows that may attend to nothing
    for name, got in (("weights", weights), ("out", out)):
        assert_matches(
            got[empty],
            torch.zeros_like(got[empty]),
            problem=f"見てよいキーのない行の {name} はゼロのはずです / rows with no key to attend to must have zero {name}",
            what=f"{name}[(mask == 0).all(-1)]",
            example=example,
            exact=True,
        )
    # every other row is what it would be if the empty rows could see every key
    opened = mask.clone()
    opened[empty] = 1
    out_opened, weights_opened = pair(student.scaled_dot_product_attention(q, k, v, opened), call, example)
    for name, got, alone in (("weights", weights, weights_opened), ("out", out, out_opened)):
        assert_matches(
            got[~empty],
            alone[~empty],
            problem=f"空の行があると、ほかの行の {name} まで変わります / the {name} of the other rows change "
            "when some rows are fully masked",
            what=f"{name}[(mask != 0).any(-1)]",
            example=dict(example, same_mask_without_empty_rows=opened),
        )


@check(
    1,
    needs_reference=True,
    ja="causal_mask(L, S) は j <= i で True の bool (L, S) (左上にそろえる)",
    en="causal_mask(L, S) is bool (L, S), True where j <= i (aligned to the upper left)",
    hint_ja="torch.ones(L, S, dtype=torch.bool, device=device).tril() か、arange(S)[None, :] <= arange(L)[:, None]。"
    "diagonal=S-L で右下にそろえると is_causal=True と一致しません。",
    hint_en="torch.ones(L, S, dtype=torch.bool, device=device).tril(), or arange(S)[None, :] <= arange(L)[:, None]. "
    "Aligning to the lower right (diagonal=S-L) disagrees with is_causal=True.",
)
@on_each_device()
def test_causal_mask(student, device):
    cases = [(L, None) for L in range(1, 5)] + [(L, S_) for L in range(1, 5) for S_ in range(1, 6)]
    for L, S_ in sorted(cases, key=lambda c: (c[0] + (c[1] or c[0]), c[1] is not None)):  # smallest first
        actual = student.causal_mask(L, device=device) if S_ is None else student.causal_mask(L, S_, device=device)
        assert_matches(
            actual,
            ref.causal_mask(L, S_, device=device),
            what="causal_mask(L)" if S_ is None else "causal_mask(L, S)",
            example=dict(L=L, S=S_, device=device),
            exact=True,
        )


@check(
    2,
    ja="scaled_dot_product_attention のドロップアウト: training=True のときだけ重みに効き、返す重み = 実際に使った重み",
    en="scaled_dot_product_attention's dropout acts on the weights, only when training, and returns the weights it applied",
    hint_ja="weights = F.dropout(weights, dropout_p, training=training) (F.dropout の training は省略すると True です)。"
    "そのあとで out = weights @ v を計算し、その weights を返しましょう。",
    hint_en="weights = F.dropout(weights, dropout_p, training=training) (F.dropout's training defaults to True), "
    "then compute out = weights @ v and return those weights.",
)
@on_devices()
def test_attention_dropout(student, device, dtype):
    for seed, p in enumerate(S.DROPOUT_PROBS):
        q, k = (S.make((4, 16, 4), dtype, device, seed + i, low=-1.0, high=1.0) for i in range(2))
        v = S.make((4, 16, 3), dtype, device, seed + 2)
        example = dict(q=q, k=k, v=v, dropout_p=p)
        results = student.run(attention_dropout, q, k, v, p, seed)
        _, plain = pair(results["plain"], "scaled_dot_product_attention(q, k, v)", example)
        _, evaluated = pair(results["evaluated"], "scaled_dot_product_attention(...)", example)
        assert_matches(
            evaluated,
            plain,
            problem="training=False なのに重みが変わりました (ドロップアウトは訓練時だけ) / "
            "the weights changed with training=False (dropout only acts when training)",
            what="scaled_dot_product_attention(q, k, v, dropout_p, training=False)[1]",
            example=example,
        )
        out, dropped = pair(results["trained"], "scaled_dot_product_attention(...)", example)
        assert_dropout_applied(dropped, plain, p, what="weights (training=True)", example=example)
        assert_matches(
            out,
            dropped @ v,
            problem="out が返した weights @ v ではありません (返す重みはドロップアウト後のもの) / "
            "out is not the returned weights @ v (return the weights after dropout, the ones applied)",
            what="out",
            example=example,
        )


# -- AttentionHead and MultiHeadAttention -------------------------------------------------------------------


@check(
    2,
    needs_reference=True,
    ja="AttentionHead が章の 1 ヘッドと一致する (W_q, W_k, W_v はバイアスなし)",
    en="AttentionHead computes the chapter's single head (W_q, W_k, W_v without bias)",
    hint_ja="W_q = nn.Linear(d_model, d_k, bias=False) など。Q = W_q(query)、K = W_k(key)、V = W_v(value) を "
    "scaled_dot_product_attention に渡して (context, weights) を返します。",
    hint_en="W_q = nn.Linear(d_model, d_k, bias=False), and so on. Pass Q = W_q(query), K = W_k(key), V = W_v(value) "
    "to scaled_dot_product_attention and return (context, weights).",
)
@on_devices()
@given(data=st.data(), cross=st.booleans(), seed=S.SEEDS)
def test_attention_head_values(student, device, dtype, data, cross, seed):
    config = data.draw(S.attention_configs(cross=cross))
    B, L, S_, d_model, d_k = config.batch, config.query_len, config.key_len, config.d_model, config.d_k
    recipe, reference = shared(Recipe("AttentionHead", (d_model, d_k), {}, seed, device, dtype, eval_mode=False))
    query, key, value = (data.draw(S.tensors((B, n, d_model), dtype, device)) for n in (L, S_, S_))
    shape = data.draw(st.sampled_from([None, (L, S_), (B, L, S_)]))
    mask = None if shape is None else data.draw(S.attention_masks(shape, device))
    example = dict(d_model=d_model, d_k=d_k, query=query, key=key, value=value, mask=mask)
    [result] = student.run(outputs, recipe, [(query, key, value, mask)])
    context, weights = pair(result, "AttentionHead.forward", example)
    expected_context, expected_weights = expected_output(reference, dtype, query, key, value, mask)
    assert_matches(weights, expected_weights, what="weights = head(query, key, value, mask)[1]", example=example)
    assert_matches(context, expected_context, what="context = head(query, key, value, mask)[0]", example=example)


@check(
    3,
    needs_reference=True,
    ja="MultiHeadAttention の自己アテンションが参照実装と一致する (重みを共有)",
    en="MultiHeadAttention self-attention matches the reference (shared weights)",
    hint_ja="(B, L, d_model) を view(B, L, num_heads, d_k).transpose(1, 2) で (B, num_heads, L, d_k) に分け、"
    "√d_k (d_model ではなく) で割り、最後は transpose(1, 2) してから (B, L, d_model) に戻して W_o をかけます。",
    hint_en="Split (B, L, d_model) with view(B, L, num_heads, d_k).transpose(1, 2) into (B, num_heads, L, d_k), "
    "scale by √d_k (not √d_model), and transpose(1, 2) back before reshaping to (B, L, d_model) and applying W_o.",
)
@on_devices()
@given(data=st.data(), config=S.attention_configs(), seed=S.SEEDS)
def test_mha_values(student, device, dtype, data, config, seed):
    recipe, reference = shared(mha_recipe(config, seed, device, dtype))
    x = data.draw(S.tensors((config.batch, config.query_len, config.d_model), dtype, device, noncontiguous=None))
    example = dict(**sizes_of(config), bias=config.bias, x=x)
    [actual] = student.run(outputs, recipe, [(x, x, x)])
    assert_matches(actual, expected_output(reference, dtype, x, x, x), what="MultiHeadAttention(x, x, x)", example=example)


@check(
    2,
    needs_reference=True,
    ja="MultiHeadAttention のクロスアテンション (L != S、query・key・value が別々) が参照実装と一致する",
    en="MultiHeadAttention cross-attention (L != S, separate query, key and value) matches the reference",
    hint_ja="K は W_k(key)、V は W_v(value) から作り、長さ S = key.size(1) で分けます (query の L ではなく)。",
    hint_en="Make K from W_k(key) and V from W_v(value), and split them with their own length S = key.size(1), "
    "not the query's L.",
)
@on_devices()
@given(data=st.data(), config=S.attention_configs(cross=True), seed=S.SEEDS)
def test_mha_cross_attention(student, device, dtype, data, config, seed):
    recipe, reference = shared(mha_recipe(config, seed, device, dtype))
    B, L, S_, d_model = config.batch, config.query_len, config.key_len, config.d_model
    query, key, value = (data.draw(S.tensors((B, n, d_model), dtype, device)) for n in (L, S_, S_))
    example = dict(**sizes_of(config), query=query, key=key, value=value)
    [actual] = student.run(outputs, recipe, [(query, key, value)])
    expected = expected_output(reference, dtype, query, key, value)
    assert_matches(actual, expected, what="MultiHeadAttention(query, key, value)", example=example)


@check(
    3,
    ja="MultiHeadAttention はどの形のマスクでも正しく隠す: (L, S)、(B, 1, 1, S)、(B, 1, L, S)、(B, num_heads, L, S)、"
    "bool でも 0/1 でも",
    en="MultiHeadAttention masks correctly with every mask shape ((L, S), (B, 1, 1, S), (B, 1, L, S), "
    "(B, num_heads, L, S)), bool or 0/1",
    hint_ja="scores は (B, num_heads, L, S) なので、マスクはそのままブロードキャストできます (unsqueeze や view は不要)。"
    "mask == 0 の位置を埋め、True/非ゼロ = 見てよい、を守りましょう。"
    "F.scaled_dot_product_attention に 0/1 の float マスクを渡すと、足し算のバイアスとして扱われます。",
    hint_en="scores is (B, num_heads, L, S), so every accepted mask broadcasts as it is (no unsqueeze or view needed). "
    "Fill where mask == 0: True/nonzero means may attend. F.scaled_dot_product_attention takes a float mask as an "
    "additive bias, not as 0/1.",
)
@on_devices()
@given(data=st.data(), config=S.attention_configs(min_len=2), name=st.sampled_from(S.MHA_MASK_SHAPES), seed=S.SEEDS)
def test_mha_mask_shapes(student, device, dtype, data, config, name, seed):
    allowed, hidden = data.draw(S.hiding_masks(name, config))
    mask = allowed.to(data.draw(st.sampled_from(S.MASK_DTYPES))).to(device)
    recipe = mha_recipe(config, seed, device, dtype)
    B, L, S_, H, d_model = config.batch, config.query_len, config.key_len, config.num_heads, config.d_model
    x = data.draw(S.tensors((B, L, d_model), dtype, device))
    kv = data.draw(S.tensors((B, S_, d_model), dtype, device))
    example = dict(**sizes_of(config), mask_shape=name, mask=mask, x=x, kv=kv)
    full = allowed.expand(B, H, L, S_).contiguous().to(device)
    changed = kv.clone()
    changed[hidden.to(device)] = data.draw(S.tensors((int(hidden.sum()), d_model), dtype, device))
    y, y_full, y_changed = student.run(outputs, recipe, [(x, kv, kv, mask), (x, kv, kv, full), (x, changed, changed, mask)])
    assert_matches(
        y,
        y_full,
        problem=f"{name} のマスクと、それを (B, num_heads, L, S) の bool に広げたマスクとで結果が違います / "
        f"the {name} mask and the same mask expanded to a bool (B, num_heads, L, S) give different outputs",
        what="MultiHeadAttention(x, kv, kv, mask)",
        example=example,
    )
    assert_matches(
        y_changed,
        y,
        problem="マスクで隠したキーと値を変えただけで出力が変わりました / changing only keys and values that the mask "
        "hides from every query changed the output",
        what="MultiHeadAttention(x, kv, kv, mask)",
        example=dict(example, hidden_keys=hidden, kv_changed_where_hidden=changed),
    )


@check(
    2,
    needs_reference=True,
    ja="因果マスクのもとでは未来のトークンを変えても過去の出力は変わらない (MultiHeadAttention と TransformerBlock)",
    en="under a causal mask, changing future tokens changes no earlier output (MultiHeadAttention and TransformerBlock)",
    hint_ja="マスクはヘッドとバッチにそのままブロードキャストし、softmax はキーの次元でとり、ヘッドは view のあと "
    "transpose で分けます。TransformerBlock は mask を attention に渡します。",
    hint_en="Broadcast the mask over heads and batch as it is, take the softmax over the keys, and split heads with "
    "view then transpose. TransformerBlock must pass mask on to its attention.",
)
@on_devices()
@given(data=st.data(), config=S.attention_configs(min_len=2, min_d_model=2), seed=S.SEEDS, module=st.sampled_from(MODULES))
def test_causality(student, device, dtype, data, config, seed, module):
    B, L, d_model = config.batch, config.query_len, config.d_model
    t = data.draw(st.integers(1, L - 1))  # positions t, t+1, ... are the future of positions < t
    x = data.draw(S.tensors((B, L, d_model), dtype, device))
    future = x.clone()
    future[:, t:] = data.draw(S.tensors((B, L - t, d_model), dtype, device))
    mask = ref.causal_mask(L, device=device)
    what, recipe = self_attention(module, config, seed, device, dtype)
    example = dict(module=what, **sizes_of(config), t=t, x=x, x_with_new_future=future, mask=mask)
    calls = [self_attention_args(recipe.cls, x, mask), self_attention_args(recipe.cls, future, mask)]
    before, after = (y[:, :t] for y in student.run(outputs, recipe, calls))
    assert_matches(
        after,
        before,
        problem=f"因果マスクがあるのに、位置 t 以降を変えると位置 t より前の出力が変わります / with a causal mask, "
        f"changing positions t, t+1, ... changed the outputs before t ({what})",
        what=f"{what}(x, mask)[:, :t]",
        example=example,
    )


@check(
    2,
    ja="位置エンコーディングなしの自己アテンションは並べ替えに同変: f(x[:, perm]) = f(x)[:, perm]",
    en="without positional encoding, self-attention is permutation equivariant: f(x[:, perm]) = f(x)[:, perm]",
    hint_ja="トークンの位置を混ぜていないか確かめましょう。ヘッドは view(B, L, num_heads, d_k).transpose(1, 2) で分けます "
    "(view(B, num_heads, L, d_k) は別々のトークンを混ぜてしまいます)。",
    hint_en="Check that nothing mixes token positions: split heads with view(B, L, num_heads, d_k).transpose(1, 2) "
    "(view(B, num_heads, L, d_k) mixes different tokens).",
)
@on_devices()
@given(data=st.data(), config=S.attention_configs(min_len=2, min_d_model=2), seed=S.SEEDS, module=st.sampled_from(MODULES))
def test_permutation_equivariance(student, device, dtype, data, config, seed, module):
    B, L, d_model = config.batch, config.query_len, config.d_model
    perm = torch.tensor(data.draw(st.permutations(range(L))), device=device)
    x = data.draw(S.tensors((B, L, d_model), dtype, device))
    what, recipe = self_attention(module, config, seed, device, dtype)
    example = dict(module=what, **sizes_of(config), x=x, perm=perm)
    calls = [self_attention_args(recipe.cls, x[:, perm]), self_attention_args(recipe.cls, x)]
    y_of_permuted, y = student.run(outputs, recipe, calls)
    permuted_first, permuted_after = y_of_permuted, y[:, perm]
    assert_matches(
        permuted_first,
        permuted_after,
        problem=f"トークンを並べ替えると、出力が同じように並べ替わるだけでなく値まで変わります / permuting the tokens "
        f"changed the outputs, not just their order ({what})",
        what="f(x[:, perm]) against f(x)[:, perm]",
        example=example,
    )


@check(
    1,
    ja="d_model が num_heads で割り切れないと ValueError (assert ではなく)",
    en="d_model not divisible by num_heads raises ValueError (not an assert)",
    hint_ja="if d_model % num_heads != 0: raise ValueError(...)。assert は AssertionError になり、python -O では消えます。",
    hint_en="if d_model % num_heads != 0: raise ValueError(...). An assert raises AssertionError and vanishes under python -O.",
)
@given(sizes=st.sampled_from([(6, 4), (5, 2), (7, 3), (2, 4), (10, 4)]), block=st.booleans())
def test_mha_rejects_indivisible_heads(student, sizes, block):
    d_model, num_heads = sizes
    cls, args = ("TransformerBlock", (d_model, num_heads, 8)) if block else ("MultiHeadAttention", (d_model, num_heads))
    assert_raises(ValueError, lambda *given: student.run(construct, Recipe(cls, given)), *args, case=f"{cls}{args}")


@check(
    2,
    needs_reference=True,
    ja="MultiHeadAttention は全ヘッドをまとめて計算する (演算数が num_heads によらない)",
    en="MultiHeadAttention computes all heads together (its number of tensor operations does not grow with num_heads)",
    hint_ja="ヘッドごとの for ループや ModuleList をやめ、(B, num_heads, L, d_k) のテンソルに対して 1 回の matmul と "
    "softmax で全ヘッドを計算しましょう。",
    hint_en="Drop the per-head loop (or ModuleList of heads): compute every head with one matmul and one softmax on "
    "(B, num_heads, L, d_k) tensors.",
)
@on_each_device()
def test_mha_vectorized_heads(student, device):
    x = S.make((2, 3, 64), torch.float32, device, 0)
    # num_heads=2 rather than 1: a (B, 1, L, d_k) tensor stays contiguous when transposed, so
    # .contiguous()/.reshape would skip at num_heads=1 a copy they make at every other count.
    masks, heads = (None, ref.causal_mask(3, device=device)), (2, 8)
    mhas = {H: shared(Recipe("MultiHeadAttention", (64, H), device=device)) for H in heads}  # H -> (recipe, reference)
    counted = iter(student.run(forward_op_counts, [(mhas[H][0], (x, x, x, mask)) for mask in masks for H in heads]))
    for mask in masks:
        ops = {}
        for H in heads:
            out, ops[H] = next(counted)
            # the count is taken where the student's code runs: believed only together with the right output
            assert_credited_with_values(
                out,
                expected_output(mhas[H][1], torch.float32, x, x, x, mask),
                what=f"MultiHeadAttention(64, {H})(x, x, x, mask)",
                values_check=titles(test_mha_values),
                example=dict(x=x, mask=mask),
            )
        few, many = ops[2], ops[8]
        assert_true(
            few == many,
            "MultiHeadAttention のテンソル演算の数が num_heads で変わります / MultiHeadAttention dispatches a number "
            f"of tensor operations that grows with num_heads: {few} ops with 2 heads but {many} with 8",
            example=dict(x_shape=(2, 3, 64), mask=mask),
        )


# -- PositionalEncoding ------------------------------------------------------------------------------------------


def pe_tolerance(positions: int) -> float:
    """How far a float32 table may be from the exact one in rows below ``positions``.

    A float32 angle pos * 10000^(-2i/d_model) carries a rounding error of a few ulp of the
    angle, so it grows with pos: at most 2 * pos * 2^-24 was measured for the tutorial's
    and other float32 routes (d_model up to 513, pos up to 5000); this allows four times that.
    """
    return 1e-6 + 8 * positions * 2.0**-24


@check(
    2,
    needs_reference=True,
    ja="PositionalEncoding のバッファ pe (max_len, d_model) が論文の式と一致する (sin と cos は列ごとに交互、d_model が奇数でも)",
    en="PositionalEncoding's buffer pe (max_len, d_model) follows the paper (sin and cos interleaved, odd d_model too)",
    hint_ja="pe[:, 0::2] = sin(pos * div)、pe[:, 1::2] = cos(pos * div[: d_model // 2])、div = 10000^(-2i/d_model)。"
    "torch.cat([sin, cos]) で前後に並べるのは誤りです。self.register_buffer('pe', pe) で登録しましょう。",
    hint_en="pe[:, 0::2] = sin(pos * div), pe[:, 1::2] = cos(pos * div[: d_model // 2]), div = 10000^(-2i/d_model). "
    "torch.cat([sin, cos]) puts them side by side, which is wrong. Register it with self.register_buffer('pe', pe).",
)
@on_each_device()
@given(d_model=S.sizes(1, 9), max_len=st.sampled_from([1, 3, 64, None]))
def test_positional_encoding_table(student, device, d_model, max_len):
    kwargs = {} if max_len is None else dict(max_len=max_len)
    max_len = 5000 if max_len is None else max_len  # the default
    table = student.run(positional_encoding, Recipe("PositionalEncoding", (d_model,), kwargs, device=device))
    example = dict(d_model=d_model, max_len=max_len)
    assert_true(
        table["registered"],
        "pe がバッファとして登録されていません (self.register_buffer('pe', pe) を使いましょう) / "
        "pe is not a registered buffer (use self.register_buffer('pe', pe))",
        example=example,
    )
    pe = table["pe"]
    # float32 (the default dtype, as PyTorch's tutorial builds it) or float64 are both fine for a buffer
    table_dtype = pe.dtype if pe.dtype in FULL else torch.get_default_dtype()
    expected = ref.sinusoidal_table(max_len, d_model).to(device=device, dtype=table_dtype)
    head = min(max_len, 64)  # float32 angles drift with pos (see pe_tolerance): a tight bound near the start
    assert_matches(pe[:head], expected[:head], what="pe[:64]", example=example, rtol=0.0, atol=pe_tolerance(head))
    assert_matches(pe, expected, what="pe", example=example, rtol=0.0, atol=pe_tolerance(max_len))


@check(
    2,
    needs_reference=True,
    ja="PositionalEncoding(x) = x + pe[:L] (評価モード、x の dtype・デバイスのまま)",
    en="PositionalEncoding(x) = x + pe[:L] (eval mode; x's dtype and device)",
    hint_ja="x は (B, L, d_model) (バッチが先) です。pe[:x.size(1)] を足します (x.size(0) はバッチの大きさ)。",
    hint_en="x is (B, L, d_model), batch first: add pe[:x.size(1)] (x.size(0) is the batch size).",
)
@on_devices()
@given(data=st.data(), B=S.sizes(1, 3), L=S.sizes(1, 6), half_d=S.sizes(1, 4), extra=st.integers(0, 3))
def test_positional_encoding_forward(student, device, dtype, data, B, L, half_d, extra):
    d_model, max_len = 2 * half_d, L + extra  # even d_model: an odd one is the table check's business
    recipe = Recipe("PositionalEncoding", (d_model,), dict(max_len=max_len), device=device, dtype=dtype)
    x = data.draw(S.tensors((B, L, d_model), dtype, device, noncontiguous=None))
    example = dict(d_model=d_model, max_len=max_len, x=x)
    result = student.run(positional_encoding, recipe, [x])
    # the student's own table, so that a wrong table costs only the table check; the
    # reference's when theirs is unusable (asked for always, so that a release's bank holds it)
    table = ref.sinusoidal_table(max_len, d_model)
    pe = result["pe"]
    if pe is None or pe.numel() != max_len * d_model:
        pe = table.to(device=device, dtype=dtype)
    [actual] = result["outputs"]
    expected = x + pe.reshape(max_len, d_model)[:L].to(dtype)
    assert_matches(actual, expected, what="PositionalEncoding(d_model, max_len)(x)", example=example)


@check(
    1,
    ja="PositionalEncoding は L > max_len の入力で ValueError を送出する",
    en="PositionalEncoding raises ValueError for an input longer than max_len",
    hint_ja="forward の最初で x.size(1) > max_len (= self.pe.size(0)) を確かめ、ValueError を送出しましょう "
    "(pe[:L] は黙って max_len で止まります)。",
    hint_en="At the start of forward, check x.size(1) > max_len (= self.pe.size(0)) and raise ValueError "
    "(pe[:L] silently stops at max_len).",
)
@on_each_device()
@given(max_len=S.sizes(1, 6), extra=S.sizes(1, 3), B=S.sizes(1, 3))
def test_positional_encoding_rejects_long_input(student, device, max_len, extra, B):
    recipe = Recipe("PositionalEncoding", (4,), dict(max_len=max_len), device=device, eval_mode=False)
    x = torch.randn(B, max_len + extra, 4, device=device)
    forward = lambda x: student.run(outputs, recipe, [(x,)])  # noqa: E731
    assert_raises(ValueError, forward, x, case=f"L = {max_len + extra} > max_len = {max_len}")


# -- TransformerBlock ------------------------------------------------------------------------------------------


#: The block's dropouts drawn for the value checks; None leaves the arguments out (the defaults).
BLOCK_DROPOUTS = st.sampled_from([None, 0.0, 0.1, 0.5])

#: The explicit example of the value checks: the defaults (dropout, and norm_first for post-norm, left out).
DEFAULT_BLOCK = dict(config=S.AttentionConfig(2, 4, 4, 2, 3), seed=0, d_ff=8, x_seed=0)


def assert_block_matches(student, device, dtype, config, seed, d_ff, dropout, x_seed, norm_first) -> None:
    """The block in eval mode on x, with the reference's weights. ``dropout`` None: the defaults are left out
    (dropout, and norm_first too when it is the default False)."""
    d_model, args = config.d_model, (config.d_model, config.num_heads, d_ff)
    if dropout is None:
        kwargs = dict(norm_first=True) if norm_first else {}
    else:
        kwargs = dict(dropout=dropout, norm_first=norm_first)
    recipe, reference = shared(Recipe("TransformerBlock", args, kwargs, seed, device, dtype))
    x = S.make((config.batch, config.query_len, d_model), dtype, device, x_seed)
    shown = "(省略 / default)" if dropout is None else dropout
    example = dict(**sizes_of(config), d_ff=d_ff, dropout=shown, norm_first=norm_first, x=x)
    [actual] = student.run(outputs, recipe, [(x,)])
    expected = expected_output(reference, dtype, x)
    assert_matches(actual, expected, what=f"TransformerBlock(..., norm_first={norm_first}).eval()(x)", example=example)


@check(
    3,
    needs_reference=True,
    ja="TransformerBlock (Post-LN、norm_first=False) が章のブロックと一致する",
    en="TransformerBlock with norm_first=False (post-norm) matches the chapter's block",
    hint_ja="x = norm1(x + dropout(attention(x, x, x, mask)))、x = norm2(x + dropout(feed_forward(x)))。"
    "LayerNorm は残差を足した後です。",
    hint_en="x = norm1(x + dropout(attention(x, x, x, mask))); x = norm2(x + dropout(feed_forward(x))): "
    "the LayerNorm comes after the residual sum.",
)
@on_devices()
@given(config=S.attention_configs(min_d_model=2), seed=S.SEEDS, d_ff=S.sizes(1, 8), dropout=BLOCK_DROPOUTS, x_seed=S.SEEDS)
@S.explicit("dropout", [None], **DEFAULT_BLOCK)
def test_block_post_norm_values(student, device, dtype, config, seed, d_ff, dropout, x_seed):
    assert_block_matches(student, device, dtype, config, seed, d_ff, dropout, x_seed, norm_first=False)


@check(
    2,
    needs_reference=True,
    ja="TransformerBlock (Pre-LN、norm_first=True) が参照実装と一致する",
    en="TransformerBlock with norm_first=True (pre-norm) matches the reference",
    hint_ja="h = norm1(x); x = x + dropout(attention(h, h, h, mask)); x = x + dropout(feed_forward(norm2(x)))。"
    "LayerNorm は各サブ層の前で、残差には正規化前の x を足します。",
    hint_en="h = norm1(x); x = x + dropout(attention(h, h, h, mask)); x = x + dropout(feed_forward(norm2(x))): "
    "normalise before each sublayer and add the sublayer to the unnormalised x.",
)
@on_devices()
@given(config=S.attention_configs(min_d_model=2), seed=S.SEEDS, d_ff=S.sizes(1, 8), dropout=BLOCK_DROPOUTS, x_seed=S.SEEDS)
@S.explicit("dropout", [None], **DEFAULT_BLOCK)
def test_block_pre_norm_values(student, device, dtype, config, seed, d_ff, dropout, x_seed):
    assert_block_matches(student, device, dtype, config, seed, d_ff, dropout, x_seed, norm_first=True)


# -- across modules ------------------------------------------------------------------------------------------------


@check(
    2,
    needs_reference=True,
    ja="評価モードでは決定的 (ドロップアウトなし)、訓練モードでは同じ乱数シードなら参照実装と同じ場所・同じ順序で"
    "ドロップアウトする (PositionalEncoding・MultiHeadAttention・TransformerBlock)",
    en="eval mode is deterministic (no dropout); in train mode, under the same seed, dropout acts where and in the "
    "order the reference's does (PositionalEncoding, MultiHeadAttention, TransformerBlock)",
    hint_ja="nn.Dropout は model.train()/model.eval() に従います。F.dropout なら training=self.training を渡します。"
    "PositionalEncoding は dropout(x + pe[:L])、MultiHeadAttention はアテンションの重み (B, num_heads, L, S) に 1 回。"
    "TransformerBlock の attention は MultiHeadAttention(d_model, num_heads) (自分のドロップアウトなし)、"
    "feed_forward は ReLU と 2 つ目の Linear の間に nn.Dropout、self.dropout は各サブ層の出力に 1 回ずつ (計 2 回)。",
    hint_en="nn.Dropout follows model.train()/model.eval(); with F.dropout pass training=self.training. "
    "PositionalEncoding: dropout(x + pe[:L]); MultiHeadAttention: once, on the attention weights (B, num_heads, L, S). "
    "TransformerBlock: attention is MultiHeadAttention(d_model, num_heads) with no dropout of its own, feed_forward "
    "has its nn.Dropout between the ReLU and the second Linear, and self.dropout acts once on each sublayer's output.",
)
@on_devices()
def test_dropout_train_and_eval(student, device, dtype):
    for seed, p in enumerate(S.DROPOUT_PROBS):
        assert_positional_encoding_dropout(student, device, dtype, p, seed)
        assert_attention_weights_dropout(student, device, dtype, p, seed, num_heads=(1, 4)[seed % 2])
        assert_attention_dropout_matches_reference(student, device, dtype, p, seed, bias=bool(seed % 2))
        assert_block_dropout(student, device, dtype, p, seed, norm_first=bool(seed % 2))
    assert_default_dropouts(student, device, dtype)


#: Why the train-mode comparison with the reference is left out in half precision: there the
#: reference computes in float32, and on a GPU a dropout mask depends on the tensor's dtype.
SAME_MASKS_DTYPES = FULL


def assert_same_masks(noisy: torch.Tensor, expected: torch.Tensor, *, what: str, seed: int, example: dict) -> None:
    """``noisy`` (train mode under ``seed``) equals ``expected``: the same dropout masks, drawn in the same order."""
    assert_matches(
        noisy,
        expected,
        problem=f"{what}: 評価モードの出力は参照実装と同じなのに、同じ乱数シードでの訓練モードの出力が違います "
        "(ドロップアウトをかける場所・回数・順序が契約と違います) / the eval-mode output matches the reference's, "
        "but under the same seed the train-mode output does not: dropout acts somewhere else, a different number of "
        "times, or in another order than the contract says",
        what=f"torch.manual_seed({seed}); {what}.train()(...)",
        example=example,
    )


def assert_deterministic(first: torch.Tensor, second: torch.Tensor, what: str, example: dict) -> None:
    assert_matches(
        second,
        first,
        problem=f"評価モードの {what} を 2 回呼ぶと結果が違います (評価モードではドロップアウトしない) / "
        f"{what} in eval mode gave two different results (no dropout in eval mode)",
        what=what,
        example=example,
    )


def assert_positional_encoding_dropout(student, device, dtype, p: float, seed: int) -> None:
    """dropout(x + pe[:L]): in train mode every entry is zero or scaled by 1/(1-p); in eval mode untouched."""
    recipe = Recipe("PositionalEncoding", (8,), dict(max_len=128, dropout=p), seed, device, dtype)
    x = S.make((1, 128, 8), dtype, device, seed)  # B=1: a wrong slice of pe costs the forward check, not this one
    what = f"PositionalEncoding(8, max_len=128, dropout={p})"
    example = dict(module=what, x=x)
    result = student.run(eval_twice_then_train, recipe, (x,), seed)
    assert_deterministic(result["clean"], result["again"], what, example)
    assert_dropout_applied(result["noisy"], result["clean"], p, what=f"{what}, train mode", example=example)
    # one nn.Dropout on x + pe[:L] (the eval-mode output), drawn under the same seed: torch's own dropout, here
    with seeded(seed, device):
        expected = F.dropout(result["clean"], p, training=True)
    assert_same_masks(result["noisy"], expected, what=what, seed=seed, example=example)


def assert_attention_dropout_matches_reference(student, device, dtype, p: float, seed: int, bias: bool) -> None:
    """With the reference's weights: eval mode as the reference, and train mode under ``seed`` too (same masks).

    One head: a loop over the heads draws its masks head by head, in another order than one
    draw for (B, num_heads, L, S); that loop costs the vectorisation check, not this one.
    With L = S = 5 and d_k = 8, the weights (B, 1, 5, 5) and the heads' outputs (B, 1, 5, 8)
    need different numbers of draws, so dropping the wrong one shows.
    """
    d_model, num_heads = 8, 1
    kwargs = dict(dropout=p, bias=bias)
    recipe, reference = shared(Recipe("MultiHeadAttention", (d_model, num_heads), kwargs, seed, device, dtype))
    x = S.make((2, 5, d_model), dtype, device, seed)
    what = f"MultiHeadAttention({d_model}, {num_heads}, dropout={p}, bias={bias})"
    example = dict(module=what, x=x, manual_seed=seed)
    result = student.run(eval_twice_then_train, recipe, (x, x, x), seed)
    # a train-mode output is judged only where the eval-mode one is right
    expected = expected_output(reference, dtype, x, x, x)
    values_check = titles(test_mha_values)
    assert_credited_with_values(result["clean"], expected, what=f"{what}.eval()(x, x, x)", values_check=values_check, example=example)
    if dtype in SAME_MASKS_DTYPES:
        expected = reference_train_output(reference.recipe, (x, x, x), seed)
        assert_same_masks(result["noisy"], expected, what=what, seed=seed, example=example)


def assert_attention_weights_dropout(student, device, dtype, p: float, seed: int, num_heads: int) -> None:
    """With W_v = W_o = identity and one-hot tokens, MultiHeadAttention's output shows its (dropped) weights."""
    d_model = 8
    recipe = Recipe("MultiHeadAttention", (d_model, num_heads), dict(dropout=p, bias=False), seed, device, dtype)
    tokens = torch.eye(d_model, device=device, dtype=dtype).repeat(16, 1, 1)  # B=16, L = S = d_model
    what = f"MultiHeadAttention({d_model}, {num_heads}, dropout={p}, bias=False) with W_v = W_o = I"
    example = dict(module=what, x=tokens)
    result = student.run(eval_twice_then_train, recipe, (tokens, tokens, tokens), seed, identity=("W_v", "W_o"))
    assert_deterministic(result["clean"], result["again"], what, example)
    noisy, clean = result["noisy"], result["clean"]
    assert_dropout_applied(noisy, clean, p, what=f"{what}, train mode (its output shows the weights)", example=example)


def assert_default_dropouts(student, device, dtype, seed: int = 7) -> None:
    """The defaults: PositionalEncoding and MultiHeadAttention do not drop; TransformerBlock drops with p = 0.1."""
    x = S.make((2, 5, 8), dtype, device, seed)
    one = x[:1]  # B=1 for PositionalEncoding: a wrong slice of pe costs the forward check, not this one
    for recipe, args in (
        (Recipe("PositionalEncoding", (8,), dict(max_len=16), seed, device, dtype), (one,)),
        (Recipe("MultiHeadAttention", (8, 2), {}, seed, device, dtype), (x, x, x)),
    ):
        what = f"{recipe.cls}({', '.join(map(str, recipe.args))}{', max_len=16' if recipe.kwargs else ''})"
        result = student.run(eval_twice_then_train, recipe, args, seed)
        assert_matches(
            result["noisy"],
            result["clean"],
            problem=f"{what}: dropout の既定値は 0.0 なのに、訓練モードの出力が評価モードと違います / dropout "
            "defaults to 0.0, yet the train-mode output differs from the eval-mode one",
            what=f"{what}.train()(...)",
            example=dict(module=what, x=args[0]),
        )
    recipe, reference = shared(Recipe("TransformerBlock", (8, 2, 16), {}, seed, device, dtype))
    what = "TransformerBlock(8, 2, 16)"
    example = dict(module=what, x=x, manual_seed=seed)
    result = student.run(eval_twice_then_train, recipe, (x,), seed)
    values_check = titles(test_block_post_norm_values)
    expected = expected_output(reference, dtype, x)
    assert_credited_with_values(result["clean"], expected, what=f"{what}.eval()(x)", values_check=values_check, example=example)
    if dtype in SAME_MASKS_DTYPES:
        expected = reference_train_output(reference.recipe, (x,), seed)
        assert_same_masks(result["noisy"], expected, what=f"{what} (dropout=0.1 by default)", seed=seed, example=example)


def assert_block_dropout(student, device, dtype, p: float, seed: int, norm_first: bool) -> None:
    """Eval mode: no dropout at all. Train mode: self.dropout on both sublayers' outputs."""
    d_model, num_heads = 8, 2
    kwargs = dict(dropout=p, norm_first=norm_first)
    recipe, reference = shared(Recipe("TransformerBlock", (d_model, num_heads, 16), kwargs, seed, device, dtype))
    x = S.make((2, 5, d_model), dtype, device, seed)
    what = f"TransformerBlock({d_model}, {num_heads}, 16, dropout={p}, norm_first={norm_first})"
    example = dict(module=what, x=x)
    result = student.run(block_dropout, recipe, x, seed)
    clean, noisy, calls = result["clean"], result["noisy"], result["calls"]
    assert_matches(
        clean,
        result["without"],
        problem=f"評価モードの {what} が dropout=0 のブロックと違います / {what} in eval mode differs from "
        "the same block with dropout=0",
        what=what,
        example=example,
    )
    assert_deterministic(clean, result["again"], what, example)
    # the count of self.dropout calls is taken where the student's code runs: believed only with the right outputs
    values_check = titles(test_block_pre_norm_values if norm_first else test_block_post_norm_values)
    expected = expected_output(reference, dtype, x)
    assert_credited_with_values(clean, expected, what=f"{what}.eval()(x)", values_check=values_check, example=example)
    assert_true(
        calls == 2,
        f"訓練モードの forward 1 回で self.dropout が {calls} 回呼ばれました (アテンションの後と feed_forward の後の "
        f"2 回のはず) / self.dropout was applied {calls} times in one train-mode forward (expected 2: after the "
        "attention and after feed_forward)",
        example=example,
    )
    assert_true(
        not torch.equal(noisy, clean),
        "訓練モードの TransformerBlock の出力が評価モードと同じです (ドロップアウトが効いていません) / "
        "TransformerBlock gives the eval-mode output in train mode (no dropout happened)",
        example=example,
    )
    if dtype in SAME_MASKS_DTYPES:
        expected = reference_train_output(reference.recipe, (x,), seed)
        assert_same_masks(noisy, expected, what=what, seed=seed, example=dict(example, manual_seed=seed))


@check(
    2,
    needs_reference=True,
    ja="勾配がすべてのパラメータに届く (AttentionHead・MultiHeadAttention・TransformerBlock)",
    en="gradients reach every parameter (AttentionHead, MultiHeadAttention, TransformerBlock)",
    hint_ja="計算の途中で .detach()、.item()、torch.no_grad()、torch.tensor(...) による作り直しをしていないか、"
    "作った層 (W_o や norm など) をすべて forward で使っているか確かめましょう。",
    hint_en="Look for .detach(), .item(), torch.no_grad() or rebuilding tensors with torch.tensor(...) on the way, "
    "and check that forward uses every layer you created (W_o, the norms, ...).",
)
@on_devices(half_on_cuda=False)
@given(
    data=st.data(),
    config=S.attention_configs(min_len=2, min_d_model=3),
    seed=S.SEEDS,
    module=st.sampled_from(("AttentionHead", *MODULES)),
)
def test_gradients_reach_every_parameter(student, device, dtype, data, config, seed, module):
    B, L, d_model = config.batch, config.query_len, config.d_model
    x = data.draw(S.tensors((B, L, d_model), dtype, device))
    if module == "AttentionHead":
        what = f"AttentionHead({d_model}, {config.d_k})"
        recipe = Recipe("AttentionHead", (d_model, config.d_k), seed=seed, device=device, dtype=dtype, eval_mode=False)
    else:
        what, recipe = self_attention(module, config, seed, device, dtype)
    recipe, reference = shared(recipe)
    expected = expected_output(reference, dtype, *self_attention_args(recipe.cls, x))
    expected = expected[0] if isinstance(expected, tuple) else expected  # AttentionHead: the context
    upstream = S.make(tuple(expected.shape), dtype, device, seed)  # not ones: a LayerNorm output always sums to a constant
    result = student.run(parameter_gradients, recipe, x, upstream)
    example = dict(module=what, x=x)
    if not result["connected"]:
        raise fail(
            f"{what} の出力が x やパラメータとつながっていません / the output of {what} is not connected to x or "
            "the parameters",
            example=example,
        )
    # which parameters got a gradient is seen where the student's code runs: believed only with the right output
    values_check = titles(VALUE_CHECKS[module]())
    assert_credited_with_values(result["out"], expected, what=f"{what} on x", values_check=values_check, example=example)
    grads = result["grads"]
    # every parameter the student's module reported, and any of the reference's it left out
    names = [*grads, *(name for name, _ in reference.named_parameters() if name not in grads)]
    for name in names:
        grad = grads.get(name)
        reached = grad is not None and bool(torch.isfinite(grad).all())
        # softmax ignores a shift shared by all keys, so the gradient of W_k's bias is zero by right
        if not name.endswith("W_k.bias"):
            reached = reached and bool((grad != 0).any())
        assert_true(
            reached,
            f"{what}: {name} に勾配が届いていません (None、ゼロ、または NaN) / no gradient reaches {name} "
            "(it is None, zero or not finite)",
            example=example,
            actual=grad,
        )
