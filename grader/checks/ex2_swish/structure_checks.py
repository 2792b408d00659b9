"""Exercise 2, structure: the SwishFunction graph node (no F.silu), only x (and beta) saved, inputs unchanged.

What these checks measure is seen where the student's code runs, so each counts only
together with correct values (the values checks named in VALUES and MODULE_VALUES).
"""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from grader import strategies as S
from grader.checks.ex2_swish import function_checks, module_checks
from grader.checks.ex2_swish.arguments import as_beta, example_of, reference_beta
from grader.checks.ex2_swish.comparisons import assert_custom_node
from grader.checks.ex2_swish.drivers import custom_function_facts, inputs_after_swish, kept_for_backward
from grader.checks.ex2_swish.oracles import ref
from grader.compare import assert_credited_with_values, assert_true
from grader.devices import on_each_device
from grader.feedback import fail
from grader.spec import check, titles

#: The checks of the values that a structural property comes with (see assert_credited_with_values).
VALUES, MODULE_VALUES = titles(function_checks.test_forward_values), titles(module_checks.test_module_values)


@check(
    2,
    needs_reference=True,
    ja="swish と Swish は SwishFunction を通り、F.silu (aten.silu) を使わない",
    en="swish and Swish go through SwishFunction and never call F.silu (aten.silu)",
    hint_ja="swish は SwishFunction.apply(x, beta) を返し、Swish.forward は swish を呼びます。"
    "forward の中で F.silu / torch.nn.SiLU を使わず、sigmoid と掛け算で書きましょう。",
    hint_en="swish returns SwishFunction.apply(x, beta) and Swish.forward calls swish. Inside forward, use sigmoid "
    "and a multiplication, not F.silu or torch.nn.SiLU.",
)
@on_each_device()
@given(shape=S.swish_shapes(), seed=S.SEEDS, beta=S.BETA_ARGUMENTS)
@S.explicit("beta", S.DEFAULT_BETAS, shape=(2, 3), seed=0)
def test_uses_custom_function(student, device, shape, seed, beta):
    x = S.make(shape, torch.float32, device, seed, requires_grad=True)
    beta = as_beta(beta, x)
    module_beta = float(beta) if isinstance(beta, torch.Tensor) else beta
    example = example_of(x, beta)
    seen = student.run(custom_function_facts, x, beta, module_beta)
    assert_custom_node(seen["node"], "swish(x, beta)", example)
    used = seen["silu_ops"]
    assert_true(
        not used,
        f"swish(x, beta) の中で {', '.join(used)} が呼ばれています: F.silu を使わずに実装してください / "
        f"swish(x, beta) dispatches {', '.join(used)}: implement it without F.silu",
        example=example,
    )
    # the node and the operators were seen where your code runs: they count with correct values only
    expected = ref.swish(x.detach(), reference_beta(beta))
    assert_credited_with_values(seen["out"], expected, what="swish(x, beta)", values_check=VALUES, example=example)
    assert_custom_node(seen["module_node"], "Swish(beta)(x)", example)
    expected = ref.swish(x.detach(), reference_beta(module_beta))
    assert_credited_with_values(seen["module_out"], expected, what="Swish(beta)(x)", values_check=MODULE_VALUES, example=example)


@check(
    2,
    needs_reference=True,
    ja="backward のために保存するのは入力 x (と beta) だけ (F.silu と同じメモリ量)",
    en="only the input x (and beta) is saved for backward (the same memory as F.silu)",
    hint_ja="ctx.save_for_backward(x) (beta がテンソルなら x, beta) だけにし、sigmoid(beta·x) や出力は保存せず "
    "backward で計算し直しましょう。ctx の属性にテンソルを置くのも保存と同じです。",
    hint_en="Call ctx.save_for_backward(x) (x, beta when beta is a tensor) and nothing more: recompute "
    "sigmoid(beta*x) in backward instead of saving it or the output. A tensor kept on a ctx attribute counts too.",
)
@on_each_device()
@given(rows=S.sizes(2, 5), cols=S.sizes(1, 4), seed=S.SEEDS, beta=st.none() | S.BETAS, tensor_beta=st.booleans())
@S.explicit("beta", [None, S.DEFAULT_BETA], rows=2, cols=3, seed=0, tensor_beta=False)
@S.explicit("beta", [S.DEFAULT_BETA], rows=2, cols=3, seed=0, tensor_beta=True)
def test_saves_only_input(student, device, rows, cols, seed, beta, tensor_beta):
    x = S.make((rows, cols), torch.float32, device, seed, requires_grad=True)
    tensor_beta = tensor_beta and beta is not None
    beta = torch.tensor(beta, device=device, requires_grad=True) if tensor_beta else beta
    example = example_of(x, beta)
    seen = student.run(kept_for_backward, x, beta)
    # beta (a float or a 0-dim tensor) may be saved as a 1-element tensor; anything larger must be x itself
    extra = [t for t in seen["kept"] if t["numel"] > 1 and not t["is_x"]]
    if extra:
        allowed = x.numel() * x.element_size()
        total = sum(t["bytes"] for t in seen["kept"] if t["numel"] > 1)
        raise fail(
            f"x 以外のテンソルが backward 用に保存されています ({total} バイト、F.silu は x の {allowed} バイトだけ) / "
            f"tensors other than x are kept for backward ({total} bytes; F.silu keeps only x, {allowed} bytes)",
            example=example,
            detail="保存された余分なテンソル / extra saved tensors: "
            + ", ".join(f"shape={t['shape']} {str(t['dtype']).removeprefix('torch.')}" for t in extra),
        )
    # what was saved was seen where your code runs: it counts with correct values only
    expected = ref.swish(x.detach(), beta.detach() if tensor_beta else reference_beta(beta))
    assert_credited_with_values(seen["out"], expected, what="swish(x, beta)", values_check=VALUES, example=example)


@check(
    1,
    needs_reference=True,
    ja="入力 x と beta を書き換えない (forward でも backward でも)",
    en="the inputs x and beta are left unchanged (in forward and in backward)",
    hint_ja="x.mul_() や x *= ... のようなインプレース演算で入力を書き換えないでください。新しいテンソルを作りましょう。",
    hint_en="Do not change the inputs with in-place operations such as x.mul_() or x *= ...: build new tensors.",
)
@on_each_device()
@given(shape=S.swish_shapes(), seed=S.SEEDS, beta=S.BETA_ARGUMENTS, requires_grad=st.booleans())
@S.explicit("beta", S.DEFAULT_BETAS, shape=(2, 3), seed=0, requires_grad=True)
def test_input_unchanged(student, device, shape, seed, beta, requires_grad):
    x = S.make(shape, torch.float32, device, seed, requires_grad=requires_grad)
    beta = as_beta(beta, x)
    if isinstance(beta, torch.Tensor):
        beta.requires_grad_(requires_grad)
    inputs = {"x": x} if not isinstance(beta, torch.Tensor) else {"x": x, "beta": beta}
    before = {name: t.detach().clone() for name, t in inputs.items()}
    example = example_of(before["x"], before.get("beta", beta))
    seen = student.run(inputs_after_swish, x, beta)
    for name, values in before.items():
        after = seen["inputs"][name]
        changed = not torch.equal(after["values"], values)
        versions = after["versions"]
        assert_true(
            versions[0] == versions[1] and not changed,
            f"swish(x, beta) が入力 {name} をインプレースで書き換えました / swish(x, beta) changed its input {name} in place"
            + (
                ""
                if changed
                else " (値は元に戻っていますが、インプレース演算の跡がバージョン番号に残っています / the values were "
                f"put back, but the in-place operations show in its version counter: {versions[0]} -> {versions[1]})"
            ),
            example=example,
            expected=values if changed else None,
            actual=after["values"] if changed else None,
        )
    # the version counters were read where your code runs: they count with correct values only
    expected = ref.swish(before["x"], before.get("beta", reference_beta(beta)))
    assert_credited_with_values(seen["out"], expected, what="swish(x, beta)", values_check=VALUES, example=example)
