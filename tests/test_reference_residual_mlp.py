"""reference.residual_mlp against an independent oracle and against torch.nn built-ins.

The oracle is a slow, obviously-correct functional rewrite that reads the weights from
the state_dict and calls F.linear / F.layer_norm / F.dropout in the diagram's order.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from grader import strategies as S
from reference.residual_mlp import ResidualBlock, ResidualMLP
from reference.swish import Swish

SETTINGS = settings(max_examples=30, deadline=None)
DTYPES = st.sampled_from([torch.float32, torch.float64])


def relu(z: torch.Tensor, prefix: str) -> torch.Tensor:
    return F.relu(z)


def oracle(state: dict[str, torch.Tensor], x: torch.Tensor, depth: int, p: float, training: bool, act=relu) -> torch.Tensor:
    """The model written out by hand; ``act(z, "blocks.i.")`` is block i's activation."""
    h = F.linear(x, state["input_proj.weight"], state["input_proj.bias"])
    for i in range(depth):
        k = f"blocks.{i}."
        z = F.layer_norm(h, h.shape[-1:], state[k + "norm.weight"], state[k + "norm.bias"], eps=1e-5)
        z = F.linear(z, state[k + "fc1.weight"], state[k + "fc1.bias"])
        z = act(z, k)
        z = F.linear(z, state[k + "fc2.weight"], state[k + "fc2.bias"])
        h = h + F.dropout(z, p, training)
    h = F.layer_norm(h, h.shape[-1:], state["norm.weight"], state["norm.bias"], eps=1e-5)
    return F.linear(h, state["output_proj.weight"], state["output_proj.bias"])


def randomized(model: nn.Module, seed: int, dtype: torch.dtype) -> nn.Module:
    """``model`` in ``dtype`` with every parameter (LayerNorm's too) drawn at random."""
    model = model.to(dtype)
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(S.make(tuple(p.shape), dtype, "cpu", seed + i, low=-1.0, high=1.0))
    return model


def seeded(fn, seed: int):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return fn()


@SETTINGS
@given(config=S.mlp_configs(), lead=S.LEADING_SHAPES, seed=S.SEEDS, dtype=DTYPES, training=st.booleans())
def test_matches_functional_oracle(config, lead, seed, dtype, training):
    model = randomized(ResidualMLP(**config.kwargs()), seed, dtype).train(training)
    x = S.make((*lead, config.in_features), dtype, "cpu", seed)
    state = {k: v.detach() for k, v in model.state_dict().items()}
    actual = seeded(lambda: model(x), seed)
    expected = seeded(lambda: oracle(state, x, config.depth, config.dropout, training), seed)
    assert actual.shape == (*lead, config.out_features)
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)


@SETTINGS
@given(config=S.mlp_configs(min_depth=1), lead=S.LEADING_SHAPES, seed=S.SEEDS, dtype=DTYPES)
def test_each_block_owns_its_learnable_activation(config, lead, seed, dtype):
    """With nn.PReLU (one learnable slope per block), the slopes stay separate."""
    model = randomized(ResidualMLP(**config.kwargs(), activation=nn.PReLU), seed, dtype).eval()
    slopes = [block.activation.weight for block in model.blocks]
    assert len({id(s) for s in slopes}) == config.depth
    x = S.make((*lead, config.in_features), dtype, "cpu", seed)
    state = {k: v.detach() for k, v in model.state_dict().items()}
    expected = oracle(state, x, config.depth, config.dropout, False, act=lambda z, k: F.prelu(z, state[k + "activation.weight"]))
    torch.testing.assert_close(model(x), expected, rtol=0, atol=0)


@SETTINGS
@given(config=S.mlp_configs(max_depth=2), seed=S.SEEDS, training=st.booleans())
def test_gradients_match_oracle(config, seed, training):
    model = randomized(ResidualMLP(**config.kwargs(), activation=nn.Tanh), seed, torch.float64).train(training)
    x = S.make((3, config.in_features), torch.float64, "cpu", seed, requires_grad=True)
    names, params = zip(*model.named_parameters())
    upstream = S.make((3, config.out_features), torch.float64, "cpu", seed + 1)

    def act(z, k):
        return torch.tanh(z)

    actual = torch.autograd.grad(seeded(lambda: model(x), seed), (x, *params), upstream)
    state = dict(zip(names, [p.detach().requires_grad_(True) for p in params]))
    out = seeded(lambda: oracle(state, x, config.depth, config.dropout, training, act=act), seed)
    expected = torch.autograd.grad(out, (x, *state.values()), upstream)
    for name, a, e in zip(("x", *names), actual, expected):
        torch.testing.assert_close(a, e, msg=lambda m, name=name: f"d/d {name}: {m}")


@SETTINGS
@given(config=S.mlp_configs(max_depth=0), lead=S.LEADING_SHAPES, seed=S.SEEDS, dtype=DTYPES, training=st.booleans())
def test_depth_zero_is_a_sequential(config, lead, seed, dtype, training):
    model = randomized(ResidualMLP(**config.kwargs()), seed, dtype).train(training)
    assert len(model.blocks) == 0
    builtin = nn.Sequential(
        nn.Linear(config.in_features, config.hidden_features),
        nn.LayerNorm(config.hidden_features),
        nn.Linear(config.hidden_features, config.out_features),
    ).to(dtype)
    builtin.load_state_dict(
        {"0.weight": model.input_proj.weight, "0.bias": model.input_proj.bias, "1.weight": model.norm.weight,
         "1.bias": model.norm.bias, "2.weight": model.output_proj.weight, "2.bias": model.output_proj.bias}
    )
    x = S.make((*lead, config.in_features), dtype, "cpu", seed)
    torch.testing.assert_close(model(x), builtin(x), rtol=0, atol=0)


@SETTINGS
@given(hidden=S.sizes(1, 8), lead=S.LEADING_SHAPES, seed=S.SEEDS, dtype=DTYPES, p=st.sampled_from([0.0, 0.3, 0.9]))
def test_block_is_x_plus_a_sequential(hidden, lead, seed, dtype, p):
    """A block equals x + Sequential(LayerNorm, Linear, ReLU, Linear, Dropout)(x), in train mode too."""
    block = randomized(ResidualBlock(hidden, p, nn.ReLU), seed, dtype).train()
    branch = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.Dropout(p))
    branch = branch.to(dtype).train()
    names = {"norm": "0", "fc1": "1", "fc2": "3"}
    branch.load_state_dict({f"{names[k.split('.')[0]]}.{k.split('.')[1]}": v for k, v in block.state_dict().items()})
    x = S.make((*lead, hidden), dtype, "cpu", seed)
    torch.testing.assert_close(seeded(lambda: block(x), seed), seeded(lambda: x + branch(x), seed), rtol=0, atol=0)


@SETTINGS
@given(config=S.mlp_configs(dropout=0.0), lead=S.LEADING_SHAPES, seed=S.SEEDS)
def test_train_without_dropout_equals_eval(config, lead, seed):
    model = randomized(ResidualMLP(**config.kwargs()), seed, torch.float64)
    x = S.make((*lead, config.in_features), torch.float64, "cpu", seed)
    torch.testing.assert_close(model.train()(x), model.eval()(x), rtol=0, atol=0)


def test_state_dict_keys_follow_the_contract():
    model = ResidualMLP(3, 5, 2, depth=2, dropout=0.2)
    block = ["norm.weight", "norm.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    expected = ["input_proj.weight", "input_proj.bias"]
    expected += [f"blocks.{i}.{k}" for i in range(2) for k in block]
    expected += ["norm.weight", "norm.bias", "output_proj.weight", "output_proj.bias"]
    assert list(model.state_dict()) == expected
    assert all(isinstance(b.activation, nn.ReLU) and isinstance(b.dropout, nn.Dropout) for b in model.blocks)
    assert model.blocks[0].dropout.p == 0.2
    assert model.blocks[0].activation is not model.blocks[1].activation


def test_defaults():
    model = ResidualMLP(2, 4, 3, depth=1)
    assert model.blocks[0].dropout.p == 0.1 and isinstance(model.blocks[0].activation, nn.ReLU)


def test_works_with_reference_swish():
    model = ResidualMLP(2, 4, 3, depth=2, dropout=0.0, activation=Swish).eval()
    x = torch.randn(5, 2)
    state = model.state_dict()
    expected = oracle(state, x, 2, 0.0, False, act=lambda z, k: z * torch.sigmoid(z))
    torch.testing.assert_close(model(x), expected)


BAD = [
    dict(in_features=0),
    dict(in_features=-1),
    dict(hidden_features=0),
    dict(out_features=0),
    dict(out_features=-3),
    dict(depth=-1),
    dict(dropout=-0.1),
    dict(dropout=1.0),
    dict(dropout=1.5),
    dict(dropout=float("nan")),
    dict(in_features=2.5),
    dict(depth=True),
]


@pytest.mark.parametrize("bad", BAD, ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()))
def test_rejects_bad_arguments(bad):
    kwargs = dict(in_features=2, hidden_features=4, out_features=3, depth=1, dropout=0.1) | bad
    with pytest.raises(ValueError, match=next(iter(bad))):
        ResidualMLP(**kwargs)


@pytest.mark.parametrize("depth, dropout", [(0, 0.0), (5, 0.0), (1, 0.999)])
def test_accepts_edge_arguments(depth, dropout):
    model = ResidualMLP(1, 1, 1, depth=depth, dropout=dropout)
    assert len(model.blocks) == depth
    assert model(torch.zeros(4, 1)).shape == (4, 1)
