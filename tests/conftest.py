"""The kit's own tests: a fixed-seed hypothesis profile so CI is reproducible and never flaky on time,
under ``--dist loadgroup`` the heaviest xdist units first (tests/xdist_schedule.py), and the
model answers' run through the CLI that several test modules read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import torch
from hypothesis import HealthCheck, settings

from grader import registry
from tests.grading import ROOT, Checked, check_with_plots

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


@pytest.fixture(scope="session")
def solutions_checked(tmp_path_factory: pytest.TempPathFactory) -> Checked:
    """``grader check`` of every model answer (smoke profile, ``--json``, ``--plots``), its oracle traced.

    The exercises are named by their short ids, and ex1 by its long id as well (graded once).
    Read by the CLI's tests (tests/test_grader_cli.py: the table, the JSON, the plots) and by the
    check specifications' (tests/test_check_specs.py: each check's oracle calls): one run for all,
    on the one worker that runs the xdist group ``SOLUTIONS_RUN`` of its readers. Their full
    marks on every example of the grading profile are held by the slow isolated run
    (``test_isolated_grading_gives_solutions_full_marks_and_stubs_zero``), the way a class is graded.
    """
    exercises = [ex.short for ex in registry.EXERCISES] + [registry.EXERCISES[0].id]
    workdir = tmp_path_factory.mktemp("solutions_checked")
    return check_with_plots(exercises, ROOT / "solutions", "smoke", workdir, traced=True)


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # before xdist's own; no such hook without xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> LoadGroupScheduling | None:
    """``--dist loadgroup`` hands out the heaviest units first (tests/xdist_schedule.py)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.xdist_schedule import HeaviestFirst

    return HeaviestFirst(config, log)
