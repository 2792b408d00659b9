"""Exercise 2, the ``Swish`` module: its values, its parameters (learnable or not), the gradient for its beta."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from grader import strategies as S
from grader.checks.ex2_swish.arguments import reference_beta
from grader.checks.ex2_swish.drivers import module_beta_gradient, module_output, module_parameters
from grader.checks.ex2_swish.oracles import ref, reference_grads
from grader.compare import assert_matches, assert_true
from grader.devices import on_devices
from grader.spec import check


@check(
    1,
    needs_reference=True,
    ja="Swish(beta) と Swish(beta, learnable=True) の出力が swish(x, beta) と一致する",
    en="Swish(beta) and Swish(beta, learnable=True) give swish(x, beta)",
    hint_ja="Swish.forward は swish(x, self.beta) を返します。learnable=False でも beta を無視しないでください。",
    hint_en="Swish.forward returns swish(x, self.beta); do not drop beta when learnable=False.",
)
@on_devices()
@given(shape=S.swish_shapes(), seed=S.SEEDS, beta=st.none() | S.MODULE_BETAS, learnable=st.booleans())
@S.explicit("beta", [None, S.DEFAULT_BETA], shape=(2, 3), seed=0, learnable=False)
@S.explicit("beta", [None, S.DEFAULT_BETA], shape=(2, 3), seed=0, learnable=True)
def test_module_values(student, device, dtype, shape, seed, beta, learnable):
    x = S.make(shape, dtype, device, seed)
    expected = ref.swish(x, reference_beta(beta))
    actual = student.run(module_output, beta, learnable, x)
    what = f"Swish(learnable={learnable})(x)" if beta is None else f"Swish({beta}, learnable={learnable})(x)"
    assert_matches(actual, expected, what=what, example=dict(x=x))


@check(
    1,
    ja="learnable=True なら beta は 0 次元の nn.Parameter、False ならパラメータを登録しない",
    en="learnable=True makes beta a 0-dim nn.Parameter; learnable=False registers no parameter",
    hint_ja="learnable=True のとき self.beta = nn.Parameter(torch.tensor(float(beta)))。False のときは float のまま "
    "(または register_buffer) にして、model.parameters() に現れないようにしましょう。",
    hint_en="With learnable=True set self.beta = nn.Parameter(torch.tensor(float(beta))). Otherwise keep a float "
    "(or register_buffer) so that it does not appear in model.parameters().",
)
@given(beta=S.MODULE_BETAS)
@S.explicit("beta", [S.DEFAULT_BETA])
def test_module_parameters(student, beta):
    seen = student.run(module_parameters, beta)
    params = seen["fixed"]
    assert_true(
        not params,
        f"Swish(beta={beta}) (learnable=False) がパラメータ {sorted(params)} を登録しています / "
        f"Swish(beta={beta}) (learnable=False) registers parameters {sorted(params)}",
    )
    default = seen["default"]
    assert_true(not default, f"Swish() がパラメータ {sorted(default)} を登録しています / Swish() registers parameters {sorted(default)}")
    params, b = seen["learnable"], seen["beta"]
    assert_true(
        b["is_parameter"] and list(params) == ["beta"] and b["is_registered"],
        f"Swish(beta={beta}, learnable=True) の beta が nn.Parameter として登録されていません "
        f"(登録されたパラメータ: {sorted(params)}) / Swish(beta={beta}, learnable=True).beta is not its one "
        f"nn.Parameter named 'beta' (parameters: {sorted(params)}, beta is {b['type']})",
    )
    p = params["beta"]
    value = p["value"]
    assert_true(
        len(p["shape"]) == 0
        and p["requires_grad"]
        and isinstance(value, torch.Tensor)
        and value.is_floating_point()
        and value.numel() == 1
        and float(value) == beta,
        f"Swish(beta={beta}, learnable=True).beta は値 {beta} の 0 次元の浮動小数点パラメータであるべきです / "
        f"Swish(beta={beta}, learnable=True).beta must be a 0-dim floating-point parameter holding {beta}",
        expected=torch.tensor(beta),
        actual=value,
    )


@check(
    2,
    needs_reference=True,
    ja="learnable=True のとき、逆伝播で Swish.beta に正しい勾配が入る",
    en="with learnable=True, backward puts the right gradient in Swish.beta",
    hint_ja="Swish.forward で self.beta をテンソルのまま swish に渡しましょう (float(self.beta) や .item() にすると"
    "勾配が途切れます)。swish の backward が beta の勾配を返していることも確かめましょう。",
    hint_en="Pass self.beta to swish as the tensor it is (float(self.beta) or .item() cut the gradient), and make "
    "sure swish's backward returns beta's gradient.",
)
@on_devices(half_on_cuda=False)  # a sum over every element: see test_beta_gradient
@given(shape=S.swish_shapes(), seed=S.SEEDS, beta=S.MODULE_BETAS)
@S.explicit("beta", [S.DEFAULT_BETA], shape=(2, 3), seed=0)
def test_module_beta_gradient(student, device, dtype, shape, seed, beta):
    x = S.make(shape, dtype, device, seed)
    upstream = S.make(shape, dtype, device, seed + 1, low=-1.0, high=1.0)
    example = dict(x=x, beta=beta, grad_output=upstream)
    seen = student.run(module_beta_gradient, beta, x, upstream)
    assert_true(
        seen["beta"] is not None,
        "Swish(beta, learnable=True).beta が勾配を必要とするテンソルではありません / "
        "Swish(beta, learnable=True).beta is not a tensor that requires grad",
        example=example,
    )
    assert_true(
        seen["connected"],
        "Swish の出力が beta とつながっていません / the output of Swish is not connected to beta",
        example=example,
    )
    assert_true(
        seen["grad"] is not None,
        "Swish.beta に勾配が流れません / no gradient reaches Swish.beta",
        example=example,
    )
    # at the beta drawn (test_module_parameters checks that the module holds it): an oracle
    # call is made of drawn data only, never of what the student's code returned
    expected = reference_grads(x, torch.tensor(beta, dtype=dtype, device=device), upstream)[1]
    assert_matches(seen["grad"], expected, what="d Swish(beta, learnable=True)(x) / d beta", example=example)
