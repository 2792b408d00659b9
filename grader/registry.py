"""The exercises the kit teaches: one entry each, the single list every tool reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The folder of the check modules (one per exercise).
CHECKS_DIR = Path(__file__).resolve().parent / "checks"


@dataclass(frozen=True)
class Exercise:
    """One exercise: its file in the target folder and the package holding its checks (``grader/checks/<id>/``)."""

    id: str  # the file's stem, e.g. "ex2_swish"
    short: str  # the pytest marker and CLI short form, e.g. "ex2"
    title_ja: str
    title_en: str

    @property
    def filename(self) -> str:
        return f"{self.id}.py"

    @property
    def check_module(self) -> str:
        return f"grader.checks.{self.id}.checks"


EXERCISES: tuple[Exercise, ...] = (
    Exercise("ex1_last_token", "ex1", "最後のトークンの抽出", "Last-token extraction"),
    Exercise("ex2_swish", "ex2", "自動微分対応の Swish", "Swish with custom autograd"),
    Exercise("ex3_residual_mlp", "ex3", "残差接続つき MLP", "Residual MLP"),
    Exercise("ex4_sgdr", "ex4", "ウォームアップ + SGDR", "Warmup + SGDR schedule"),
    Exercise("ex5_transformer", "ex5", "Transformer ブロック", "Transformer blocks"),
    Exercise("ex6_training_loop", "ex6", "学習ループの完全実装", "The complete training loop"),
)

#: The nbgrader assignment id the exercises go under unless the instructor names another.
DEFAULT_ASSIGNMENT = "pytorch_chapter"

def check_file(exercise: Exercise) -> Path:
    """The file of ``exercise``'s checks, as pytest is given it."""
    return CHECKS_DIR / exercise.id / "checks.py"


_BY_NAME = {name: ex for ex in EXERCISES for name in (ex.id, ex.short)}


def find(name: str) -> Exercise:
    """Look an exercise up by id (``ex2_swish``) or short form (``ex2``)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(f"{ex.short} ({ex.id})" for ex in EXERCISES)
        raise ValueError(f"unknown exercise {name!r}; known exercises: {known}") from None


def for_check_module(module_name: str) -> Exercise:
    """The exercise whose checks live in ``module_name`` (e.g. ``grader.checks.ex1_last_token.checks``)."""
    return find(module_name.split(".")[2])
