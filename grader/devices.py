"""One device/dtype parametrisation for every check, PyTorch-style.

Each check runs once per case: ``cpu-float32``, ``cpu-float64`` and, where it makes
sense, ``cuda-float16``/``cuda-bfloat16``. CUDA cases always exist (so a report lists
the same cases everywhere) and are skipped cleanly when no GPU is present. A
check's points are shared among the cases that actually ran, so the maximum score
does not depend on the machine.

Importing a check module must never ask CUDA anything: the isolated workers' fork
server imports every check module, and a process that has asked CUDA (even
``torch.cuda.is_available()``) cannot hand CUDA to the children it forks. So a CUDA
case only carries the ``cuda`` marker here; whether it runs is decided when it is
about to run, in the grading process (:func:`skip_unless_cuda`, called by the plugin),
which then tells its workers to use CUDA.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import pytest
import torch

F = TypeVar("F", bound=Callable[..., object])

FULL = (torch.float32, torch.float64)
HALF = (torch.float16, torch.bfloat16)

#: The marker every CUDA case carries (registered by the plugin).
CUDA_MARKER = "cuda"

NO_CUDA = "CUDA がありません / CUDA is not available"

@functools.cache
def cuda_available() -> bool:
    """Whether this process grades the CUDA cases. Asks CUDA: call it in the grading process only."""
    return torch.cuda.is_available()


def skip_unless_cuda(item: pytest.Item) -> None:
    """Skip a CUDA case when this machine has no usable GPU (a pytest setup step)."""
    if item.get_closest_marker(CUDA_MARKER) is not None and not cuda_available():
        pytest.skip(NO_CUDA)


def cases(dtypes: Sequence[torch.dtype] = FULL, half_on_cuda: bool = True) -> list:
    """The (device, dtype) cases for a check, as ``pytest.param`` objects with readable ids."""
    params = [pytest.param("cpu", dt, id=f"cpu-{_name(dt)}") for dt in dtypes]
    cuda_dtypes = tuple(dtypes) + (HALF if half_on_cuda else ())
    cuda = getattr(pytest.mark, CUDA_MARKER)
    params += [pytest.param("cuda", dt, id=f"cuda-{_name(dt)}", marks=cuda) for dt in cuda_dtypes]
    return params


def on_devices(dtypes: Sequence[torch.dtype] = FULL, *, half_on_cuda: bool = True) -> Callable[[F], F]:
    """Parametrise a check over ``device`` and ``dtype`` (float32/float64; half precision on CUDA)."""
    return pytest.mark.parametrize(("device", "dtype"), cases(dtypes, half_on_cuda))


def on_each_device() -> Callable[[F], F]:
    """Parametrise a check over ``device`` only, for checks with no floating-point dtype of their own."""
    cuda = getattr(pytest.mark, CUDA_MARKER)
    return pytest.mark.parametrize("device", [pytest.param("cpu", id="cpu"), pytest.param("cuda", id="cuda", marks=cuda)])


@contextlib.contextmanager
def seeded(seed: int, device: str | torch.device = "cpu") -> Iterator[None]:
    """Random draws on ``device`` from ``seed``, as after ``torch.manual_seed(seed)``; the global
    generators are left as they were.

    Not ``torch.manual_seed`` itself: where CUDA is not initialised (every CPU case, every
    worker) it also queues a lazy seeding of CUDA, XPU and MTIA, each recording the caller's
    stack, about 5 ms a call under pytest (a tenth of ex4's grading). The CPU generator it
    seeds is the same, so the draws are the same.
    """
    device = torch.device(device)
    if device.type == "cpu":
        with torch.random.fork_rng(devices=[]):
            torch.random.default_generator.manual_seed(seed)
            yield
    else:  # CUDA is initialised here: its seeding is immediate
        with torch.random.fork_rng(devices=[device]), torch.cuda.device(device):
            torch.random.default_generator.manual_seed(seed)
            torch.cuda.manual_seed(seed)
            yield


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
