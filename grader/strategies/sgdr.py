"""ex4 (warmup + SGDR): schedules, their restarts and the steps inside their cycles."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import assume
from hypothesis import strategies as st

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
