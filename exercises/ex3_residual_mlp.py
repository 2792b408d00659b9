"""演習問題 3 / Exercise 3: 残差接続とドロップアウトを含む、深さ可変の MLP / a depth-variable residual MLP with dropout.

入力を隠れ次元へ射影し、同じ形のブロックを depth 個くぐらせ、最後に正規化して出力次元へ
射影するモデル ResidualMLP を実装してください。各ブロックは「プレノルム」の残差ブロックです:

    x ── input_proj ──► block 1 ──► ... ──► block depth ──► norm ──► output_proj ──► y

    block(x) = x + dropout(fc2(activation(fc1(norm(x)))))

Implement ResidualMLP: project the input to the hidden size, pass it through ``depth``
identical-shaped blocks, then normalise and project to the output size. Each block is a
pre-norm residual block, as in the diagram above.

採点では参照実装の state_dict をあなたのモデルに strict に読み込んで (load_state_dict(...,
strict=True)) 値を比べます。そのため、下に書いた属性名と構造を正確に守ってください。
The grader loads the reference model's state_dict into yours with strict=True and then
compares values, so keep exactly the attribute names and structure described below.

Check your work / 採点:  python -m grader check ex3   (or: pytest grader -m ex3)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class ResidualMLP(nn.Module):
    """残差接続とドロップアウトを含む、深さ可変の MLP。/ A depth-variable residual MLP with dropout.

    引数 / arguments:
    - in_features, hidden_features, out_features: 入力・隠れ・出力の次元 (正の整数)
      / input, hidden and output sizes (positive integers)
    - depth: ブロックの数 (0 以上; 0 ならブロックなし) / number of blocks (>= 0; 0 means no blocks)
    - dropout: 各ブロックのドロップアウト確率、0 <= dropout < 1 / each block's dropout probability
    - activation: 活性化関数のクラス (nn.ReLU、nn.GELU、Swish など)。ブロックごとに activation()
      を呼んで「別々の」インスタンスを作ること (学習可能なパラメータを持つ活性化関数もあるため)
      / the activation's class (nn.ReLU, nn.GELU, Swish, ...). Call activation() once PER BLOCK
      so that each block has its own instance (some activations have learnable parameters)

    属性 (この名前と構造で) / attributes (exactly these names and this structure):
    - input_proj  = nn.Linear(in_features, hidden_features)
    - blocks      = nn.ModuleList of depth blocks; block i has:
        - norm       = nn.LayerNorm(hidden_features)
        - fc1        = nn.Linear(hidden_features, hidden_features)
        - activation = activation()
        - fc2        = nn.Linear(hidden_features, hidden_features)
        - dropout    = nn.Dropout(dropout)
    - norm        = nn.LayerNorm(hidden_features)         (最後の正規化 / the final norm)
    - output_proj = nn.Linear(hidden_features, out_features)

    forward(x): (..., in_features) -> (..., out_features)。先頭の次元はいくつでもよい
    (0 個でも、大きさ 0 でも) / any number of leading dimensions (none, or of size 0, too).

    - ブロックの計算は x + dropout(fc2(activation(fc1(norm(x))))) (この順序で。ドロップアウトは
      fc2 の「後」、残差の足し算の「前」) / a block computes x + dropout(fc2(activation(fc1(norm(x)))))
      in this order: dropout AFTER fc2 and BEFORE the residual sum
    - 学習モード (model.train()) でのみドロップアウトし、評価モード (model.eval()) では何もしない
      / dropout acts only in training mode (model.train()), never in evaluation mode (model.eval())
    - 同じ乱数シードなら参照実装と同じドロップアウトのマスクになること: nn.Dropout (または
      F.dropout(..., training=self.training)) をブロックごとに 1 回、上の位置で使えばそうなります
      / under the same random seed, the dropout masks must equal the reference's: using
      nn.Dropout (or F.dropout(..., training=self.training)) once per block, where shown, does that
    - 勾配がすべてのパラメータに届くこと (.detach() や torch.no_grad() で計算を切らない)
      / gradients must reach every parameter (do not cut the graph with .detach() or torch.no_grad())

    ValueError を送出すること / must raise ValueError when:
    - depth が負 / depth is negative
    - in_features、hidden_features、out_features のどれかが 0 以下 / a size is zero or negative
    - dropout が [0, 1) の外 (負、または 1 以上) / dropout is outside [0, 1) (negative, or 1 or more)
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int,
        out_features: int,
        depth: int,
        dropout: float = 0.1,
        activation: Callable[[], nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        raise NotImplementedError("演習問題 3 (ex3_residual_mlp.ResidualMLP) を実装してください / implement exercise 3")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., in_features) -> (..., out_features)。/ Map (..., in_features) to (..., out_features)."""
        raise NotImplementedError("演習問題 3 (ex3_residual_mlp.ResidualMLP.forward) を実装してください / implement exercise 3")
