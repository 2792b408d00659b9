"""演習問題 5 / Exercise 5: Transformer の部品 / the building blocks of a Transformer.

章の「モジュールの設計哲学」の AttentionHead・MultiHeadAttention・TransformerBlock と、
ノートブック 12 節の位置エンコーディングを、自分の手で組み立てます。

    scaled_dot_product_attention:  softmax(Q Kᵀ / √d_k) V  (マスクつき)
    AttentionHead:                 ヘッド 1 つ: W_q, W_k, W_v (d_model → d_k) のあとアテンション
    MultiHeadAttention:            全ヘッドを一度に: W_q, W_k, W_v → ヘッドに分割 → アテンション
                                   → ヘッドを結合 → W_o
    PositionalEncoding:            x + PE[:L] (正弦波の位置エンコーディング)
    TransformerBlock:              アテンションとフィードフォワード、それぞれ残差接続と LayerNorm つき

Build, by hand, the chapter's AttentionHead, MultiHeadAttention and TransformerBlock (from
"モジュールの設計哲学") and the positional encoding of the notebook's section 12.

記号 / Shapes: B バッチ / batch, L クエリの長さ / query length, S キーの長さ / key length,
d_model モデルの幅 / model width, num_heads ヘッド数 / heads, d_k = d_model // num_heads.

マスクの約束 / The mask convention (everywhere in this exercise):
    mask は bool または 0/1 (整数・浮動小数点) で、(..., L, S) にブロードキャストできる形。
    非ゼロ (True) = 「このキーを見てよい」。見てよいキーが 1 つもないクエリの行は、
    重みも出力もゼロにすること (NaN にも、一様な重みにもしない)。
    mask is bool or 0/1 (integers or floats), broadcastable to (..., L, S); nonzero (True)
    means "may attend to this key". A query row that may attend to no key gets zero weights
    and a zero output (never NaN, never uniform attention).
    注意: nn.MultiheadAttention の bool マスクは逆 (True = 隠す) です。
    Beware: nn.MultiheadAttention's bool masks mean the opposite (True = masked out).

ドロップアウトの約束 / The dropout convention:
    ドロップアウトは訓練モード (module.train()) でだけ、下に書いた場所で、書いた順にかけます。
    そこで nn.Dropout (または F.dropout(..., training=self.training)) を使えば、同じ乱数シードの
    もとで参照実装と同じマスクになります (採点はこれを比べます)。ほかの場所にかけたり、
    余分なドロップアウトを足したりしないこと (例: TransformerBlock の attention には
    nn.TransformerEncoderLayer と違って dropout を渡さない)。
    Dropout acts in training mode (module.train()) only, exactly where stated below and in
    that order. Using nn.Dropout (or F.dropout(..., training=self.training)) there draws the
    same masks as the reference under the same random seed, and the grader compares them.
    Move none and add none (e.g. the block's attention gets no dropout of its own, unlike
    nn.TransformerEncoderLayer's).

名前は章と同じにしてください (採点は state_dict の名前で重みを読み込みます):
Keep the chapter's names (the grader loads weights by state_dict name):
W_q, W_k, W_v, W_o, norm1, norm2, feed_forward, attention, dropout, pe.

Check your work / 採点:  python -m grader check ex5   (or: pytest grader -m ex5)
"""

from __future__ import annotations

import torch
from torch import nn


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    training: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """スケール付き内積アテンション: (out, weights) を返す。

    Scaled dot-product attention: return (out, weights).

    - q: (..., L, d_k)、k: (..., S, d_k)、v: (..., S, d_v)。先頭の次元 (...) はいくつあってもよい
      / any number of leading dimensions (...)
    - scores = q @ kᵀ / √d_k、weights = softmax(scores) をキーの次元 (最後の次元) で
      / the softmax runs over the keys (the last dimension)
    - mask (省略可 / optional): (..., L, S) にブロードキャストできる bool または 0/1、非ゼロ = 見てよい
      / bool or 0/1 broadcastable to (..., L, S), nonzero = may attend
    - 見てよいキーが 1 つもない行: weights も out もゼロ (NaN や一様な重みは不可)
      / a row that may attend to no key: zero weights and zero output (no NaN, no uniform weights)
    - dropout: training=True のときだけ weights に確率 dropout_p のドロップアウトをかける。
      返す weights はドロップアウト後の (実際に使った) もので、out = weights @ v
      / only when training=True, dropout with probability dropout_p acts on the weights; the
      weights returned are the ones applied (after dropout), so out = weights @ v
    - 戻り値 / returns: out (..., L, d_v)、weights (..., L, S)、q と同じ dtype・デバイス
      / same dtype and device as q
    """
    raise NotImplementedError(
        "演習問題 5 (ex5_transformer.scaled_dot_product_attention) を実装してください / implement exercise 5"
    )


def causal_mask(L: int, S: int | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """因果マスク: クエリ i はキー j <= i だけを見てよい。

    Causal mask: query i may attend to keys j <= i only.

    - 戻り値 / returns: bool の (L, S) テンソル (S を省略したら S = L)、True = 見てよい
      / a bool (L, S) tensor (S defaults to L), True = may attend; on ``device``
    - 左上にそろえる: F.scaled_dot_product_attention(..., is_causal=True) と同じ
      (L != S でも (i, j) は j <= i のとき True)
      / aligned to the upper left, like F.scaled_dot_product_attention(..., is_causal=True)
      (even when L != S, entry (i, j) is True exactly when j <= i)
    """
    raise NotImplementedError("演習問題 5 (ex5_transformer.causal_mask) を実装してください / implement exercise 5")


class AttentionHead(nn.Module):
    """章のアテンションヘッド 1 つ / the chapter's single attention head.

    - __init__(d_model, d_k): W_q, W_k, W_v = nn.Linear(d_model, d_k, bias=False)
    - forward(query, key, value, mask=None) -> (context, weights)
      query (B, L, d_model)、key・value (B, S, d_model)、mask は (B, L, S) にブロードキャストできる形
      / mask broadcastable to (B, L, S)
      context (B, L, d_k)、weights (B, L, S): Q = W_q(query) などに scaled_dot_product_attention を使う
      / apply scaled_dot_product_attention to Q = W_q(query), K = W_k(key), V = W_v(value)
    """

    def __init__(self, d_model: int, d_k: int) -> None:
        super().__init__()
        raise NotImplementedError("演習問題 5 (ex5_transformer.AttentionHead) を実装してください / implement exercise 5")

    def forward(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError(
            "演習問題 5 (ex5_transformer.AttentionHead.forward) を実装してください / implement exercise 5"
        )


class MultiHeadAttention(nn.Module):
    """マルチヘッドアテンション: 全ヘッドを 1 回のテンソル演算でまとめて計算する。

    Multi-head attention, all heads computed together in the same tensor operations.

    - __init__(d_model, num_heads, dropout=0.0, bias=True):
      W_q, W_k, W_v, W_o = nn.Linear(d_model, d_model, bias=bias)。
      d_model が num_heads で割り切れなければ ValueError (assert は不可)
      / raise ValueError (not assert) when d_model is not divisible by num_heads
    - forward(query, key, value, mask=None) -> (B, L, d_model)
      query (B, L, d_model)、key・value (B, S, d_model) (L != S のクロスアテンションも)
      / (cross-attention with L != S too)
      1. Q, K, V = W_q(query), W_k(key), W_v(value) を (B, num_heads, L または S, d_k) に分ける
         / split into heads: (B, num_heads, L or S, d_k)
         (view(B, L, num_heads, d_k) のあと transpose(1, 2) / view, then transpose(1, 2))
      2. ヘッドごとにスケール付き内積アテンション (d_k = d_model // num_heads で割る)
         / scaled dot-product attention in every head (scaled by 1/√d_k, d_k = d_model // num_heads)
      3. ヘッドを結合して (B, L, d_model) に戻し、W_o をかける / merge heads back to (B, L, d_model), apply W_o
    - mask は (B, num_heads, L, S) にブロードキャストできる形: (L, S)、キーのパディング (B, 1, 1, S)、
      (B, 1, L, S) など。見てよいキーのない行は、アテンションの出力がゼロ (W_o をかけるとバイアスだけ)
      / mask broadcastable to (B, num_heads, L, S): (L, S), key padding (B, 1, 1, S), (B, 1, L, S), ...;
      a row with no key to attend to gets a zero attention output (so W_o leaves only its bias)
    - dropout: 訓練モード (self.training) のときだけアテンションの重みにかける (nn.MultiheadAttention と同じ)
      / applied to the attention weights in training mode only, as in nn.MultiheadAttention
    - ヘッドを Python のループで回さないこと (テンソル演算の数が num_heads によって増えないこと)
      / no Python loop over the heads (the number of tensor operations must not grow with num_heads)
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        raise NotImplementedError(
            "演習問題 5 (ex5_transformer.MultiHeadAttention) を実装してください / implement exercise 5"
        )

    def forward(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        raise NotImplementedError(
            "演習問題 5 (ex5_transformer.MultiHeadAttention.forward) を実装してください / implement exercise 5"
        )


class PositionalEncoding(nn.Module):
    """正弦波の位置エンコーディング (Vaswani et al. 2017, 3.5 節) / sinusoidal positional encoding.

    - __init__(d_model, max_len=5000, dropout=0.0): 形 (max_len, d_model) のバッファ pe を
      register_buffer で登録する / register a buffer ``pe`` of shape (max_len, d_model):
          PE[pos, j] = sin(pos / 10000^(2⌊j/2⌋ / d_model))   (j が偶数 / even j)
          PE[pos, j] = cos(pos / 10000^(2⌊j/2⌋ / d_model))   (j が奇数 / odd j)
      sin と cos は列ごとに交互に並ぶ (前半 sin・後半 cos ではない)。d_model が奇数でも動くこと。
      PyTorch のチュートリアルのように float32 で計算してかまいません。
      / sin and cos alternate column by column (not all sines, then all cosines); odd d_model must
      work too. Computing the table in float32, as PyTorch's tutorial does, is fine.
    - forward(x): x (B, L, d_model) -> dropout(x + pe[:L])、形は x と同じ / same shape as x
    - L > max_len なら ValueError / raise ValueError when L > max_len
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0) -> None:
        super().__init__()
        raise NotImplementedError(
            "演習問題 5 (ex5_transformer.PositionalEncoding) を実装してください / implement exercise 5"
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(
            "演習問題 5 (ex5_transformer.PositionalEncoding.forward) を実装してください / implement exercise 5"
        )


class TransformerBlock(nn.Module):
    """Transformer ブロック (章の TransformerBlock) / the chapter's Transformer block.

    - __init__(d_model, num_heads, d_ff, dropout=0.1, norm_first=False): 属性 / attributes
        attention    = MultiHeadAttention(d_model, num_heads)
        norm1, norm2 = nn.LayerNorm(d_model)
        feed_forward = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Dropout(dropout),
                                     nn.Linear(d_ff, d_model))
        dropout      = nn.Dropout(dropout)
      d_model が num_heads で割り切れなければ ValueError (MultiHeadAttention が送出する)
      / ValueError when d_model is not divisible by num_heads (MultiHeadAttention raises it)
    - forward(x, mask=None): x (B, L, d_model) -> (B, L, d_model)、mask は MultiHeadAttention と同じ
      / mask as for MultiHeadAttention
      norm_first=False (Post-LN、章と同じ / post-norm, as in the chapter):
          x = norm1(x + dropout(attention(x, x, x, mask)))
          x = norm2(x + dropout(feed_forward(x)))
      norm_first=True (Pre-LN / pre-norm):
          h = norm1(x);  x = x + dropout(attention(h, h, h, mask))
          x = x + dropout(feed_forward(norm2(x)))
      self.dropout は 1 回の forward で 2 回 (アテンションの後とフィードフォワードの後) 使う
      / self.dropout is applied twice per forward (after the attention and after the feed-forward)
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, norm_first: bool = False) -> None:
        super().__init__()
        raise NotImplementedError(
            "演習問題 5 (ex5_transformer.TransformerBlock) を実装してください / implement exercise 5"
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError(
            "演習問題 5 (ex5_transformer.TransformerBlock.forward) を実装してください / implement exercise 5"
        )
