"""Every hypothesis strategy the checks draw from, in one place: ``from grader import strategies as S``.

Tensors are drawn as (shape, seed): the values come from ``torch.testing.make_tensor``
under that seed on the CPU and are then moved to the device, so an example is the
same on every device and hypothesis shrinks shapes (and seeds) towards small ones.

The contract's defaults and named scenarios are never left to chance: each is an
explicit example (:func:`explicit`) of every check that covers it, tried first in every
device/dtype case. So a strategy draws device- and dtype-free descriptions (a case,
a layout, a list of values) that a check builds into tensors for its own case.

One module per exercise (``sequences`` is ex1's, ``swish`` ex2's, ...), and ``common``
for what they share; this package's namespace holds them all.
"""

from grader.strategies.common import (  # noqa: F401
    SEEDS,
    explicit,
    make,
    tensors,
    sizes,
    shapes,
)
from grader.strategies.sequences import (  # noqa: F401
    LengthsCase,
    lengths_cases,
    LENGTHS_SCENARIOS,
    MaskCase,
    Padding,
    MASK_DTYPES,
    mask_rows,
    mask_cases,
    MASK_SCENARIOS,
)
from grader.strategies.swish import (  # noqa: F401
    BETAS,
    DEFAULT_BETA,
    BETA_ARGUMENTS,
    DEFAULT_BETAS,
    MODULE_BETAS,
    LARGE_MAGNITUDES,
    SATURATING_BETAS,
    swish_shapes,
    large_values,
    ALL_LARGE_VALUES,
    ODD_LAYOUTS,
    OddLayout,
    odd_layouts,
    EVERY_ODD_LAYOUT,
)
from grader.strategies.mlp import (  # noqa: F401
    DEFAULT_DROPOUT,
    MLPConfig,
    DROPOUTS,
    NO_BLOCKS,
    ONE_FEATURE,
    DEFAULT_DROPOUT_CONFIG,
    mlp_configs,
    EVERY_LEADING_SHAPE,
    LEADING_SHAPES,
)
from grader.strategies.sgdr import (  # noqa: F401
    SGDR_DEFAULTS,
    SGDRConfig,
    BASE_LRS,
    group_lrs,
    sgdr_configs,
    SGDR_SCENARIOS,
    FLOAT_LOG_TRAPS,
    restart_configs,
    restart_steps,
    inside_positions,
    inside_steps,
    INSIDE_POSITIONS,
    HUGE_STEPS,
    HUGE_CONFIGS,
    huge_steps,
)
from grader.strategies.transformer import (  # noqa: F401
    AttentionConfig,
    attention_configs,
    allowed_mask,
    attention_masks,
    attention_inputs,
    MHA_MASK_SHAPES,
    mha_mask_shape,
    hiding_masks,
    DROPOUT_PROBS,
)
from grader.strategies.training import (  # noqa: F401
    NET_KINDS,
    NetSpec,
    net_specs,
    Batches,
    batches,
    equal_windows,
    make_batches,
    OPTIMIZER_NAMES,
    TrainConfig,
    MAX_GRAD_NORMS,
    LR_FACTORS,
    train_configs,
    METRIC_VALUES,
    MIN_DELTAS,
    metric_sequences,
    EarlyStoppingConfig,
    early_stopping_configs,
    ZOO_KINDS,
    ZOO_NAMES,
    ZooSpec,
    zoo_specs,
    FitPlan,
    fit_plans,
)
