"""Pictures a student would rather look at than read: their curves over the reference's.

Labels are in English only: matplotlib's bundled fonts have no Japanese glyphs, and
a figure full of empty boxes helps nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from grader import registry  # noqa: E402
from grader.loader import LoadError  # noqa: E402
from grader.runner import InProcessRunner, Submission  # noqa: E402

#: The schedule drawn for ex4: warmup, then cycles that double in length and decay.
SCHEDULE = dict(warmup_steps=10, T_0=20, T_mult=2, eta_min=0.01, warmup_start_factor=0.1, cycle_decay=0.8)
SCHEDULE_STEPS = 170
SCHEDULE_BASE_LR = 1.0

#: The training drawn for ex6: an MLP on a small noisy training set (so that it overfits and
#: early stopping fires), AdamW on param_groups, linear warmup then cosine decay per optimizer step.
TRAINING = dict(epochs=60, patience=8, lr=0.002, weight_decay=0.01, warmup_steps=20, batch_size=8,
                accumulation_steps=2, max_grad_norm=1.0, train_samples=60, val_samples=200)  # fmt: skip


def write_all(exercises: Sequence[registry.Exercise], target: Path, out_dir: Path) -> list[Path]:
    """Write the figures for the chosen exercises that have one; return their paths."""
    runner = InProcessRunner(target)
    out_dir.mkdir(parents=True, exist_ok=True)
    makers = {"ex2_swish": swish_figure, "ex4_sgdr": schedule_figure, "ex6_training_loop": training_figure}
    written = []
    for ex in exercises:
        if ex.id in makers:
            path = out_dir / f"{ex.id}.png"
            makers[ex.id](_load(runner, ex), path)
            written.append(path)
    return written


def _load(runner: InProcessRunner, exercise: registry.Exercise) -> Submission | None:
    try:
        return runner.load(exercise)
    except LoadError:
        return None


def _swish_and_derivative(fn, x: torch.Tensor, beta: float) -> tuple[torch.Tensor, torch.Tensor]:  # noqa: ANN001
    x = x.clone().requires_grad_(True)
    y = fn(x, beta)
    (dy,) = torch.autograd.grad(y.sum(), x)
    return y.detach(), dy.detach()


def swish_figure(student: Submission | None, path: Path) -> None:
    """ex2: swish(x, beta) and d/dx for beta = 1 and 2, the student's dashed over the reference's."""
    from reference.swish import swish as reference_swish

    x = torch.linspace(-6, 6, 241, dtype=torch.float64)
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(11, 4))
    for beta, color in ((1.0, "tab:blue"), (2.0, "tab:orange")):
        y, dy = _swish_and_derivative(reference_swish, x, beta)
        ax_f.plot(x, y, color=color, lw=3, alpha=0.35, label=f"reference, beta={beta:g}")
        ax_d.plot(x, dy, color=color, lw=3, alpha=0.35, label=f"reference, beta={beta:g}")
        try:
            if student is None:
                raise RuntimeError("not loaded")
            y, dy = _swish_and_derivative(student.swish, x, beta)
            ax_f.plot(x, y, color=color, ls="--", label=f"yours, beta={beta:g}")
            ax_d.plot(x, dy, color=color, ls="--", label=f"yours, beta={beta:g}")
        except Exception as err:  # noqa: BLE001 - a picture of the reference still helps
            ax_f.set_title(f"swish (yours failed: {type(err).__name__})")
    ax_f.set_title(ax_f.get_title() or "swish(x, beta) = x * sigmoid(beta * x)")
    ax_d.set_title("d swish / dx")
    for ax in (ax_f, ax_d):
        ax.axhline(0, color="gray", lw=0.5)
        ax.set_xlabel("x")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def schedule_figure(student: Submission | None, path: Path) -> None:
    """ex4: the learning rate per step, the student's over the reference's, restarts marked."""
    from reference.sgdr import sgdr_lr as reference_lr

    steps = list(range(SCHEDULE_STEPS))
    fig, ax = plt.subplots(figsize=(11, 4))
    ax.plot(steps, [reference_lr(t, SCHEDULE_BASE_LR, **SCHEDULE) for t in steps], lw=4, alpha=0.35, label="reference")
    title = "warmup + SGDR: " + ", ".join(f"{k}={v}" for k, v in SCHEDULE.items())
    try:
        if student is None:
            raise RuntimeError("not loaded")
        ax.plot(steps, [student.sgdr_lr(t, SCHEDULE_BASE_LR, **SCHEDULE) for t in steps], ls="--", label="yours")
    except Exception as err:  # noqa: BLE001 - a picture of the reference still helps
        title += f"\n(yours failed: {type(err).__name__})"
    start, length = SCHEDULE["warmup_steps"], SCHEDULE["T_0"]
    ax.axvline(start, color="green", lw=0.8, ls=":", label="end of warmup")
    while start + length < SCHEDULE_STEPS:
        start += length
        length *= SCHEDULE["T_mult"]
        ax.axvline(start, color="red", lw=0.8, ls=":")
    ax.plot([], [], color="red", lw=0.8, ls=":", label="restart")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _blobs(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Three overlapping Gaussian blobs in 2-D, a fifth of the labels flipped at random."""
    labels = torch.randint(3, (n,), generator=generator)
    centres = torch.tensor([[0.0, 1.0], [1.0, -0.5], [-1.0, -0.5]])
    inputs = centres[labels] + 0.8 * torch.randn(n, 2, generator=generator)
    flip = torch.rand(n, generator=generator) < 0.2
    return inputs, torch.where(flip, torch.randint(3, (n,), generator=generator), labels)


def _training_run(loop) -> dict:  # noqa: ANN001 - reference.training_loop, or the student's Submission
    """``loop.fit`` on the fixed problem of :data:`TRAINING`, with the loop's own param_groups and EarlyStopping."""
    import math

    from torch.utils.data import DataLoader, TensorDataset

    t = TRAINING
    generator = torch.Generator().manual_seed(0)
    train = DataLoader(TensorDataset(*_blobs(t["train_samples"], generator)), batch_size=t["batch_size"])
    val = DataLoader(TensorDataset(*_blobs(t["val_samples"], generator)), batch_size=64)
    model = torch.nn.Sequential(torch.nn.Linear(2, 64), torch.nn.LayerNorm(64), torch.nn.GELU(), torch.nn.Linear(64, 3))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.5)
    optimizer = torch.optim.AdamW(loop.param_groups(model, t["weight_decay"]), lr=t["lr"])
    total = t["epochs"] * math.ceil(len(train) / t["accumulation_steps"])

    def factor(step: int) -> float:
        if step < t["warmup_steps"]:
            return (step + 1) / t["warmup_steps"]
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - t["warmup_steps"]) / (total - t["warmup_steps"]))))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    return loop.fit(model, train, val, optimizer, torch.nn.functional.cross_entropy, t["epochs"], scheduler=scheduler,
                    max_grad_norm=t["max_grad_norm"], accumulation_steps=t["accumulation_steps"],
                    early_stopping=loop.EarlyStopping(t["patience"]))  # fmt: skip


def training_figure(student: Submission | None, path: Path) -> None:
    """ex6: train and validation loss and the learning rate per epoch, the student's dashed over the reference's."""
    from reference import training_loop as reference_loop

    runs = {"reference": _training_run(reference_loop)}
    title = f"fit: MLP on noisy blobs, AdamW(param_groups), warmup + cosine, early stopping (patience {TRAINING['patience']})"
    try:
        if student is None:
            raise RuntimeError("not loaded")
        runs["yours"] = _training_run(student)
    except Exception as err:  # noqa: BLE001 - a picture of the reference still helps
        title += f"\n(yours failed: {type(getattr(err, 'original', err)).__name__})"
    fig, (ax_loss, ax_lr) = plt.subplots(1, 2, figsize=(12, 4))
    for name, run in runs.items():
        style = dict(lw=4, alpha=0.35) if name == "reference" else dict(ls="--")
        epochs = range(1, len(run["val_loss"]) + 1)
        ax_loss.plot(epochs, run["train_loss"], color="tab:blue", label=f"{name}: train", **style)
        ax_loss.plot(epochs, run["val_loss"], color="tab:orange", label=f"{name}: validation", **style)
        if isinstance(run.get("best_epoch"), int):
            ax_loss.axvline(run["best_epoch"] + 1, color="green" if name == "reference" else "red", lw=0.8, ls=":",
                            label=f"{name}: best epoch{' (stopped early)' if run.get('stopped_early') else ''}")  # fmt: skip
        ax_lr.plot(epochs, run["lr"], color="tab:green", label=name, **style)
    ax_loss.set_title(title, fontsize=9)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss per sample")
    ax_lr.set_title("learning rate after each epoch", fontsize=9)
    ax_lr.set_xlabel("epoch")
    for ax in (ax_loss, ax_lr):
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
