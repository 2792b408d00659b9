"""The kit's own tests: a fixed-seed hypothesis profile so CI is reproducible and never flaky on time,
and, under ``--dist loadgroup``, the heaviest xdist units first (tests/xdist_schedule.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import torch
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:  # pytest-xdist is a test extra: the kit's tests run without it too
    from xdist.remote import Producer
    from xdist.scheduler import LoadGroupScheduling

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


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # before xdist's own; no such hook without xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> LoadGroupScheduling | None:
    """``--dist loadgroup`` hands out the heaviest units first (tests/xdist_schedule.py)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.xdist_schedule import HeaviestFirst

    return HeaviestFirst(config, log)
