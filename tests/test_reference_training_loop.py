"""reference.training_loop against hand-written loops, torch built-ins and hand-worked cases.

The oracles are written differently on purpose: a window's gradient from
``torch.autograd.grad`` per micro-batch (no ``.backward()``, no accumulation in ``.grad``),
clipping from ``torch.linalg.vector_norm``, the epoch's loss from one ``reduction="sum"``
over all samples, decay chosen from full parameter names and ``get_submodule``, and the
best epoch picked after the fact from every epoch's weights.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

from grader import strategies as S
from grader.checks.ex6_training_loop.builders import (
    BagOfEmbeddings,
    EpochLoader,
    Factors,
    ScriptedStopper,
    build_net,
    make_loader,
    make_optimizer,
    probe_net,
    val_loader,
    watch,
    zoo,
)
from reference import training_loop as ref

DTYPE = torch.float64  # tight comparisons: the oracles round differently


def oracle_epoch(spec: S.NetSpec, batches: S.Batches, config: S.TrainConfig) -> tuple[dict, dict]:
    """One epoch by hand: returns (weights after, {"loss", "steps", "grad_norms"})."""
    net = build_net(spec, "cpu", DTYPE)
    params = [p for p in net.parameters()]
    optimizer = make_optimizer(config.optimizer, params)
    scheduler = None if config.lr_factors is None else torch.optim.lr_scheduler.LambdaLR(optimizer, Factors(config.lr_factors))
    data = S.make_batches(spec, batches, DTYPE)
    k = config.accumulation_steps
    norms = []
    for start in range(0, len(data), k):
        window = data[start : start + k]
        grads = [torch.zeros_like(p) for p in params]
        for x, y in window:
            for g, d in zip(grads, torch.autograd.grad(F.cross_entropy(net(x), y), params)):
                g += d / len(window)
        if config.max_grad_norm is not None:
            total = torch.linalg.vector_norm(torch.cat([g.reshape(-1) for g in grads]))
            norms.append(float(total))
            scale = min(1.0, config.max_grad_norm / (float(total) + 1e-6))
            grads = [g * scale for g in grads]
        for p, g in zip(params, grads):
            p.grad = g
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return {k_: v.clone() for k_, v in net.state_dict().items()}, {"steps": -(-len(data) // k), "grad_norms": norms}


@settings(max_examples=60)
@given(
    spec=S.net_specs(),
    batches=S.batches(1, 6),
    config=S.train_configs(accumulation=None, clipping=None, scheduler=None),
)
@example(spec=S.NetSpec("mlp", 3, 4, 3, seed=1), batches=S.Batches((2, 2, 2, 1, 2), seed=2), config=S.TrainConfig("AdamW", 2, 0.3, (1.0, 0.5)))
def test_train_epoch_matches_a_hand_written_loop(spec, batches, config):
    expected_state, expected = oracle_epoch(spec, batches, config)
    net = build_net(spec, "cpu", DTYPE)
    optimizer = make_optimizer(config.optimizer, list(net.parameters()))
    scheduler = None if config.lr_factors is None else torch.optim.lr_scheduler.LambdaLR(optimizer, Factors(config.lr_factors))
    result = ref.train_epoch(
        net,
        make_loader(spec, batches, DTYPE),
        optimizer,
        F.cross_entropy,
        scheduler=scheduler,
        max_grad_norm=config.max_grad_norm,
        accumulation_steps=config.accumulation_steps,
    )
    torch.testing.assert_close(dict(net.state_dict()), expected_state)
    assert result["steps"] == expected["steps"]
    torch.testing.assert_close(result["grad_norms"], expected["grad_norms"])
    assert isinstance(result["loss"], float)
    assert all(p.grad is None for p in net.parameters())


@settings(max_examples=40)
@given(spec=S.net_specs(), batches=S.batches(1, 5))
def test_train_epoch_loss_is_the_mean_per_sample(spec, batches):
    """With lr 0 the weights never move: the epoch's loss is one cross-entropy over all its samples."""
    net = build_net(spec, "cpu", DTYPE)
    data = S.make_batches(spec, batches, DTYPE)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.0)
    result = ref.train_epoch(net, data, optimizer, F.cross_entropy, accumulation_steps=2, max_grad_norm=1.0)
    inputs, targets = torch.cat([x for x, _ in data]), torch.cat([y for _, y in data])
    expected = F.cross_entropy(net(inputs), targets, reduction="sum").item() / len(targets)
    assert result["loss"] == pytest.approx(expected, rel=1e-12)


def test_stale_gradients_do_not_reach_the_first_step():
    spec = S.NetSpec("mlp", 3, 4, 2, seed=0)
    states = []
    for stale in (False, True):
        net = build_net(spec, "cpu", DTYPE)
        if stale:
            for p in net.parameters():
                p.grad = torch.full_like(p, 100.0)
        ref.train_epoch(net, S.make_batches(spec, S.Batches((3, 2), 1), DTYPE), torch.optim.SGD(net.parameters(), lr=0.1), F.cross_entropy)
        states.append(net.state_dict())
    torch.testing.assert_close(states[1], states[0], rtol=0, atol=0)


def test_train_epoch_keeps_no_graph():
    """Each micro-batch's graph is gone by the forward after next, and none is left at the end (the checks' instrument)."""
    spec = S.NetSpec("mlp", 3, 4, 2, seed=0)
    net = build_net(spec, "cpu", DTYPE)
    seen = watch(net, tokens=True)
    data = S.make_batches(spec, S.Batches((2,) * 5, 1), DTYPE)
    ref.train_epoch(net, data, torch.optim.SGD(net.parameters(), lr=0.1), F.cross_entropy, accumulation_steps=2)
    assert seen.older_graphs == [0] * 5 and len(seen.tokens) == 5 and seen.alive() == 0
    total = 0  # what a loop that sums loss tensors keeps: every graph
    for x, y in data:
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        total = total + loss
    assert seen.older_graphs[5:] == [0, 0, 1, 2, 3] and seen.alive() == 5


# -- evaluate --------------------------------------------------------------------------------------------


@settings(max_examples=40)
@given(spec=S.net_specs(), batches=S.batches(1, 5))
def test_evaluate_is_one_pass_over_all_samples(spec, batches):
    net = build_net(spec, "cpu", DTYPE).train()
    data = make_loader(spec, batches, DTYPE)
    result = ref.evaluate(net, data, F.cross_entropy)
    inputs = torch.cat([x for x, _ in S.make_batches(spec, batches, DTYPE)])
    targets = torch.cat([y for _, y in S.make_batches(spec, batches, DTYPE)])
    with torch.no_grad():
        outputs = net(inputs)
    assert result["loss"] == pytest.approx(F.cross_entropy(outputs, targets).item(), rel=1e-12)
    assert result["accuracy"] == (outputs.argmax(-1) == targets).double().mean().item()
    assert net.training


@pytest.mark.parametrize("training", [True, False])
def test_evaluate_changes_nothing_and_restores_the_mode(training):
    spec = S.NetSpec("mlp", 3, 5, 2, seed=3)
    net = probe_net(spec, "cpu", DTYPE).train(training)
    before = copy.deepcopy(net.state_dict())
    grads = []
    net.register_forward_hook(lambda m, i, o: grads.append((torch.is_grad_enabled(), m.training)))
    ref.evaluate(net, S.make_batches(spec, S.Batches((4, 2), 5), DTYPE), F.cross_entropy)
    torch.testing.assert_close(dict(net.state_dict()), before, rtol=0, atol=0)
    assert grads == [(False, False), (False, False)]
    assert all(m.training is training for m in net.modules())


def test_empty_loaders_and_bad_arguments_raise_value_error():
    net = build_net(S.NetSpec("linear", 2, 2, 2, seed=0), "cpu", DTYPE)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    data = S.make_batches(S.NetSpec("linear", 2, 2, 2, seed=0), S.Batches((2,), 0), DTYPE)
    for call in (
        lambda: ref.param_groups(net, -1e-3),
        lambda: ref.train_epoch(net, [], optimizer, F.cross_entropy),
        lambda: ref.train_epoch(net, data, optimizer, F.cross_entropy, accumulation_steps=0),
        lambda: ref.train_epoch(net, data, optimizer, F.cross_entropy, max_grad_norm=0.0),
        lambda: ref.evaluate(net, [], F.cross_entropy),
        lambda: ref.EarlyStopping(0),
        lambda: ref.EarlyStopping(2, min_delta=-0.5),
        lambda: ref.EarlyStopping(2, mode="median"),
        lambda: ref.fit(net, data, data, optimizer, F.cross_entropy, 0),
    ):
        with pytest.raises(ValueError):
            call()


# -- param_groups ------------------------------------------------------------------------------------------


NORMS = ("LayerNorm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "RMSNorm")


def spec_no_decay(model: nn.Module) -> list[str]:
    """From full names: exempt when the last part is "bias" or the owning module's class (or a base) is a norm layer."""
    names = []
    for name, p in model.named_parameters():
        owner_name, _, local = name.rpartition(".")
        owner = model.get_submodule(owner_name)
        if p.requires_grad and (local == "bias" or any(c.__name__ in NORMS for c in type(owner).__mro__)):
            names.append(name)
    return names


@settings(max_examples=100)
@given(spec=S.zoo_specs(), weight_decay=st.sampled_from([0.0, 0.1]))
def test_param_groups_follow_names_and_module_types(spec, weight_decay):
    model = zoo(spec)
    names = {id(p): name for name, p in model.named_parameters()}
    decay, no_decay = ref.param_groups(model, weight_decay)
    assert decay["weight_decay"] == weight_decay and no_decay["weight_decay"] == 0.0
    exempt = spec_no_decay(model)
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert [names[id(p)] for p in no_decay["params"]] == exempt
    assert [names[id(p)] for p in decay["params"]] == [n for n in trainable if n not in exempt]
    torch.optim.AdamW([decay, no_decay], lr=0.1)  # accepted: no parameter twice


def test_param_groups_substring_traps():
    model = zoo(S.ZooSpec((("normalizer", "Linear", False), ("ln", "LayerNorm", False), ("gate", "Gate(gain, bias_logit)", False))))
    decay, no_decay = ref.param_groups(model, 0.1)
    named = {id(p): n for n, p in model.named_parameters()}
    assert [named[id(p)] for p in decay["params"]] == ["normalizer.weight", "gate.gain", "gate.bias_logit"]
    assert [named[id(p)] for p in no_decay["params"]] == ["normalizer.bias", "ln.weight", "ln.bias"]


# -- snapshot and restore -------------------------------------------------------------------------------------


def test_snapshot_survives_training_and_restore_is_exact():
    spec = S.NetSpec("mlp", 3, 4, 2, seed=1)
    net = probe_net(spec, "cpu", DTYPE)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    params = list(net.parameters())
    kept = copy.deepcopy(net.state_dict())
    snap = ref.snapshot(net)
    net(torch.randn(4, 3, dtype=DTYPE)).sum().backward()  # train mode: BatchNorm's statistics move too
    optimizer.step()
    torch.testing.assert_close(snap, dict(kept), rtol=0, atol=0)
    ref.restore(net, snap)
    torch.testing.assert_close(dict(net.state_dict()), dict(kept), rtol=0, atol=0)
    assert all(p is q for p, q in zip(net.parameters(), params))
    with pytest.raises(RuntimeError):
        ref.restore(net, {k: v for k, v in snap.items() if k != "0.weight"})


# -- EarlyStopping -------------------------------------------------------------------------------------------------

#: Worked by hand from the contract: (patience, min_delta, mode, values, [(returned, best, counter)] while not stopped).
HAND_WORKED = [
    (2, 0.0, "min", [math.nan, 1.0, 1.0, 2.0, 0.5], [(False, None, 1), (False, 1.0, 0), (False, 1.0, 1), (True,)]),
    (1, 0.5, "min", [2.0, 1.5, 1.0], [(False, 2.0, 0), (True,)]),
    (2, 0.5, "min", [2.0, 1.0, 1.25, 0.25], [(False, 2.0, 0), (False, 1.0, 0), (False, 1.0, 1), (False, 0.25, 0)]),
    (3, 0.25, "max", [0.5, 0.75, 1.0, 1.0, math.nan], [(False, 0.5, 0), (False, 0.5, 1), (False, 1.0, 0), (False, 1.0, 1), (False, 1.0, 2)]),
    (1, 0.0, "max", [math.nan, math.nan], [(True,)]),
]


@pytest.mark.parametrize(("patience", "min_delta", "mode", "values", "expected"), HAND_WORKED)
def test_early_stopping_hand_worked_cases(patience, min_delta, mode, values, expected):
    stopper = ref.EarlyStopping(patience, min_delta, mode)
    assert (stopper.best, stopper.counter) == (None, 0)
    for value, want in zip(values, expected):
        stop = stopper.step(value)
        assert stop is want[0]
        if not stop:
            assert (stopper.best, stopper.counter) == want[1:]
    if expected[-1] == (True,):  # once True, always True
        assert all(stopper.step(v) for v in (0.0, -10.0, 10.0))


def spec_early_stopping(patience: int, min_delta: float, mode: str, values: list[float]) -> list[bool]:
    """step's answers from the definition, by indices: which values improved (on the last improvement, NaN never),
    how many values since the last improvement, and whether that ever reached ``patience``."""
    improved: list[int] = []
    answers: list[bool] = []
    for t, value in enumerate(values):
        best = values[improved[-1]] if improved else None
        if not math.isnan(value) and (
            best is None or (value < best - min_delta if mode == "min" else value > best + min_delta)
        ):
            improved.append(t)
        since = t - improved[-1] if improved else t + 1
        answers.append(since >= patience or (bool(answers) and answers[-1]))
    return answers


@settings(max_examples=150)
@given(config=S.early_stopping_configs(), values=S.metric_sequences(9))
def test_early_stopping_matches_its_definition(config, values):
    stopper = ref.EarlyStopping(**config.kwargs())
    assert [stopper.step(v) for v in values] == spec_early_stopping(config.patience, config.min_delta, config.mode, values)


@settings(max_examples=60)
@given(config=S.early_stopping_configs(), before=S.metric_sequences(6), after=S.metric_sequences(6))
def test_early_stopping_state_dict_resumes(config, before, after):
    stopper = ref.EarlyStopping(**config.kwargs())
    for v in before:
        stopper.step(v)
    saved = stopper.state_dict()
    frozen = copy.deepcopy(saved)
    resumed = ref.EarlyStopping(**config.kwargs())
    resumed.load_state_dict(frozen)
    for v in after:
        assert stopper.step(v) == resumed.step(v)
        assert (stopper.best, stopper.counter) == (resumed.best, resumed.counter)
    assert saved == frozen  # a new dict: later steps did not change it


# -- fit -------------------------------------------------------------------------------------------------------


@settings(max_examples=40)
@given(spec=S.net_specs(kinds=("linear", "mlp", "layernorm_mlp")), plan=S.fit_plans(), config=S.train_configs(accumulation=None, clipping=None, scheduler=None))
def test_fit_matches_a_loop_that_keeps_every_epoch(spec, plan, config):
    """The oracle keeps every epoch's weights and picks the first lowest real validation loss afterwards."""

    def setup():
        net = build_net(spec, "cpu", DTYPE)
        optimizer = make_optimizer(config.optimizer, list(net.parameters()))
        factors = config.lr_factors
        scheduler = None if factors is None else torch.optim.lr_scheduler.LambdaLR(optimizer, Factors(factors))
        return net, optimizer, scheduler

    net, optimizer, scheduler = setup()
    options = dict(scheduler=scheduler, max_grad_norm=config.max_grad_norm, accumulation_steps=config.accumulation_steps)
    result = ref.fit(net, make_loader(spec, plan.train, DTYPE), val_loader(spec, plan, DTYPE), optimizer, F.cross_entropy,
                     plan.epochs, early_stopping=ScriptedStopper(plan.stop_at), **options)  # fmt: skip

    net2, optimizer2, scheduler2 = setup()
    options["scheduler"] = scheduler2
    train, val = make_loader(spec, plan.train, DTYPE), val_loader(spec, plan, DTYPE)
    states, val_losses = [], []
    for epoch in range(plan.epochs):
        ref.train_epoch(net2, train, optimizer2, F.cross_entropy, **options)
        val_losses.append(ref.evaluate(net2, val, F.cross_entropy)["loss"])
        states.append(copy.deepcopy(net2.state_dict()))
        if plan.stop_at == epoch:
            break
    real = [(loss, epoch) for epoch, loss in enumerate(val_losses) if not math.isnan(loss)]
    best = min(real)[1]
    assert result["best_epoch"] == best
    assert result["stopped_early"] == (plan.stop_at is not None)
    torch.testing.assert_close(result["val_loss"], val_losses, equal_nan=True)
    torch.testing.assert_close(dict(net.state_dict()), dict(states[best]), rtol=0, atol=0)


def test_fit_first_epoch_wins_a_tie_and_nan_never_wins():
    spec = S.NetSpec("mlp", 3, 4, 3, seed=7)
    plan = S.FitPlan(4, S.Batches((3, 2), seed=8), S.Batches((2, 2), seed=9), nan_epochs=(0,))
    net = build_net(spec, "cpu", DTYPE)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, Factors((1.0, 1.0, 0.0)))  # no change after epoch 1
    result = ref.fit(net, make_loader(spec, plan.train, DTYPE), val_loader(spec, plan, DTYPE), optimizer, F.cross_entropy,
                     plan.epochs, scheduler=scheduler)  # fmt: skip
    losses = result["val_loss"]
    assert math.isnan(losses[0]) and losses[1] == losses[2] == losses[3]
    assert result["best_epoch"] == 1 and result["stopped_early"] is False and result["lr"] == [0.0, 0.0, 0.0, 0.0]


def test_builders_give_the_same_net_twice():
    """The checks build the student's net and the reference's separately: they must start identical."""
    for kind in S.NET_KINDS:
        spec = S.NetSpec(kind, 3, 4, 2, seed=11)
        a, b = build_net(spec, "cpu", torch.float32), build_net(spec, "cpu", torch.float32)
        torch.testing.assert_close(dict(a.state_dict()), dict(b.state_dict()), rtol=0, atol=0)
    assert isinstance(build_net(S.NetSpec("embedding", 5, 4, 2, seed=0), "cpu", DTYPE), BagOfEmbeddings)
    assert len(EpochLoader([[(torch.zeros(1), torch.zeros(1))]] * 2)) == 1
