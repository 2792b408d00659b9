"""ex3 (ResidualMLP): layer configurations and odd memory layouts."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from grader.strategies.common import sizes

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
