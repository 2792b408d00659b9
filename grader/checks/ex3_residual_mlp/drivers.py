"""Exercise 3's drivers: they run where the student's code runs (this process, or an isolated worker).

Each builds the student's ``ResidualMLP`` (with the reference's weights loaded strictly, or
with its own random weights), runs or differentiates it, and returns plain tensors and
facts; the checks compare them in the grading process. Drivers never touch ``reference``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from grader import strategies as S
from grader.checks.ex3_residual_mlp.loading import REFERENCE_WEIGHTS, STRUCTURE_CHECK_EN, STRUCTURE_CHECK_JA, load
from grader.checks.ex3_residual_mlp.seeding import randomize, seeded
from grader.compare import assert_true
from grader.feedback import CheckFailure, fail
from grader.runner import driver


@driver
def state_dict_structure(
    student, kwargs: dict[str, Any], state: dict[str, torch.Tensor], example: dict[str, Any]
) -> dict[str, Any]:
    """The shape of each entry of ``ResidualMLP(**kwargs).state_dict()``, and why ``state`` does not load
    into it strictly (None if it does)."""
    model = build(student, kwargs)
    shapes = {str(name): tuple(value.shape) for name, value in model.state_dict().items()}
    try:
        load(model, state, example=example, source=REFERENCE_WEIGHTS)
        load_error = None
    except CheckFailure as err:
        load_error = err.detail
    return {"shapes": shapes, "load_error": load_error}


@driver
def eval_outputs(
    student,
    kwargs: dict[str, Any],
    device: str,
    dtype: torch.dtype,
    state: dict[str, torch.Tensor],
    x: torch.Tensor,
    example: dict[str, Any],
    probe: torch.Tensor | None = None,
) -> dict[str, Any]:
    """``model.eval()(x)`` for the student's model holding ``state``; with ``probe``, also two calls on it."""
    model = loaded_model(student, kwargs, device, dtype, state, example).eval()
    with torch.no_grad():
        out = output(call(student, model, x, example), example)
        repeats = None
        if probe is not None:
            probe_example = dict(example, x=probe)
            repeats = [output(call(student, model, probe, probe_example), probe_example) for _ in range(2)]
    return {"out": out, "probe": repeats}


@driver
def train_output(
    student,
    kwargs: dict[str, Any],
    device: str,
    dtype: torch.dtype,
    state: dict[str, torch.Tensor],
    x: torch.Tensor,
    example: dict[str, Any],
    seed: int,
) -> torch.Tensor:
    """``torch.manual_seed(seed); model.train()(x)`` for the student's model holding ``state``."""
    model = loaded_model(student, kwargs, device, dtype, state, example).train()
    return output(seeded(lambda: call(student, model, x, example), seed, device), example)


@driver
def train_and_eval_outputs(
    student, kwargs: dict[str, Any], device: str, dtype: torch.dtype, seed: int, x: torch.Tensor, example: dict[str, Any]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The student's own model (random weights): ``model.train()(x)`` under ``torch.manual_seed(seed)``,
    then ``model.eval()(x)``."""
    model = own_model(student, kwargs, device, dtype, seed)
    with torch.no_grad():
        in_train = output(seeded(lambda: call(student, model.train(), x, example), seed, device), example)
        in_eval = output(call(student, model.eval(), x, example), example)
    return in_train, in_eval


@driver
def zeroed_block_outputs(
    student,
    kwargs: dict[str, Any],
    device: str,
    dtype: torch.dtype,
    seed: int,
    k: int,
    x: torch.Tensor,
    example: dict[str, Any],
) -> tuple[torch.Tensor, torch.Tensor]:
    """In eval mode: the student's own model with ``blocks[k].fc2`` zeroed, and the same model without block ``k``."""
    full = own_model(student, kwargs, device, dtype, seed)
    state = full.state_dict()
    for name in (f"blocks.{k}.fc2.weight", f"blocks.{k}.fc2.bias"):
        if name not in state:
            raise fail(
                f"モデルに {name} がありません。まず{STRUCTURE_CHECK_JA}を直してください / "
                f"your model has no {name}: fix {STRUCTURE_CHECK_EN} first",
                example=example,
            )
        state[name].zero_()  # state_dict tensors share memory with the parameters
    shorter = own_model(student, dict(kwargs, depth=kwargs["depth"] - 1), device, dtype, seed)
    load(shorter, without_block(state, k), example=example, source=(f"ブロック {k} を除いた同じモデル", f"the same model minus block {k}"))
    with torch.no_grad():
        zeroed = output(call(student, full.eval(), x, example), example)
        without = output(call(student, shorter.eval(), x, example), example)
    return zeroed, without


@driver
def parameter_gradients(
    student, kwargs: dict[str, Any], device: str, seed: int, x: torch.Tensor, example: dict[str, Any]
) -> dict[str, Any]:
    """The student's own model (float64, random weights, eval mode): its parameters' names and values,
    which of them do not require grad, whether ``model(x)`` is connected to them, and which get no gradient from it."""
    model = own_model(student, kwargs, device, torch.float64, seed).eval()
    named = list(model.named_parameters())
    facts: dict[str, Any] = {
        "names": [name for name, _ in named],
        "params": [p.detach() for _, p in named],
        "frozen": [name for name, p in named if not p.requires_grad],
        "connected": False,
        "unreached": [],
        "out": None,
    }
    if facts["frozen"]:
        return facts
    out = call(student, model, x.detach().requires_grad_(True), example)
    facts["out"] = output(out, example)
    facts["connected"] = out.requires_grad
    if facts["connected"]:
        upstream = S.make(tuple(out.shape), torch.float64, device, seed + 1)
        grads = torch.autograd.grad(out, [p for _, p in named], upstream, allow_unused=True)
        facts["unreached"] = [name for (name, _), g in zip(named, grads) if g is None]
    return facts


@driver
def functional_forward(
    student,
    kwargs: dict[str, Any],
    device: str,
    seed: int,
    names: list[str],
    example: dict[str, Any],
    x: torch.Tensor,
    *params: torch.Tensor,
) -> torch.Tensor:
    """``model(x)`` with the parameters ``names`` set to ``params`` (torch.func.functional_call), for gradcheck.

    The model is the student's own (float64, eval mode), as in :func:`parameter_gradients`.
    """
    model = own_model(student, kwargs, device, torch.float64, seed).eval()
    return call(student, lambda x: torch.func.functional_call(model, dict(zip(names, params)), (x,)), x, example)


@driver
def construct(student, kwargs: dict[str, Any]) -> None:
    """``ResidualMLP(**kwargs)``, for what it raises (nothing is returned)."""
    student.ResidualMLP(**kwargs)


def build(student, kwargs: dict[str, Any]) -> nn.Module:
    """``student.ResidualMLP(**kwargs)``; what it raises is reported with the arguments."""
    try:
        model = student.ResidualMLP(**kwargs)
    except CheckFailure:
        raise
    except Exception as err:  # noqa: BLE001 - classes are not wrapped by the runner
        raise student.error("ResidualMLP(...)", err, dict(kwargs)) from err
    assert_true(
        isinstance(model, nn.Module),
        "ResidualMLP は nn.Module を継承する必要があります / ResidualMLP must subclass nn.Module",
        example=kwargs,
    )
    return model


def call(student, model: Callable[[torch.Tensor], Any], x: torch.Tensor, example: dict[str, Any]) -> Any:
    """``model(x)``; what the student's forward raises is reported with the example."""
    try:
        return model(x)
    except CheckFailure:
        raise
    except Exception as err:  # noqa: BLE001
        raise student.error("model(x)", err, example) from err


def output(value: Any, example: dict[str, Any]) -> torch.Tensor:
    """``value`` (what ``model(x)`` returned), detached to travel back as data; it must be a plain tensor."""
    if type(value) not in (torch.Tensor, nn.Parameter):
        raise fail(
            f"model(x) は torch.Tensor を返す必要があります / model(x) must return a torch.Tensor, got {type(value).__qualname__}",
            example=example,
        )
    return value.detach()


def own_model(student, kwargs: dict[str, Any], device: str, dtype: torch.dtype, seed: int) -> nn.Module:
    """The student's model alone, with random weights: for properties that need no reference."""
    model = build(student, kwargs).to(device=device, dtype=dtype)
    randomize(model, seed)  # every parameter: the result does not depend on the initialisation
    return model


def loaded_model(
    student, kwargs: dict[str, Any], device: str, dtype: torch.dtype, state: dict[str, torch.Tensor], example: dict[str, Any]
) -> nn.Module:
    """The student's model with the reference's weights ``state`` loaded strictly."""
    model = build(student, kwargs).to(device=device, dtype=dtype)
    load(model, state, example=example, source=REFERENCE_WEIGHTS)
    return model


def without_block(state: dict[str, torch.Tensor], k: int) -> dict[str, torch.Tensor]:
    """``state`` with block ``k`` removed and the later blocks renumbered."""
    kept: dict[str, torch.Tensor] = {}
    for name, value in state.items():
        if name.startswith("blocks."):
            _, index, rest = name.split(".", 2)
            i = int(index)
            if i == k:
                continue
            name = f"blocks.{i - 1 if i > k else i}.{rest}"
        kept[name] = value
    return kept
