"""演習問題 4 / Exercise 4: ウォームアップ + SGDR の学習率スケジューラ / a warmup + SGDR learning-rate scheduler.

学習率を最初の warmup_steps ステップで直線的に上げ (ウォームアップ)、そのあと SGDR
(Loshchilov & Hutter 2017, "SGDR: Stochastic Gradient Descent with Warm Restarts", 式 5)
に従ってコサインで下げては再スタートさせるスケジュールを、関数 sgdr_lr とスケジューラ
クラス WarmupSGDR の 2 つの形で実装してください。

Implement a schedule that raises the learning rate linearly for the first warmup_steps
steps (warmup) and then follows SGDR (Loshchilov & Hutter 2017, "SGDR: Stochastic Gradient
Descent with Warm Restarts", eq. 5): cosine annealing with warm restarts. Write it twice:
as the function sgdr_lr and as the scheduler class WarmupSGDR.

スケジュール / The schedule (base = そのグループの初期学習率 / the group's initial lr,
f = warmup_start_factor):

- step < warmup_steps:  lr = base * (f + (1 - f) * step / warmup_steps)
- それ以降 / after that: s = step - warmup_steps。周期の長さは T_0, T_0*T_mult, T_0*T_mult**2, ...
  です。s が周期 i (0 から数える) の先頭から pos ステップ目にあるとき /
  the cycles last T_0, T_0*T_mult, T_0*T_mult**2, ... steps; when s lies pos steps into
  cycle i (counted from 0), with T_i = T_0 * T_mult**i:

      lr = eta_min + (base * cycle_decay**i - eta_min) * (1 + cos(pi * pos / T_i)) / 2

  再スタートの step (pos = 0) ではちょうどピーク base * cycle_decay**i になります。
  At a restart (pos = 0) the rate is exactly the peak base * cycle_decay**i.

注意 / Beware:
- 周期番号を浮動小数点の対数 (math.log) で求めてはいけません。PyTorch の
  CosineAnnealingWarmRestarts.step(epoch) や timm の CosineLRScheduler はそうしているため、
  一部の再スタートで 1 つ前の周期の終わり (eta_min) を返してしまいます
  (例: T_0=1, T_mult=3, step=121)。整数だけで求めてください。
  Do not find the cycle with a floating-point log (math.log): PyTorch's
  CosineAnnealingWarmRestarts.step(epoch) and timm's CosineLRScheduler do, and return the
  end of the previous cycle (eta_min) at some restarts (e.g. T_0=1, T_mult=3, step 121).
  Use integer arithmetic only.
- 巨大な step (10**12 など) にもすぐ答えること: 周期を 1 つずつたどるループは、
  T_mult = 1 のとき step / T_0 回まわってしまいます。
  Answer huge steps (e.g. 10**12) at once: a loop over the cycles runs step / T_0 times
  when T_mult = 1.

Check your work / 採点:  python -m grader check ex4   (or: pytest grader -m ex4)
"""

from __future__ import annotations

import torch


def sgdr_lr(
    step: int,
    base_lr: float,
    *,
    warmup_steps: int,
    T_0: int,
    T_mult: int = 1,
    eta_min: float = 0.0,
    warmup_start_factor: float = 0.0,
    cycle_decay: float = 1.0,
) -> float:
    """スケジューラを step 回進めた後の学習率を返す (初期学習率が base_lr のグループについて)。

    Return the learning rate after ``step`` scheduler steps, for a group whose initial
    learning rate is ``base_lr`` (the formula is in this file's docstring).

    - step: 0 以上の整数 (10**12 のような巨大な値も) / an integer >= 0 (huge values such as 10**12 too)
    - base_lr: そのグループの初期学習率 / the group's initial learning rate
    - warmup_steps: ウォームアップのステップ数 (0 ならウォームアップなし) / warmup length (0: no warmup)
    - T_0: 最初の周期の長さ / length of the first cycle
    - T_mult: 周期ごとに長さを何倍にするか (整数) / integer factor by which each cycle is longer than the last
    - eta_min: 各周期の終わりに近づく最小の学習率 / the minimum rate each cycle anneals towards
    - warmup_start_factor: step 0 での学習率の base_lr に対する比 / the rate at step 0, as a fraction of base_lr
    - cycle_decay: 周期 i のピークは base_lr * cycle_decay**i / the peak of cycle i is base_lr * cycle_decay**i
    - 戻り値 / returns: Python の float / a Python float

    ValueError を送出すること / must raise ValueError when:
    - T_0 < 1
    - T_mult < 1、または T_mult が整数でない (例: 1.5) / T_mult < 1, or T_mult is not an integer (e.g. 1.5)
    - warmup_steps < 0
    - warmup_start_factor が [0, 1] の外 / warmup_start_factor is outside [0, 1]
    - eta_min < 0
    - cycle_decay が (0, 1] の外 / cycle_decay is outside (0, 1]
    """
    raise NotImplementedError("演習問題 4 (ex4_sgdr.sgdr_lr) を実装してください / implement exercise 4")


class WarmupSGDR(torch.optim.lr_scheduler.LRScheduler):
    """ウォームアップ + SGDR を、オプティマイザのすべてのパラメータグループに適用するスケジューラ。

    A scheduler applying warmup + SGDR to every param group of ``optimizer``.

    - step() を t 回呼んだ後、各パラメータグループの lr は sgdr_lr(t, そのグループの初期 lr, ...)
      です (作った直後は t = 0)。初期 lr とはスケジューラを作ったときの lr
      (LRScheduler の self.base_lrs) で、現在の lr ではありません。
      After t calls of step(), each param group's lr is sgdr_lr(t, <that group's initial lr>, ...)
      (t = 0 right after construction). The initial lr is the lr when the scheduler was
      built (LRScheduler's self.base_lrs), not the current lr.
    - グループごとに初期 lr が違ってよい / groups may start from different lrs.
    - state_dict() / load_state_dict() で周期の途中から同じように再開できること。
      state_dict() / load_state_dict() must resume mid-cycle exactly.
    - どの torch.optim のオプティマイザとも使えること (SGD、Adam、AdamW、RMSprop、...)。
      It must work with any torch.optim optimizer (SGD, Adam, AdamW, RMSprop, ...).
    - 不正な引数では sgdr_lr と同じく ValueError を送出すること。
      Invalid arguments raise ValueError, as for sgdr_lr.

    ヒント / Hint: LRScheduler を継承し、__init__ で設定を保存してから super().__init__(optimizer,
    last_epoch) を呼び、get_lr() で self.last_epoch と self.base_lrs から各グループの lr を
    返すのが素直な書き方です。/ Subclass LRScheduler: store the settings in __init__, then call
    super().__init__(optimizer, last_epoch); in get_lr() return each group's lr from
    self.last_epoch and self.base_lrs.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_steps: int,
        T_0: int,
        T_mult: int = 1,
        eta_min: float = 0.0,
        warmup_start_factor: float = 0.0,
        cycle_decay: float = 1.0,
        last_epoch: int = -1,
    ) -> None:
        raise NotImplementedError("演習問題 4 (ex4_sgdr.WarmupSGDR) を実装してください / implement exercise 4")

    def get_lr(self) -> list[float]:
        """step() を last_epoch 回呼んだ後の各グループの学習率 / each group's lr after last_epoch steps."""
        raise NotImplementedError("演習問題 4 (ex4_sgdr.WarmupSGDR.get_lr) を実装してください / implement exercise 4")
