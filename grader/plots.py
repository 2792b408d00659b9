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


def write_all(exercises: Sequence[registry.Exercise], target: Path, out_dir: Path) -> list[Path]:
    """Write the figures for the chosen exercises that have one; return their paths."""
    runner = InProcessRunner(target)
    out_dir.mkdir(parents=True, exist_ok=True)
    makers = {"ex2_swish": swish_figure, "ex4_sgdr": schedule_figure}
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
