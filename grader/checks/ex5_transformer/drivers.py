"""Exercise 5's drivers: where the student's modules are built, run and differentiated.

Each driver (``@driver``) builds the student's module from a :class:`~recipes.Recipe`
(holding the reference's weights when the recipe carries them), calls it, and returns
plain data: outputs, gradients, operator counts, what the dropout did. Drivers run where
the student's code runs (this process, or an isolated worker) and never touch
``reference``; the checks (the section modules that ``checks.py`` lists) compare what
they return.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch import nn

from grader.checks.ex5_transformer.recipes import Recipe, make, self_attention_args
from grader.devices import seeded
from grader.feedback import fail
from grader.probes import aten_ops
from grader.probing.seal import protect
from grader.runner import driver


def student_module(student: Any, recipe: Recipe) -> nn.Module:
    """The student's module built from ``recipe``, holding the reference's weights when the recipe has them."""
    module = make(getattr(student, recipe.cls), recipe)
    if recipe.state is not None:
        share_weights(module, recipe.state, recipe.cls)
    return module


def share_weights(module: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """Load the reference's state into the student's module (strict), with a readable failure."""
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise fail(
            f"参照実装の重みを {what} に読み込めません (state_dict の名前か形が違います) / "
            f"cannot load the reference's weights into {what}: its state_dict names or shapes differ",
            example=dict(expected_keys=sorted(state), actual_keys=sorted(module.state_dict())),
            detail=str(err).strip(),
        ) from None


def submodule(module: nn.Module, name: str, kind: type, what: str) -> Any:
    """``module.<name>``, which the contract says is a ``kind``; a clear failure if it is missing or something else."""
    value = getattr(module, name, None)
    if not isinstance(value, kind):
        raise fail(
            f"{what}.{name} が {kind.__name__} ではありません / {what}.{name} must be an {kind.__name__}, "
            f"got {type(value).__name__}"
        )
    return value


def detached(value: Any) -> Any:
    """``value`` with every tensor in it detached (in tuples, lists and dicts too): data to send back."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    if type(value) in (tuple, list):
        return type(value)(detached(v) for v in value)
    if type(value) is dict:
        return {k: detached(v) for k, v in value.items()}
    return value


# -- drivers: they run where the student's code runs, and return data -------------------------------------


@driver
def construct(student: Any, recipe: Recipe) -> None:
    """Build the student's module (for the checks that expect the constructor to raise)."""
    student_module(student, recipe)


@driver
def outputs(student: Any, recipe: Recipe, calls: list[tuple[Any, ...]]) -> list[Any]:
    """The student's module called on each argument tuple in ``calls``, without gradients."""
    module = student_module(student, recipe)
    with torch.no_grad():
        return [detached(module(*args)) for args in calls]


@driver
def output_and_bias(student: Any, recipe: Recipe, args: tuple[Any, ...]) -> dict[str, Any]:
    """MultiHeadAttention's output on ``args`` (no gradients), and its W_o.bias (None without a bias)."""
    mha = student_module(student, recipe)
    with torch.no_grad():
        y = mha(*args)
    bias = submodule(mha, "W_o", nn.Linear, "MultiHeadAttention").bias
    return detached(dict(y=y, bias=bias))


@driver
def positional_encoding(student: Any, recipe: Recipe, inputs: list[torch.Tensor] = ()) -> dict[str, Any]:
    """PositionalEncoding's buffers: whether one is named pe, that table, and its outputs on ``inputs`` (no gradients)."""
    module = student_module(student, recipe)
    buffers = dict(module.named_buffers())
    with torch.no_grad():
        outs = [module(x) for x in inputs]
    return detached(dict(registered="pe" in buffers, pe=buffers.get("pe"), outputs=outs))


@driver
def forward_op_counts(student: Any, jobs: list[tuple[Recipe, tuple[Any, ...]]]) -> list[tuple[Any, int]]:
    """For each (recipe, args): the student's module's output on args, and how many aten operators it dispatched."""
    results = []
    for recipe, args in jobs:
        module = student_module(student, recipe)
        with torch.no_grad():
            out, ops = aten_ops(lambda module=module, args=args: module(*args))
        results.append((detached(out), len(ops)))
    return results


@driver
def parameter_gradients(student: Any, recipe: Recipe, x: torch.Tensor, upstream: torch.Tensor) -> dict[str, Any]:
    """The module's self-attention on ``x`` (AttentionHead: its context), and d out / d (x, each parameter) · upstream.

    Returns ``out`` (None unless a tensor), whether it is connected to the graph, and
    ``grads``: name -> gradient (None where none flowed; "x (input)" first), taken only
    when ``out`` has ``upstream``'s shape.
    """
    module = student_module(student, recipe)
    x = x.detach().requires_grad_(True)
    out = module(*self_attention_args(recipe.cls, x))
    if recipe.cls == "AttentionHead" and isinstance(out, tuple):
        out = out[0]  # (context, weights)
    if not isinstance(out, torch.Tensor):
        return dict(out=None, connected=False, grads=None)
    result: dict[str, Any] = dict(out=out.detach(), connected=out.requires_grad, grads=None)
    if out.requires_grad and out.shape == upstream.shape:
        named = dict(module.named_parameters())
        grads = torch.autograd.grad(out, [x, *named.values()], upstream, allow_unused=True)
        result["grads"] = dict(zip(["x (input)", *named], detached(list(grads))))
    return result


@driver
def attention_dropout(student: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, p: float, seed: int) -> dict:
    """scaled_dot_product_attention(q, k, v): as it is, with dropout_p=p and training=False, and with training=True under ``seed``."""
    call = student.scaled_dot_product_attention
    plain = call(q, k, v)
    evaluated = call(q, k, v, dropout_p=p, training=False)
    with seeded(seed, q.device.type):
        trained = call(q, k, v, dropout_p=p, training=True)
    return detached(dict(plain=plain, evaluated=evaluated, trained=trained))


@driver
def eval_twice_then_train(
    student: Any, recipe: Recipe, args: tuple[Any, ...], seed: int, identity: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The module on ``args`` in eval mode (twice) and in train mode under ``seed``, without gradients.

    The nn.Linear submodules named in ``identity`` get the identity as their weight first.
    """
    module = student_module(student, recipe)
    with torch.no_grad():
        for name in identity:
            linear = submodule(module, name, nn.Linear, recipe.cls)
            linear.weight.copy_(torch.eye(linear.weight.shape[0], linear.weight.shape[1]))
        clean = module.eval()(*args)
        again = module(*args)
        with seeded(seed, recipe.device):
            noisy = module.train()(*args)
    return detached(dict(clean=clean, again=again, noisy=noisy))


@driver
def block_dropout(student: Any, recipe: Recipe, x: torch.Tensor, seed: int) -> dict[str, Any]:
    """A TransformerBlock with dropout and the same block with dropout=0 on ``x``, without gradients.

    Returns its eval-mode output (twice), that of the block without dropout, its train-mode
    output under ``seed``, and how many times self.dropout ran in that train-mode forward.
    """
    block = student_module(student, recipe)
    without = student_module(student, replace(recipe, kwargs=dict(recipe.kwargs, dropout=0.0), state=None))
    without.load_state_dict(block.state_dict())
    calls: list[int] = []
    hook = submodule(block, "dropout", nn.Dropout, "TransformerBlock").register_forward_hook(
        lambda module, args, out: calls.append(1)
    )
    try:
        with torch.no_grad():
            clean = block.eval()(x)
            plain = without(x)
            again = block(x)
            calls.clear()
            with seeded(seed, recipe.device):
                noisy = block.train()(x)
    finally:
        hook.remove()
    return detached(dict(clean=clean, without=plain, again=again, noisy=noisy, calls=len(calls)))


protect(__name__)  # before any student code: see grader/probing/seal.py
