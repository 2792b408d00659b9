"""ex2 (Swish): shapes, betas, and values where a naive formula overflows."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from grader.strategies.common import SEEDS, make, shapes, sizes

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
