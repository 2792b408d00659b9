"""演習問題 2 / Exercise 2: 自動微分対応の Swish / Swish with a custom autograd Function.

活性化関数 Swish を、自分で書いた torch.autograd.Function として実装してください
(4.2 節の ReLUCustom と同じ形です):

    swish(x, β) = x · sigmoid(β · x)        (β = 1 のとき SiLU と同じ / equals SiLU when β = 1)

    s = sigmoid(β·x) とすると / with s = sigmoid(β·x):
    ∂swish/∂x = s · (1 + β·x·(1 − s))
    ∂swish/∂β = x² · s · (1 − s)

Implement the Swish activation as your own torch.autograd.Function (the same shape as
ReLUCustom in section 4.2), a function ``swish`` that applies it, and a module ``Swish``.

採点されること / what is checked:
- forward と backward の値が参照実装と一致する (dtype・デバイス・形を保つ)
  / forward and backward values match the reference (dtype, device and shape preserved)
- float64 で torch.autograd.gradcheck と gradgradcheck に通る。backward を微分可能なテンソル演算で
  書けば 2 階微分 (double backward) も動きます (@once_differentiable は使わないこと)
  / passes torch.autograd.gradcheck and gradgradcheck in float64: write backward with
  differentiable tensor operations and double backward works too (no @once_differentiable)
- 計算グラフのノードが SwishFunction であり、F.silu (aten.silu) を使わない
  / the graph node is SwishFunction, and F.silu (aten.silu) is not used
- backward のために保存するのは入力 x (と、テンソルなら beta) だけ。sigmoid の値は backward で
  計算し直す (F.silu と同じメモリ量) / only the input x (and beta when it is a tensor) is saved
  for backward; recompute the sigmoid there (the same memory as F.silu)
- 入力をインプレースで書き換えない / the inputs are not modified in place
- |x| が大きくても (±1e4) どの dtype でも出力と勾配が有限 (inf や nan にならない)
  / outputs and gradients stay finite for large |x| (±1e4) in every dtype
- 空のテンソルや非連続なテンソル (転置・スライス) でも動く / empty and non-contiguous tensors work

Check your work / 採点:  python -m grader check ex2   (or: pytest grader -m ex2)
"""

from __future__ import annotations

import torch
from torch import nn


class SwishFunction(torch.autograd.Function):
    """swish(x, beta) = x · sigmoid(beta · x) の自動微分関数。/ The autograd Function of swish.

    使い方 / usage: ``SwishFunction.apply(x, beta)``
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, beta: float | torch.Tensor) -> torch.Tensor:
        """x · sigmoid(beta · x) を返す。/ Return x * sigmoid(beta * x).

        - x: 任意の形の浮動小数点テンソル (空でも非連続でもよい)。書き換えないこと
          / a floating-point tensor of any shape (possibly empty or non-contiguous); do not modify it
        - beta: float、または x と同じデバイスの 0 次元テンソル (勾配を必要とすることもある)
          / a float, or a 0-dim tensor on x's device (it may require grad)
        - 戻り値 / returns: x と同じ形・dtype・デバイスのテンソル / same shape, dtype and device as x
        - backward のために ctx.save_for_backward で保存するのは x (と、テンソルなら beta) だけ
          / save only x (and beta when it is a tensor) with ctx.save_for_backward
        - F.silu / torch.nn.SiLU は使わないこと / do not use F.silu or torch.nn.SiLU
        """
        raise NotImplementedError("演習問題 2 (ex2_swish.SwishFunction.forward) を実装してください / implement exercise 2")

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(x の勾配, beta の勾配) を返す。/ Return (gradient for x, gradient for beta).

        - x の勾配 / for x: grad_output · s · (1 + beta·x·(1 − s))、s = sigmoid(beta·x)
        - beta の勾配 / for beta: beta が勾配を必要とするテンソルなら (grad_output · x² · s · (1 − s)) の
          全要素の和を beta と同じ形 (0 次元) で。float や勾配不要のときは None
          / when beta is a tensor that requires grad, the sum over all elements of
          grad_output * x**2 * s * (1 - s), shaped like beta (0-dim); otherwise None
        - ctx.needs_input_grad[0], [1] でどちらが必要かわかります / ctx.needs_input_grad tells which are needed
        - 微分可能なテンソル演算だけで書くこと (2 階微分のため)。exp を直接使うと |x| が大きいとき
          inf/inf = nan になります: torch.sigmoid を使いましょう
          / use differentiable tensor operations only (for double backward); exp used directly
          gives inf/inf = nan for large |x|: use torch.sigmoid
        """
        raise NotImplementedError("演習問題 2 (ex2_swish.SwishFunction.backward) を実装してください / implement exercise 2")


def swish(x: torch.Tensor, beta: float | torch.Tensor = 1.0) -> torch.Tensor:
    """SwishFunction を x に適用する: x · sigmoid(beta · x)。/ Apply SwishFunction: x * sigmoid(beta * x).

    - beta の既定値は 1.0 (SiLU と同じ値) / beta defaults to 1.0 (the same values as SiLU)
    - 勾配は x と、勾配を必要とするテンソルの beta に流れる
      / gradients flow to x and to beta when it is a tensor that requires grad
    """
    raise NotImplementedError("演習問題 2 (ex2_swish.swish) を実装してください / implement exercise 2")


class Swish(nn.Module):
    """Swish 活性化関数のモジュール: forward(x) = swish(x, beta)。/ The Swish activation as a module.

    - Swish(beta=1.0, learnable=False): beta は固定。パラメータを登録しないこと (float のまま持つか、
      register_buffer を使う。どちらにしたかを docstring に書くこと)
      / beta is fixed: register no parameter (keep it as a float, or use register_buffer;
      say which in your docstring)
    - Swish(beta, learnable=True): beta は学習される。self.beta を 0 次元の nn.Parameter にすること
      (値は float(beta)) / beta is learned: make self.beta a 0-dim nn.Parameter holding float(beta)
    - forward(x) は swish(x, self.beta) を返し、learnable=True なら逆伝播で self.beta に勾配が入る
      / forward(x) returns swish(x, self.beta); with learnable=True backward fills self.beta.grad
    """

    def __init__(self, beta: float = 1.0, learnable: bool = False) -> None:
        super().__init__()
        raise NotImplementedError("演習問題 2 (ex2_swish.Swish) を実装してください / implement exercise 2")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """swish(x, self.beta) を返す。/ Return swish(x, self.beta)."""
        raise NotImplementedError("演習問題 2 (ex2_swish.Swish.forward) を実装してください / implement exercise 2")
