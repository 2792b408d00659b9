"""演習問題 6 / Exercise 6: 学習ループの完全実装 / the chapter's training loop, made exact.

章の 4.3 節「学習ループの完全実装」の ComprehensiveTrainingLoop を、印刷と描画を除いて
関数とクラスに分けて実装してください。採点は表示される損失ではなく「重みへの効果」で行います:
あなたのループで学習したモデルのパラメータを、参照実装のループで学習したものと比べます。

Implement the chapter's ComprehensiveTrainingLoop (section 4.3), minus printing and
plotting, as the functions and the class below. Your loop is graded by its effect on the
weights: the parameters of a model trained by your loop are compared with those of the
same model trained by the reference loop, not the losses it prints.

共通の約束 / Conventions:
- loader: (inputs, targets) のバッチを返す反復可能オブジェクトで len() を持つもの
  (DataLoader やリスト)。/ any iterable of (inputs, targets) batches with len()
  (a DataLoader, or a list).
- 出力は (B, C)、targets は (B,)。バッチサイズは B です。/ outputs are (B, C) and targets
  (B,): the batch size is B.
- loss_fn(outputs, targets) はバッチの平均損失を返します。/ loss_fn(outputs, targets)
  returns the mean loss over the batch.
- device=None はモデルの最初のパラメータのデバイスのこと。バッチはそこへ移します。
  / device=None means the device of the model's first parameter: move the batches there.
- 採点ではオプティマイザにモデルの学習可能なパラメータをちょうど渡します。/ the checks
  give the optimizer exactly the model's trainable parameters.

章のコードにある落とし穴 / Traps in the chapter's own code:
- self.model.state_dict().copy() は浅いコピーで、生きているテンソルを指したままです。
  「最良モデル」が学習とともに変わってしまいます。/ state_dict().copy() is a shallow copy
  that still points at the live tensors: the saved "best model" changes as training goes on.
- 'norm' in name のような部分文字列での判定は、normalizer という名前の Linear を除外し、
  ln という名前の LayerNorm を減衰させてしまいます。/ choosing by substrings of the full
  name exempts a Linear named normalizer and decays a LayerNorm named ln.
- EarlyStopping は NaN を最良値にしてしまうことがあります。/ its EarlyStopping can make a
  NaN the best value.

Check your work / 採点:  python -m grader check ex6   (or: pytest grader -m ex6)
"""

from __future__ import annotations

import math

import torch
from torch import nn


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """AdamW に渡す 2 つのパラメータグループ (章の _setup_optimizer)。/ AdamW's two param groups.

    返り値 / returns:
        [{"params": [...], "weight_decay": weight_decay}, {"params": [...], "weight_decay": 0.0}]

    - 2 番目のグループ (減衰なし) に入るもの / in the second group (no decay):
      - どのモジュールでも「bias」という名前で登録されたパラメータ / every parameter
        registered under the name ``bias``, by any module;
      - 正規化層のすべてのパラメータ: nn.LayerNorm、nn.BatchNorm1d/2d/3d、nn.GroupNorm、
        nn.RMSNorm のインスタンス (サブクラスも含む) / every parameter of a normalisation
        layer: an instance of nn.LayerNorm, nn.BatchNorm1d/2d/3d, nn.GroupNorm or nn.RMSNorm
        (subclasses included).
      登録名とモジュールの型で選び、フルネームの部分文字列 ('norm' in name など) では選ばないこと。
      Choose by registration name and module type, not by substrings of the full name.
    - グループは常に 2 つ、この順で (片方が空でも)。各グループに少なくともキー "params" と
      "weight_decay" があること。/ Always two groups, in this order, even when one is empty;
      each has at least the keys "params" and "weight_decay".
    - 学習可能なパラメータはどれもちょうど 1 回、model.named_parameters() の順に現れること。
      2 つのモジュールが共有するパラメータ (重みの共有) は 1 回と数え、requires_grad=False の
      パラメータは含めない。/ Every trainable parameter appears exactly once, in
      model.named_parameters() order; a parameter shared by two modules (tied weights)
      counts once; frozen parameters (requires_grad=False) are left out.

    ValueError を送出すること / must raise ValueError when: weight_decay < 0
    """
    raise NotImplementedError("演習問題 6 (ex6_training_loop.param_groups) を実装してください / implement exercise 6")


def train_epoch(
    model: nn.Module,
    loader,
    optimizer: torch.optim.Optimizer,
    loss_fn,
    *,
    scheduler=None,
    max_grad_norm: float | None = None,
    accumulation_steps: int = 1,
    device=None,
) -> dict:
    """1 エポック学習する。/ Train for one epoch.

    - 最初に model.train() を呼ぶこと。呼び出し前にパラメータに残っていた勾配が最初の更新に
      入ってはいけない。/ Call model.train() first. Gradients left on the parameters before
      the call must not reach the first step.
    - ミニバッチ (マイクロバッチ) を accumulation_steps 個ずつの「窓」にまとめます (最後の窓は
      短くてよい)。1 つの窓が 1 回の optimizer.step() で、その勾配は窓の中のマイクロバッチの
      勾配の平均 (窓自身の長さで割る) です。/ Micro-batches are taken in windows of
      accumulation_steps; the last window may be shorter. One window is one optimizer
      step, and its gradient is the mean of its micro-batches' gradients (divide by the
      window's own length).
    - 各窓の終わりに、この順で / at the end of each window, in this order:
      1. max_grad_norm があれば model.parameters() に clip_grad_norm_ / if max_grad_norm is
         given, clip_grad_norm_ over model.parameters();
      2. optimizer.step();
      3. scheduler があれば scheduler.step() (optimizer.step() 1 回につき 1 回) / if a
         scheduler is given, scheduler.step(), once per optimizer step;
      4. 勾配を消す (None でも 0 でもよい)。train_epoch が返るときにも勾配は消えていること。
         / clear the gradients (to None or to zero); they are also clear when train_epoch returns.
    - 計算グラフは次のマイクロバッチの forward より長く残さない: 保持するメモリがマイクロバッチの
      数とともに増えてはいけない (loss テンソルを足し続けない)。返り値もグラフを持たないこと。
      / No graph outlives the next micro-batch's forward: the memory held must not grow with
      the number of micro-batches (do not keep adding up loss tensors), and nothing
      returned holds a graph.

    返り値 / returns:
        {"loss": エポック全体のサンプルあたりの平均損失 (バッチサイズで重みづけした float)
                 / the mean loss per sample over the epoch (a float, weighted by batch size),
         "steps": optimizer.step() の回数 / optimizer steps taken,
         "grad_norms": 各ステップのクリップ前の勾配の全体ノルム (max_grad_norm が None なら空のリスト)
                 / the total gradient norm before clipping, one per step (an empty list when
                 max_grad_norm is None)}

    ValueError を送出すること / must raise ValueError when:
    - accumulation_steps < 1
    - max_grad_norm <= 0
    - loader が空 / the loader is empty
    """
    raise NotImplementedError("演習問題 6 (ex6_training_loop.train_epoch) を実装してください / implement exercise 6")


def evaluate(model: nn.Module, loader, loss_fn, *, device=None) -> dict:
    """検証データでの損失と正解率。/ Loss and accuracy on validation data.

    返り値 / returns:
        {"loss": サンプルあたりの平均損失 (バッチサイズで重みづけ) / mean loss per sample
                 (weighted by batch size),
         "accuracy": 最後の次元の argmax が target と一致したサンプルの割合 / the fraction of
                 samples whose argmax over the last dimension equals the target}

    - 評価モードで、計算グラフを作らずに (torch.no_grad() か torch.inference_mode()) 実行し、
      最後に model.train(was_training) で元のモードに戻すこと (was_training は呼び出し時の
      model.training)。/ Run in eval mode with no graph built (torch.no_grad() or
      torch.inference_mode()), and end with model.train(was_training), where was_training
      is model.training at the call.
    - パラメータもバッファも変えないこと (BatchNorm の running_mean など)。/ Change no
      parameter or buffer (BatchNorm's running_mean, say).
    - バッチの平均損失をそのまま平均すると、最後のバッチが小さいときに違う値になります。
      / The mean of the batches' mean losses is wrong when the last batch is smaller.

    ValueError を送出すること / must raise ValueError when: loader が空 / the loader is empty
    """
    raise NotImplementedError("演習問題 6 (ex6_training_loop.evaluate) を実装してください / implement exercise 6")


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """model.state_dict() のコピーで、後の学習で変わらないもの。/ A copy of model.state_dict() that later training cannot change.

    各テンソルを detach して clone し、同じデバイスに置いたままにします。state_dict().copy()
    では浅いコピーにしかなりません。/ Each tensor detached and cloned, on its device;
    state_dict().copy() is only a shallow copy.
    """
    raise NotImplementedError("演習問題 6 (ex6_training_loop.snapshot) を実装してください / implement exercise 6")


def restore(model: nn.Module, snap: dict[str, torch.Tensor]) -> None:
    """snapshot をモデル自身のテンソルに書き戻す。/ Load a snapshot back into the model's own tensors.

    model.load_state_dict(snap, strict=True) と同じく厳密に (キーが足りない・余分なら
    RuntimeError)。パラメータのオブジェクトはそのままなので、それを使って作ったオプティマイザは
    引き続きモデルを更新できます。/ Strictly, as model.load_state_dict(snap, strict=True)
    does (missing or unexpected keys raise RuntimeError): the parameter objects stay the
    same, so an optimizer built on them still drives the model.
    """
    raise NotImplementedError("演習問題 6 (ex6_training_loop.restore) を実装してください / implement exercise 6")


class EarlyStopping:
    """章の EarlyStopping を正確にしたもの。/ The chapter's EarlyStopping, made exact.

    EarlyStopping(patience, min_delta=0.0, mode="min")

    - 最初の step の前は best が None、counter が 0。/ Before the first step, best is None
      and counter is 0.
    - step(value) -> bool:
      - NaN は改善にならず、最初の値であっても best にならない: counter に 1 を足す。/ a NaN
        never improves and never becomes best, even as the first value: it adds 1 to counter;
      - それ以外で最初の値は best になる (counter は 0)。/ otherwise, the first value sets
        best (and counter to 0);
      - その後は、mode="min" なら best - min_delta より小さい値 (mode="max" なら
        best + min_delta より大きい値) が改善。改善なら best を更新して counter を 0 に、
        それ以外 (同じ値も含む) なら counter に 1 を足す。/ after that, a value improves when it
        is below best - min_delta (mode "min"; above best + min_delta for "max"). An
        improvement sets best and resets counter to 0; anything else, a tie included, adds
        1 to counter.
      - counter >= patience になったら True を返し、以後の呼び出しでもずっと True を返す
        (その後の best と counter は自由)。/ step returns True once counter >= patience, and
        on every later call (what best and counter do after that is up to you).
    - state_dict() は新しい dict (ふつうの値だけ) を返し、後の step で変わらないこと。同じ設定で
      作ったインスタンスに load_state_dict() すると、そのまま同じように続けられること。
      / state_dict() returns a new dict of plain values that later steps do not change;
      load_state_dict() into an instance built with the same settings resumes exactly.

    ValueError を送出すること / must raise ValueError when:
    - patience < 1
    - min_delta < 0
    - mode が "min" でも "max" でもない / mode is neither "min" nor "max"
    """

    def __init__(self, patience: int, min_delta: float = 0.0, mode: str = "min") -> None:
        raise NotImplementedError("演習問題 6 (ex6_training_loop.EarlyStopping) を実装してください / implement exercise 6")

    def step(self, value: float) -> bool:
        """値を 1 つ記録し、学習を止めるべきなら True。/ Record one value; True when training should stop."""
        raise NotImplementedError("演習問題 6 (ex6_training_loop.EarlyStopping.step) を実装してください / implement exercise 6")

    def state_dict(self) -> dict:
        """再開に必要な状態 (新しい dict)。/ What resuming needs, as a new dict."""
        raise NotImplementedError("演習問題 6 (ex6_training_loop.EarlyStopping.state_dict) を実装してください / implement exercise 6")

    def load_state_dict(self, state: dict) -> None:
        """state_dict() の返り値から再開する。/ Resume from what state_dict() returned."""
        raise NotImplementedError("演習問題 6 (ex6_training_loop.EarlyStopping.load_state_dict) を実装してください / implement exercise 6")


def fit(
    model: nn.Module,
    train_loader,
    val_loader,
    optimizer: torch.optim.Optimizer,
    loss_fn,
    epochs: int,
    *,
    scheduler=None,
    max_grad_norm: float | None = None,
    accumulation_steps: int = 1,
    early_stopping: EarlyStopping | None = None,
    device=None,
) -> dict:
    """章の train_with_all_bells_and_whistles から表示と描画を除いたもの。/ The chapter's train_with_all_bells_and_whistles, minus printing and plotting.

    - 各エポックで train_epoch (scheduler、max_grad_norm、accumulation_steps、device を渡す)、
      次に val_loader で evaluate。/ Each epoch: train_epoch (passing scheduler,
      max_grad_norm, accumulation_steps and device on), then evaluate on val_loader.
    - 検証損失が最も小さいエポックの snapshot を保存し (同じ値なら最初のエポック。NaN は決して
      最小にならない)、次に early_stopping があれば early_stopping.step(検証損失) を呼んで、
      True なら止める。最後に最良の snapshot を restore する。/ Keep a snapshot of the epoch with
      the lowest validation loss (the first such epoch on ties; a NaN loss is never the
      lowest), then, if early_stopping is given, call early_stopping.step(val_loss) and stop
      when it says so. End by restoring the best snapshot.

    返り値 / returns:
        {"train_loss": [...], "val_loss": [...], "val_accuracy": [...],
         "lr": [各エポックの後の、最初のパラメータグループの lr / the first group's lr after each epoch],
         "best_epoch": 最良エポックの番号 (0 から) / the best epoch's index (from 0),
         "stopped_early": early_stopping で止まったら True (最後のエポックでも)
                 / True when early stopping fired, even on the last epoch}

    ValueError を送出すること / must raise ValueError when: epochs < 1
    """
    raise NotImplementedError("演習問題 6 (ex6_training_loop.fit) を実装してください / implement exercise 6")
