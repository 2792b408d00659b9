"""演習問題 1 / Exercise 1: バッチの各系列の最後のトークンを取り出す / extract each sequence's last token.

パディングされたバッチ hidden (B, T, D) から、各系列の最後の「本物の」トークンの隠れ状態を
取り出す関数を 2 つ実装してください。どちらもベクトル化すること: Python のループで B や T を
回してはいけません (テンソル演算の数が B や T によって増えないこと)。

Implement two functions that pick, from a padded batch hidden (B, T, D), the hidden state
of each sequence's last real token. Both must be vectorised: no Python loop over B or T
(the number of tensor operations must not grow with B or T).

Check your work / 採点:  python -m grader check ex1   (or: pytest grader -m ex1)
"""

from __future__ import annotations

import torch


def last_token(hidden: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """各行 b について hidden[b, lengths[b] - 1] を返す (右パディング)。

    Return row b = hidden[b, lengths[b] - 1] for every b (right padding).

    - hidden: (B, T, D) の浮動小数点テンソル / a floating-point tensor (B, T, D)
    - lengths: (B,) の整数テンソル、1 <= lengths[b] <= T、hidden と同じデバイス
      / an integer tensor (B,), 1 <= lengths[b] <= T, on hidden's device
    - 戻り値 / returns: (B, D)、hidden と同じ dtype・デバイス / same dtype and device as hidden
    - 勾配は選ばれた位置だけに流れること / gradients flow to exactly the selected positions

    ValueError を送出すること / must raise ValueError when:
    - 長さが範囲外 (0 以下、T より大きい) / a length is out of range (< 1 or > T)
    - 形が合わない (hidden が 3 次元でない、lengths が (B,) でない)
      / shapes do not fit (hidden not 3-D, lengths not of shape (B,))
    """
    raise NotImplementedError("演習問題 1 (ex1_last_token.last_token) を実装してください / implement exercise 1")


def last_token_masked(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """各行のマスクが非ゼロである一番右の位置の隠れ状態を返す。

    Return, for each row, the hidden state at the rightmost position where mask is nonzero.

    - hidden: (B, T, D)
    - mask: (B, T)、bool または 0/1 の整数・浮動小数点; 非ゼロ = 本物のトークン
      / bool, or 0/1 integers or floats; nonzero = real token
    - パディングの位置は問わない: 右詰め、左詰め、途中の穴 / any padding: right, left, or gaps
    - 戻り値 / returns: (B, D)、hidden と同じ dtype・デバイス / same dtype and device as hidden

    ValueError を送出すること / must raise ValueError when:
    - 本物のトークンが 1 つもない行がある / a row has no real token
    - mask の形が (B, T) でない / mask is not of shape (B, T)
    """
    raise NotImplementedError(
        "演習問題 1 (ex1_last_token.last_token_masked) を実装してください / implement exercise 1"
    )
