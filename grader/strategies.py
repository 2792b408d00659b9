"""Every hypothesis strategy the checks draw from, in one place.

Tensors are drawn as (shape, seed): the values come from ``torch.testing.make_tensor``
under that seed on the CPU and are then moved to the device, so an example is the
same on every device and hypothesis shrinks shapes (and seeds) towards small ones.

The contract's defaults and named scenarios are never left to chance: each is an
explicit example (:func:`explicit`) of every check that covers it, tried first in every
device/dtype case. So a strategy draws device- and dtype-free descriptions (a case,
a layout, a list of values) that a check builds into tensors for its own case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import torch
from hypothesis import assume, example
from hypothesis import strategies as st

F = TypeVar("F", bound=Callable[..., Any])

SEEDS = st.integers(min_value=0, max_value=2**31 - 1)


def explicit(name: str, values: Iterable[Any], /, **fixed: Any) -> Callable[[F], F]:
    """``@example(name=value, **fixed)`` for each value: named scenarios tried first, in every case of a check.

    Put it under ``@given``; ``fixed`` gives the check's other drawn arguments.
    """

    def decorate(fn: F) -> F:
        for value in reversed(list(values)):
            fn = example(**{name: value}, **fixed)(fn)
        return fn

    return decorate


def make(
    shape: tuple[int, ...],
    dtype: torch.dtype,
    device: str,
    seed: int,
    *,
    low: float = -3.0,
    high: float = 3.0,
    noncontiguous: bool = False,
    requires_grad: bool = False,
) -> torch.Tensor:
    """A reproducible random tensor: the same ``seed`` gives the same values on any device."""
    with torch.random.fork_rng(devices=[]):
        # Seed only the CPU generator: torch.manual_seed also queues lazy CUDA/XPU seeding
        # with a formatted traceback on every call, a third of some exercises' check time.
        torch.random.default_generator.manual_seed(seed)
        t = torch.testing.make_tensor(shape, dtype=dtype, device="cpu", low=low, high=high, noncontiguous=noncontiguous)
    t = t.to(device)
    if noncontiguous and t.numel() > 1 and t.is_contiguous():
        # .to() may have made it contiguous again: rebuild as a strided view.
        wide = torch.empty(*shape[:-1], 2 * shape[-1], dtype=dtype, device=device) if shape else t
        if shape:
            wide[..., ::2] = t
            t = wide[..., ::2]
    return t.requires_grad_(requires_grad)


@st.composite
def tensors(
    draw: st.DrawFn,
    shape: tuple[int, ...],
    dtype: torch.dtype,
    device: str,
    *,
    low: float = -3.0,
    high: float = 3.0,
    noncontiguous: bool | None = False,
) -> torch.Tensor:
    """A tensor of ``shape``; ``noncontiguous=None`` lets hypothesis choose the layout."""
    if noncontiguous is None:
        noncontiguous = draw(st.booleans())
    return make(shape, dtype, device, draw(SEEDS), low=low, high=high, noncontiguous=noncontiguous)


def sizes(min_value: int = 1, max_value: int = 6) -> st.SearchStrategy[int]:
    return st.integers(min_value=min_value, max_value=max_value)


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 5) -> st.SearchStrategy[tuple[int, ...]]:
    return st.lists(sizes(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


# -- ex2: Swish -------------------------------------------------------------------

#: 1e-3 <= |beta| <= 3, either sign: two ranges, not a filter (which would keep rejecting the 0.0 hypothesis favours).
BETAS = st.floats(min_value=1e-3, max_value=3.0) | st.floats(min_value=-3.0, max_value=-1e-3)

#: The contract's default beta (``swish(x)``, ``Swish()``), and its named special value:
#: with beta = 1, swish is SiLU. Every check whose property depends on beta tries it
#: explicitly (float, 0-dim tensor, and omitted), in every case.
DEFAULT_BETA = 1.0

#: A beta as the checks pass it: None (omitted: the default), a float, or ("tensor", b) for a 0-dim tensor.
BETA_ARGUMENTS = st.none() | BETAS | BETAS.map(lambda b: ("tensor", b))

#: The explicit examples of a check drawing from :data:`BETA_ARGUMENTS`.
DEFAULT_BETAS = (None, DEFAULT_BETA, ("tensor", DEFAULT_BETA))

#: Exactly representable in bfloat16, so a module that keeps beta in its own dtype
#: (a buffer cast with ``.to(dtype)``) computes with the very same beta.
MODULE_BETAS = st.sampled_from([1.0, 2.0, 0.5, -1.0, 1.5, 0.25, -2.5, 3.0])

#: Far out on both tails, where ``exp`` of ``beta * x`` overflows unless sigmoid is computed stably.
LARGE_MAGNITUDES = (1e2, 1e3, 1e4)

#: With |beta| >= 0.5 and |x| >= 100 the sigmoid is saturated: every correct formula agrees there.
SATURATING_BETAS = st.floats(min_value=0.5, max_value=3.0) | st.floats(min_value=-3.0, max_value=-0.5)


def swish_shapes() -> st.SearchStrategy[tuple[int, ...]]:
    """Small non-empty shapes, 0-dim included."""
    return shapes(min_dims=0, max_dims=3, min_side=1, max_side=5)


def large_values() -> st.SearchStrategy[tuple[float, ...]]:
    """1 to 8 values ±1e2, ±1e3 or ±1e4 (exact in every floating dtype's range): a check makes them a 1-D tensor."""
    signed = st.sampled_from(LARGE_MAGNITUDES).flatmap(lambda v: st.sampled_from([v, -v]))
    return st.lists(signed, min_size=1, max_size=8).map(tuple)


#: Both tails and every magnitude at once: the explicit example of the large-input check.
ALL_LARGE_VALUES = tuple(sign * v for v in LARGE_MAGNITUDES for sign in (1.0, -1.0))

ODD_LAYOUTS = ("empty (0,)", "empty (2, 0, 3)", "transposed", "every other element", "permuted 3-D", "expanded")


@dataclass(frozen=True)
class OddLayout:
    """An empty tensor or a non-contiguous view (the kind ``.view`` cannot reshape), described without a dtype."""

    layout: str
    seed: int = 0
    rows: int = 2
    cols: int = 3

    def build(self, dtype: torch.dtype, device: str) -> torch.Tensor:
        a, b, seed = self.rows, self.cols, self.seed
        if self.layout == "empty (0,)":
            return make((0,), dtype, device, seed)
        if self.layout == "empty (2, 0, 3)":
            return make((2, 0, 3), dtype, device, seed)
        if self.layout == "transposed":
            return make((a, b), dtype, device, seed).t()
        if self.layout == "every other element":
            return make((a, 2 * b), dtype, device, seed)[:, ::2]
        if self.layout == "permuted 3-D":
            return make((a, b, 2), dtype, device, seed).permute(2, 0, 1)
        return make((a, 1), dtype, device, seed).expand(a, b)


def odd_layouts() -> st.SearchStrategy[OddLayout]:
    return st.builds(OddLayout, st.sampled_from(ODD_LAYOUTS), SEEDS, sizes(2, 4), sizes(2, 4))


#: Every odd layout once: the explicit examples of the odd-layout check.
EVERY_ODD_LAYOUT = tuple(OddLayout(layout) for layout in ODD_LAYOUTS)


# -- ex3: ResidualMLP ------------------------------------------------------------


#: ResidualMLP's default dropout, used when a config leaves it out (``dropout=None``).
DEFAULT_DROPOUT = 0.1


@dataclass(frozen=True)
class MLPConfig:
    in_features: int
    hidden_features: int
    out_features: int
    depth: int
    dropout: float | None  # None: left out, so the model's default applies

    def kwargs(self) -> dict[str, object]:
        """The constructor's keyword arguments; a dropout of None is left out (the default)."""
        kwargs: dict[str, object] = dict(
            in_features=self.in_features,
            hidden_features=self.hidden_features,
            out_features=self.out_features,
            depth=self.depth,
        )
        return kwargs if self.dropout is None else dict(kwargs, dropout=self.dropout)


#: Dropout probabilities a config may have; the train-mode checks use the nonzero ones.
DROPOUTS = (0.0, 0.1, 0.5, 0.9)

#: Named scenarios of the contract: no blocks at all (depth 0), and the default dropout left out;
#: and one edge case, a hidden width of 1 (where every LayerNorm gives its bias exactly).
NO_BLOCKS = MLPConfig(in_features=3, hidden_features=4, out_features=2, depth=0, dropout=0.5)
ONE_FEATURE = MLPConfig(in_features=2, hidden_features=1, out_features=2, depth=1, dropout=0.1)
DEFAULT_DROPOUT_CONFIG = MLPConfig(in_features=3, hidden_features=8, out_features=2, depth=2, dropout=None)


@st.composite
def mlp_configs(
    draw: st.DrawFn,
    min_depth: int = 0,
    max_depth: int = 3,
    dropout: float | None = None,
    dropouts: tuple[float | None, ...] = DROPOUTS,
    max_size: int = 8,
) -> MLPConfig:
    """A small ResidualMLP config; ``dropout`` fixes the probability, else it is drawn from ``dropouts`` (None: left out)."""
    return MLPConfig(
        in_features=draw(sizes(1, min(6, max_size))),
        hidden_features=draw(sizes(1, max_size)),
        out_features=draw(sizes(1, min(6, max_size))),
        depth=draw(st.integers(min_depth, max_depth)),
        dropout=draw(st.sampled_from(dropouts)) if dropout is None else dropout,
    )


#: The batch dimensions in front of the feature dimension: none, one, several, or an empty batch.
EVERY_LEADING_SHAPE = ((), (3,), (2, 3), (1, 2, 2), (0,))
LEADING_SHAPES = st.sampled_from(EVERY_LEADING_SHAPE)


# -- ex4: warmup + SGDR -------------------------------------------------------------


#: The contract's defaults of sgdr_lr and WarmupSGDR.
SGDR_DEFAULTS: dict[str, object] = dict(T_mult=1, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=1.0)


@dataclass(frozen=True)
class SGDRConfig:
    warmup_steps: int
    T_0: int
    T_mult: int
    eta_min: float
    warmup_start_factor: float
    cycle_decay: float
    #: Leave out of :meth:`kwargs` every setting whose value is the contract's default, so the default applies.
    defaults_left_out: bool = False

    def kwargs(self) -> dict[str, object]:
        """The keyword arguments of sgdr_lr and WarmupSGDR (without the defaults, when they are left out)."""
        kwargs = dict(
            warmup_steps=self.warmup_steps,
            T_0=self.T_0,
            T_mult=self.T_mult,
            eta_min=self.eta_min,
            warmup_start_factor=self.warmup_start_factor,
            cycle_decay=self.cycle_decay,
        )
        if self.defaults_left_out:
            kwargs = {k: v for k, v in kwargs.items() if k not in SGDR_DEFAULTS or SGDR_DEFAULTS[k] != v}
        return kwargs

    def cycle_start(self, i: int) -> int:
        """The step (after warmup) at which cycle ``i`` starts, in exact integers."""
        if self.T_mult == 1:
            return self.T_0 * i
        return self.T_0 * (self.T_mult**i - 1) // (self.T_mult - 1)

    def cycle_length(self, i: int) -> int:
        return self.T_0 * self.T_mult**i

    def restart(self, i: int) -> int:
        """The scheduler step at which cycle ``i`` starts (warmup included)."""
        return self.warmup_steps + self.cycle_start(i)


BASE_LRS = st.sampled_from([0.1, 1.0, 3e-4, 0.05])


def group_lrs(max_groups: int = 4) -> st.SearchStrategy[list[float]]:
    """The initial lrs of 2 to ``max_groups`` param groups (they may repeat)."""
    return st.lists(BASE_LRS, min_size=2, max_size=max_groups)


@st.composite
def sgdr_configs(
    draw: st.DrawFn,
    *,
    min_warmup: int = 0,
    max_warmup: int = 20,
    T_mults: st.SearchStrategy[int] = st.integers(1, 4),
    cycle_decays: tuple[float, ...] = (1.0, 0.9, 0.5),
) -> SGDRConfig:
    """A valid schedule, small enough that a test can walk through its first cycles."""
    return SGDRConfig(
        warmup_steps=draw(st.integers(min_warmup, max_warmup)),
        T_0=draw(st.integers(1, 12)),
        T_mult=draw(T_mults),
        eta_min=draw(st.sampled_from([0.0, 1e-5, 1e-3])),
        warmup_start_factor=draw(st.sampled_from([0.0, 0.01, 0.1, 0.5, 1.0])),
        cycle_decay=draw(st.sampled_from(cycle_decays)),
        defaults_left_out=draw(st.booleans()),
    )


#: Named scenarios: every optional setting left at its default (left out), and no warmup at all.
SGDR_SCENARIOS = (
    SGDRConfig(warmup_steps=5, T_0=4, T_mult=1, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=1.0, defaults_left_out=True),
    SGDRConfig(warmup_steps=0, T_0=3, T_mult=2, eta_min=1e-3, warmup_start_factor=0.0, cycle_decay=0.5, defaults_left_out=True),
    SGDRConfig(warmup_steps=3, T_0=2, T_mult=3, eta_min=1e-5, warmup_start_factor=0.5, cycle_decay=0.9),
)


#: With these T_mult, ``int(math.log(x, T_mult))`` misses exact powers (3**5, 9**5, 10**3),
#: and log2/log10-based variants miss others (7**7; 5**3, 6**3): every restart of such a
#: schedule is worth checking.
FLOAT_LOG_TRAPS = st.sampled_from([3, 5, 6, 7, 9, 10])


def restart_configs() -> st.SearchStrategy[SGDRConfig]:
    """A schedule whose restarts are worth checking: T_mult from 1 to 10, float-log traps favoured."""
    return sgdr_configs(T_mults=st.one_of(FLOAT_LOG_TRAPS, st.integers(1, 10)))


def restart_steps(config: SGDRConfig, max_cycle: int = 30, max_step: int = 2**50) -> list[int]:
    """The steps at which cycles 1..max_cycle start (and cycle 10**6 when T_mult == 1), up to ``max_step``.

    The cap keeps every step an exact float, so only the way the cycle is found is tested;
    the float-log traps (3**5, 9**5, 10**3, ...) all lie far below it.
    """
    cycles = [*range(1, max_cycle + 1), *([10**6] if config.T_mult == 1 else [])]
    return [config.restart(i) for i in cycles if config.restart(i) <= max_step]


def inside_positions(max_cycle: int = 6) -> st.SearchStrategy[list[tuple[int, float]]]:
    """1 to 6 places inside the cosine cycles, as (cycle, fraction of the way through it): see :func:`inside_steps`."""
    place = st.tuples(st.integers(0, max_cycle), st.floats(min_value=0.0, max_value=1.0))
    return st.lists(place, min_size=1, max_size=6)


def inside_steps(config: SGDRConfig, positions: list[tuple[int, float]]) -> list[int]:
    """The steps strictly inside a cycle (not at a restart) that ``positions`` (from :func:`inside_positions`) name.

    A cycle of length 1 has no inside: such a cycle counts as the next one; a schedule with no
    inside at all (T_0 = T_mult = 1) is rejected.
    """
    first = 0 if config.T_0 >= 2 else 1
    assume(config.cycle_length(first) >= 2)
    steps = []
    for cycle, fraction in positions:
        cycle += first
        offset = 1 + min(int(fraction * (config.cycle_length(cycle) - 1)), config.cycle_length(cycle) - 2)
        steps.append(config.warmup_steps + config.cycle_start(cycle) + offset)
    return steps


#: The explicit places of the inside-cycle check: the first step of a cycle's inside, its middle, its last.
INSIDE_POSITIONS = [(0, 0.0), (0, 0.5), (1, 1.0), (2, 0.3)]


HUGE_STEPS = (10**9, 10**12, 10**12 + 7, 2**40)

#: Fixed schedules for the huge-step check (a table, not a strategy: a hang must cost one
#: time limit, not one per shrinking attempt). T_mult = 1 is where a loop over cycles is slowest.
HUGE_CONFIGS = (
    SGDRConfig(warmup_steps=0, T_0=1, T_mult=1, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=1.0),
    SGDRConfig(warmup_steps=10, T_0=7, T_mult=1, eta_min=1e-5, warmup_start_factor=0.1, cycle_decay=1.0),
    SGDRConfig(warmup_steps=3, T_0=12, T_mult=1, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=0.9),
    SGDRConfig(warmup_steps=5, T_0=1, T_mult=2, eta_min=1e-3, warmup_start_factor=0.0, cycle_decay=1.0),
    SGDRConfig(warmup_steps=0, T_0=3, T_mult=2, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=0.9),
    SGDRConfig(warmup_steps=1, T_0=1, T_mult=3, eta_min=1e-5, warmup_start_factor=0.5, cycle_decay=0.9),
    SGDRConfig(warmup_steps=0, T_0=5, T_mult=4, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=0.5),
    SGDRConfig(warmup_steps=20, T_0=2, T_mult=10, eta_min=1e-3, warmup_start_factor=0.0, cycle_decay=1.0),
    SGDRConfig(warmup_steps=4, T_0=3, T_mult=1, eta_min=0.0, warmup_start_factor=0.0, cycle_decay=1.0, defaults_left_out=True),
)


def huge_steps() -> st.SearchStrategy[int]:
    return st.sampled_from(HUGE_STEPS)



# -- ex1: padded sequences ----------------------------------------------------------


@dataclass(frozen=True)
class LengthsCase:
    """An example of ``last_token``: hidden (B, T, D) from a seed, and right-padding lengths, without a dtype or device."""

    lengths: tuple[int, ...]  # B of them, each in [1, T]
    seq_len: int  # T
    width: int = 3  # D
    seed: int = 0
    noncontiguous: bool = False
    index_dtype: torch.dtype = torch.int64

    def build(self, device: str, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (len(self.lengths), self.seq_len, self.width)
        hidden = make(shape, dtype, device, self.seed, noncontiguous=self.noncontiguous)
        return hidden, torch.tensor(self.lengths, dtype=self.index_dtype, device=device)


@st.composite
def lengths_cases(draw: st.DrawFn) -> LengthsCase:
    """hidden (B, T, D), possibly non-contiguous, with valid right-padding lengths (int64 or int32)."""
    B, T, D = draw(sizes(1, 5)), draw(sizes(1, 6)), draw(sizes(1, 4))
    return LengthsCase(
        lengths=tuple(draw(st.lists(st.integers(1, T), min_size=B, max_size=B))),
        seq_len=T,
        width=D,
        seed=draw(SEEDS),
        noncontiguous=draw(st.booleans()),
        index_dtype=draw(st.sampled_from([torch.int64, torch.int32])),
    )


#: The scenarios the contract of ``last_token`` names, tried in every case of every check that
#: covers them, each in its smallest form and smallest first: an explicit example that fails
#: is reported as it is (not shrunk), so it must already be the smallest example that shows it.
LENGTHS_SCENARIOS = (
    LengthsCase(lengths=(1,), seq_len=1, width=1),  # one sequence of one token
    LengthsCase(lengths=(2,), seq_len=2, width=1),  # a full row: length = T
    LengthsCase(lengths=(1, 2), seq_len=2, width=1),  # a single-token row beside a full one
    LengthsCase(lengths=(2, 5, 1, 3), seq_len=5, noncontiguous=True, index_dtype=torch.int32),  # int32, odd strides
)


@dataclass(frozen=True)
class MaskCase:
    """An example of ``last_token_masked``: hidden (B, T, D) from a seed and a 0/1 mask, without a dtype or device."""

    rows: tuple[tuple[int, ...], ...]  # (B, T): 1 = a real token
    width: int = 3  # D
    seed: int = 0
    noncontiguous: bool = False
    mask_dtype: torch.dtype = torch.bool

    def build(self, device: str, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (len(self.rows), len(self.rows[0]), self.width)
        hidden = make(shape, dtype, device, self.seed, noncontiguous=self.noncontiguous)
        return hidden, torch.tensor(self.rows).to(self.mask_dtype).to(device)


Padding = Literal["right", "left", "gaps"]

MASK_DTYPES = (torch.bool, torch.int64, torch.int32, torch.uint8, torch.float32)


@st.composite
def mask_rows(draw: st.DrawFn, batch: int, seq_len: int, padding: Padding) -> tuple[tuple[int, ...], ...]:
    """(B, T) 0/1 rows with at least one real token each, padded on the given side.

    ``gaps`` rows have arbitrary holes, including in the middle of a row.
    """
    rows = []
    for _ in range(batch):
        n = draw(st.integers(1, seq_len))
        if padding == "right":
            row = [1] * n + [0] * (seq_len - n)
        elif padding == "left":
            row = [0] * (seq_len - n) + [1] * n
        else:
            row = draw(st.lists(st.integers(0, 1), min_size=seq_len, max_size=seq_len))
            if not any(row):
                row[draw(st.integers(0, seq_len - 1))] = 1
        rows.append(tuple(row))
    return tuple(rows)


@st.composite
def mask_cases(draw: st.DrawFn, paddings: tuple[Padding, ...] = ("right", "left", "gaps")) -> MaskCase:
    """hidden (B, T, D) and a mask of any accepted dtype, padded right, left or with gaps."""
    B, T, D = draw(sizes(1, 5)), draw(sizes(1, 6)), draw(sizes(1, 4))
    return MaskCase(
        rows=draw(mask_rows(B, T, draw(st.sampled_from(paddings)))),
        width=D,
        seed=draw(SEEDS),
        noncontiguous=draw(st.booleans()),
        mask_dtype=draw(st.sampled_from(MASK_DTYPES)),
    )


#: The scenarios the contract of ``last_token_masked`` names (right, left and gapped padding, a
#: single real token anywhere, full rows, every mask dtype), tried in every case of every check
#: that covers them, each in its smallest form and smallest first (see LENGTHS_SCENARIOS).
MASK_SCENARIOS = (
    MaskCase(rows=((1,),), width=1),  # one sequence of one token
    MaskCase(rows=((1, 0),), width=1, mask_dtype=torch.int64),  # right padding
    MaskCase(rows=((0, 1),), width=1, mask_dtype=torch.float32),  # left padding
    MaskCase(rows=((1, 1),), width=1, mask_dtype=torch.int32),  # a full row, no padding
    MaskCase(rows=((0, 1, 0),), width=1, mask_dtype=torch.uint8),  # one real token in the middle
    MaskCase(rows=((1, 0, 1),), width=1),  # a gap
    MaskCase(rows=((1, 1, 0, 0), (0, 1, 1, 0), (0, 0, 1, 1)), noncontiguous=True, mask_dtype=torch.float32),  # mixed
)


# -- ex5: Transformer ---------------------------------------------------------------


@dataclass(frozen=True)
class AttentionConfig:
    """One attention example's sizes: batch B, L queries, S keys, num_heads heads of width d_k."""

    batch: int
    query_len: int
    key_len: int
    num_heads: int
    d_k: int
    bias: bool = True

    @property
    def d_model(self) -> int:
        return self.num_heads * self.d_k


@st.composite
def attention_configs(
    draw: st.DrawFn,
    *,
    cross: bool = False,
    min_len: int = 1,
    max_len: int = 5,
    max_heads: int = 4,
    max_d_k: int = 4,
    min_d_model: int = 1,
) -> AttentionConfig:
    """Small sizes; ``cross`` makes L != S (cross-attention), otherwise L == S (self-attention)."""
    num_heads = draw(sizes(1, max_heads))
    d_k = draw(sizes(-(-min_d_model // num_heads), max_d_k))  # d_model >= min_d_model
    L = draw(sizes(min_len, max_len))
    S = draw(sizes(min_len, max_len).filter(lambda s: s != L)) if cross else L
    return AttentionConfig(draw(sizes(1, 3)), L, S, num_heads, d_k, draw(st.booleans()))


def allowed_mask(shape: tuple[int, ...], seed: int, *, keep: float = 0.6) -> torch.Tensor:
    """A reproducible bool mask (True = may attend) in which every row (last dim) keeps at least one key."""
    with torch.random.fork_rng(devices=[]):
        # Seed only the CPU generator: torch.manual_seed also queues lazy CUDA/XPU seeding
        # with a formatted traceback on every call, a third of some exercises' check time.
        torch.random.default_generator.manual_seed(seed)
        allowed = torch.rand(shape) < keep
        if allowed.numel():
            pick = torch.randint(shape[-1], shape[:-1]).unsqueeze(-1)
            allowed.scatter_(-1, pick, True)
    return allowed


@st.composite
def attention_masks(
    draw: st.DrawFn, shape: tuple[int, ...], device: str, *, empty_rows: bool = False
) -> torch.Tensor:
    """A mask of ``shape`` in any accepted dtype (bool, 0/1 integers or floats), nonzero = may attend.

    Every row keeps at least one key, unless ``empty_rows``: then one or more rows may attend to nothing.
    """
    allowed = allowed_mask(shape, draw(SEEDS))
    if empty_rows:
        rows = allowed.view(-1, shape[-1])
        n = rows.shape[0]
        empty = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
        rows[empty] = False
    return allowed.to(draw(st.sampled_from(MASK_DTYPES))).to(device)


@st.composite
def attention_inputs(
    draw: st.DrawFn, device: str, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """q (..., L, d_k), k (..., S, d_k), v (..., S, d_v) and a mask: none, (L, S), (..., L, S) or (..., 1, S)."""
    lead = draw(st.sampled_from([(), (2,), (2, 3)]))
    L, S, d_k, d_v = draw(sizes(1, 5)), draw(sizes(1, 5)), draw(sizes(1, 4)), draw(sizes(1, 4))
    q = draw(tensors((*lead, L, d_k), dtype, device, noncontiguous=None))
    k = draw(tensors((*lead, S, d_k), dtype, device, noncontiguous=None))
    v = draw(tensors((*lead, S, d_v), dtype, device, noncontiguous=None))
    shape = draw(st.sampled_from([None, (L, S), (*lead, L, S), (*lead, 1, S)]))
    mask = None if shape is None else draw(attention_masks(shape, device))
    return q, k, v, mask


#: The mask shapes MultiHeadAttention accepts (each broadcast to (B, num_heads, L, S)).
MHA_MASK_SHAPES = ("(L, S)", "(B, 1, 1, S)", "(B, 1, L, S)", "(B, H, L, S)")


def mha_mask_shape(name: str, config: AttentionConfig) -> tuple[int, ...]:
    B, H, L, S = config.batch, config.num_heads, config.query_len, config.key_len
    return {"(L, S)": (L, S), "(B, 1, 1, S)": (B, 1, 1, S), "(B, 1, L, S)": (B, 1, L, S), "(B, H, L, S)": (B, H, L, S)}[name]


@st.composite
def hiding_masks(draw: st.DrawFn, name: str, config: AttentionConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """A bool mask of the named shape that hides some keys from every query and head, and those keys.

    Returns ``(allowed, hidden)``: hidden (B, S) bool marks the keys no query may see (the same
    keys in every batch row for an (L, S) mask); every query still sees at least one key. Needs S >= 2.
    """
    B, S = config.batch, config.key_len
    shape = mha_mask_shape(name, config)
    per_batch = 1 if name == "(L, S)" else B
    hidden = torch.zeros(per_batch, S, dtype=torch.bool)
    for b in range(per_batch):
        keys = draw(st.lists(st.integers(0, S - 1), min_size=1, max_size=S - 1, unique=True))
        hidden[b, keys] = True
    seed = draw(SEEDS)
    with torch.random.fork_rng(devices=[]):
        # Seed only the CPU generator: torch.manual_seed also queues lazy CUDA/XPU seeding
        # with a formatted traceback on every call, a third of some exercises' check time.
        torch.random.default_generator.manual_seed(seed)
        allowed = torch.rand(shape) < 0.6
        # a random visible key per batch row, seen by every query: no row is left without a key
        open_keys = torch.rand(per_batch, S).masked_fill(hidden, -1.0).argmax(dim=-1)  # (per_batch,)
    visible = ~hidden  # (per_batch, S)
    if name == "(L, S)":
        allowed = (allowed & visible).index_fill(-1, open_keys, True)
    else:
        visible = visible.view(B, 1, 1, S)
        allowed = allowed & visible
        rows = torch.arange(B)
        allowed[rows, :, :, open_keys] = True
    return allowed, hidden.expand(B, S)


#: Dropout probabilities for the train-mode checks: 1 / (1 - p) is exact in binary (1.25 and 2).
DROPOUT_PROBS = (0.2, 0.5)


# -- ex6: the training loop ---------------------------------------------------------------

#: The small classifiers the ex6 checks train (built in grader/checks/ex6_training_loop/drivers.py).
NET_KINDS = ("linear", "mlp", "layernorm_mlp", "embedding")


@dataclass(frozen=True)
class NetSpec:
    """A small classifier: its kind, sizes and the seed of its weights (``features`` is the vocabulary for "embedding")."""

    kind: str
    features: int
    hidden: int
    classes: int
    seed: int


@st.composite
def net_specs(draw: st.DrawFn, kinds: tuple[str, ...] = NET_KINDS) -> NetSpec:
    return NetSpec(draw(st.sampled_from(kinds)), draw(sizes(2, 4)), draw(sizes(2, 5)), draw(sizes(2, 4)), draw(SEEDS))


@dataclass(frozen=True)
class Batches:
    """A loader's batches: their sizes, the seed of their data, and whether a DataLoader serves them.

    A DataLoader serves equal batches and a shorter last one (``sizes`` says so); a list
    serves any sizes. Either way the data are the same tensors for the same seed.
    """

    sizes: tuple[int, ...]
    seed: int
    dataloader: bool = False


@st.composite
def batches(draw: st.DrawFn, min_batches: int = 1, max_batches: int = 5, min_size: int = 1) -> Batches:
    """Small batches of uneven sizes: any sizes in a list, or a DataLoader's equal batches and a shorter last one."""
    n = draw(st.integers(min_batches, max_batches))
    if draw(st.booleans()):
        size = draw(sizes(min_size, 4))
        last = draw(st.integers(min_size, size))
        return Batches((size,) * (n - 1) + (last,), draw(SEEDS), dataloader=True)
    return Batches(tuple(draw(st.lists(sizes(min_size, 4), min_size=n, max_size=n))), draw(SEEDS))


@st.composite
def equal_windows(draw: st.DrawFn) -> tuple[Batches, int]:
    """``(batches, k)``: windows of k equal micro-batches (k >= 2), no short window."""
    k, windows, size = draw(st.integers(2, 3)), draw(st.integers(1, 2)), draw(sizes(1, 3))
    return Batches((size,) * (k * windows), draw(SEEDS)), k


def make_batches(spec: NetSpec, loader: Batches, dtype: torch.dtype) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (inputs, targets) CPU tensors of ``loader`` for ``spec``'s net: token ids (B, 3) or features (B, F)."""
    generator = torch.Generator().manual_seed(loader.seed)
    out = []
    for b in loader.sizes:
        if spec.kind == "embedding":
            inputs = torch.randint(spec.features, (b, 3), generator=generator)
        else:
            inputs = (torch.rand(b, spec.features, generator=generator, dtype=torch.float64) * 4 - 2).to(dtype)
        out.append((inputs, torch.randint(spec.classes, (b,), generator=generator)))
    return out


OPTIMIZER_NAMES = ("SGD", "momentum SGD", "AdamW")


@dataclass(frozen=True)
class TrainConfig:
    """How one epoch trains: the optimizer, accumulation, clipping and an optional LambdaLR.

    ``lr_factors[t]`` is the scheduler's factor after t scheduler steps (the last one
    repeats); None means no scheduler.
    """

    optimizer: str = "SGD"
    accumulation_steps: int = 1
    max_grad_norm: float | None = None
    lr_factors: tuple[float, ...] | None = None

    def describe(self) -> dict[str, object]:
        """The settings as a failure's example shows them."""
        shown: dict[str, object] = {"optimizer": self.optimizer, "accumulation_steps": self.accumulation_steps}
        if self.max_grad_norm is not None:
            shown["max_grad_norm"] = self.max_grad_norm
        if self.lr_factors is not None:
            shown["scheduler"] = f"LambdaLR, lr factor per step {list(self.lr_factors)}"
        return shown


#: Small enough that most steps clip: the gradient norms of these nets are about 0.2 to 3.
MAX_GRAD_NORMS = (0.05, 0.3, 1.0)

#: Scheduler factors; 0 freezes the weights for a step (plain SGD, momentum and AdamW alike).
LR_FACTORS = (1.0, 0.5, 0.25, 0.0)


@st.composite
def train_configs(
    draw: st.DrawFn,
    *,
    optimizers: tuple[str, ...] = OPTIMIZER_NAMES,
    accumulation: bool | None = False,
    clipping: bool | None = False,
    scheduler: bool | None = False,
) -> TrainConfig:
    """A config; each feature is on (True), off (False) or drawn (None)."""

    def on(flag: bool | None) -> bool:
        return draw(st.booleans()) if flag is None else flag

    return TrainConfig(
        optimizer=draw(st.sampled_from(optimizers)),
        accumulation_steps=draw(st.integers(2, 4)) if on(accumulation) else 1,
        max_grad_norm=draw(st.sampled_from(MAX_GRAD_NORMS)) if on(clipping) else None,
        lr_factors=tuple(draw(st.lists(st.sampled_from(LR_FACTORS), min_size=1, max_size=6))) if on(scheduler) else None,
    )


#: Values for EarlyStopping: dyadic, so ``v < best - d``, ``best - v > d`` and ``v + d < best``
#: agree exactly, and ties at the min_delta boundary happen often. NaN included.
METRIC_VALUES = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, float("nan")])
MIN_DELTAS = st.sampled_from([0.0, 0.25, 0.5, 1.0])


def metric_sequences(max_size: int = 12) -> st.SearchStrategy[list[float]]:
    return st.lists(METRIC_VALUES, min_size=1, max_size=max_size)


@dataclass(frozen=True)
class EarlyStoppingConfig:
    patience: int
    min_delta: float
    mode: str

    def kwargs(self) -> dict[str, object]:
        return dict(patience=self.patience, min_delta=self.min_delta, mode=self.mode)


@st.composite
def early_stopping_configs(draw: st.DrawFn) -> EarlyStoppingConfig:
    return EarlyStoppingConfig(draw(st.integers(1, 4)), draw(MIN_DELTAS), draw(st.sampled_from(["min", "max"])))


#: The parts a param_groups model is made of (see drivers.zoo): what decay each parameter gets
#: depends on its registration name and its module's type, never on the names below.
ZOO_KINDS = (
    "Linear",
    "Linear(bias=False)",
    "LayerNorm",
    "BatchNorm1d",
    "BatchNorm2d",
    "GroupNorm",
    "RMSNorm",
    "LayerNorm subclass",
    "Embedding",
    "Affine(scale, bias)",
    "Gate(gain, bias_logit)",
    "Sequential(Linear, LayerNorm)",
)

#: Names for the parts, substring traps included (a Linear may be called "normalizer", a LayerNorm "ln").
ZOO_NAMES = ("fc", "ln", "norm", "normalizer", "bias_proj", "biased", "head", "bn", "layer_norm", "gate", "encoder")


@dataclass(frozen=True)
class ZooSpec:
    """A model of named parts, some frozen, maybe with tied embedding/output weights."""

    parts: tuple[tuple[str, str, bool], ...]  # (name, kind, frozen)
    tied: bool = False


@st.composite
def zoo_specs(draw: st.DrawFn) -> ZooSpec:
    names = draw(st.lists(st.sampled_from(ZOO_NAMES), min_size=1, max_size=5, unique=True))
    parts = tuple((name, draw(st.sampled_from(ZOO_KINDS)), draw(st.booleans()) and draw(st.booleans())) for name in names)
    return ZooSpec(parts, draw(st.booleans()))


@dataclass(frozen=True)
class FitPlan:
    """One fit: its epochs, training and validation batches, the validation epochs whose first input is
    NaN (so their validation loss is NaN), and the epoch at which a stand-in early stopping says stop."""

    epochs: int
    train: Batches
    val: Batches
    nan_epochs: tuple[int, ...] = ()
    stop_at: int | None = None


@st.composite
def fit_plans(draw: st.DrawFn, max_epochs: int = 5) -> FitPlan:
    """A plan in which at least one epoch that runs has a real validation loss (so a best epoch exists)."""
    epochs = draw(st.integers(1, max_epochs))
    stop_at = draw(st.none() | st.integers(0, epochs - 1))
    runs = epochs if stop_at is None else stop_at + 1
    clean = draw(st.integers(0, runs - 1))
    nan_epochs = draw(st.lists(st.integers(0, epochs - 1).filter(lambda e: e != clean), unique=True, max_size=2))
    return FitPlan(epochs, draw(batches(1, 3)), draw(batches(1, 2)), tuple(sorted(nan_epochs)), stop_at)
