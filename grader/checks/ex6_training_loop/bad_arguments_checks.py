"""Exercise 6, bad arguments: ValueError from every function and class of the contract, before anything is done."""

from __future__ import annotations

from typing import Any

from grader.checks.ex6_training_loop.drivers import bad_call
from grader.compare import assert_raises
from grader.spec import check


BAD_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "param_groups(model, weight_decay=-0.1)": ("param_groups", dict(weight_decay=-0.1)),
    "train_epoch(..., accumulation_steps=0)": ("train_epoch", dict(accumulation_steps=0)),
    "train_epoch(..., accumulation_steps=-2)": ("train_epoch", dict(accumulation_steps=-2)),
    "train_epoch(..., max_grad_norm=0.0)": ("train_epoch", dict(max_grad_norm=0.0)),
    "train_epoch(..., max_grad_norm=-1.0)": ("train_epoch", dict(max_grad_norm=-1.0)),
    "train_epoch(model, [], ...) (an empty loader)": ("train_epoch", dict(loader="empty")),
    "evaluate(model, [], loss_fn) (an empty loader)": ("evaluate", dict(loader="empty")),
    "EarlyStopping(patience=0)": ("EarlyStopping", dict(patience=0)),
    "EarlyStopping(patience=-1)": ("EarlyStopping", dict(patience=-1)),
    "EarlyStopping(patience=3, min_delta=-0.1)": ("EarlyStopping", dict(patience=3, min_delta=-0.1)),
    "EarlyStopping(patience=3, mode='average')": ("EarlyStopping", dict(patience=3, mode="average")),
    "fit(..., epochs=0)": ("fit", dict(epochs=0)),
    "fit(..., epochs=-1)": ("fit", dict(epochs=-1)),
}


@check(
    2,
    ja="不正な引数で ValueError を送出する (weight_decay < 0、accumulation_steps < 1、max_grad_norm <= 0、空の loader、"
    "patience < 1、min_delta < 0、不明な mode、epochs < 1)",
    en="raises ValueError on bad arguments (weight_decay < 0, accumulation_steps < 1, max_grad_norm <= 0, an empty "
    "loader, patience < 1, min_delta < 0, an unknown mode, epochs < 1)",
    hint_ja="計算を始める前に引数を確かめ、違反していれば ValueError を送出しましょう。空の loader は len(loader) == 0 で分かります。",
    hint_en="Check the arguments before doing anything and raise ValueError when one is out of range; an empty loader "
    "has len(loader) == 0.",
)
def test_rejects_bad_arguments(student):
    def call(function: str, arguments: dict[str, Any]) -> None:
        student.run(bad_call, function, arguments)

    for case, (function, arguments) in BAD_CALLS.items():
        assert_raises(ValueError, call, function, arguments, case=case)
