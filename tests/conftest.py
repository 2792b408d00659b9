"""The kit's own tests: a fixed-seed hypothesis profile so CI is reproducible and never flaky on time."""

import torch
from hypothesis import HealthCheck, settings

settings.register_profile(
    "kit",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("kit")

# Tiny tensors everywhere: intra-op threads only add fork/join waits on a 2-core machine.
torch.set_num_threads(1)
