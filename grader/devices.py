"""One device/dtype parametrisation for every check, PyTorch-style.

Each check runs once per case: ``cpu-float32``, ``cpu-float64`` and, where it makes
sense, ``cuda-float16``/``cuda-bfloat16``. CUDA cases always exist (so a report lists
the same cases everywhere) and are skipped cleanly when no GPU is present. A
check's points are shared among the cases that actually ran, so the maximum score
does not depend on the machine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import pytest
import torch

F = TypeVar("F", bound=Callable[..., object])

FULL = (torch.float32, torch.float64)
HALF = (torch.float16, torch.bfloat16)

NO_CUDA = "CUDA がありません / CUDA is not available"


def cuda_available() -> bool:
    return torch.cuda.is_available()


def cases(dtypes: Sequence[torch.dtype] = FULL, half_on_cuda: bool = True) -> list:
    """The (device, dtype) cases for a check, as ``pytest.param`` objects with readable ids."""
    params = [pytest.param("cpu", dt, id=f"cpu-{_name(dt)}") for dt in dtypes]
    cuda_dtypes = tuple(dtypes) + (HALF if half_on_cuda else ())
    skip = pytest.mark.skipif(not cuda_available(), reason=NO_CUDA)
    params += [pytest.param("cuda", dt, id=f"cuda-{_name(dt)}", marks=skip) for dt in cuda_dtypes]
    return params


def on_devices(dtypes: Sequence[torch.dtype] = FULL, *, half_on_cuda: bool = True) -> Callable[[F], F]:
    """Parametrise a check over ``device`` and ``dtype`` (float32/float64; half precision on CUDA)."""
    return pytest.mark.parametrize(("device", "dtype"), cases(dtypes, half_on_cuda))


def on_each_device() -> Callable[[F], F]:
    """Parametrise a check over ``device`` only, for checks with no floating-point dtype of their own."""
    skip = pytest.mark.skipif(not cuda_available(), reason=NO_CUDA)
    return pytest.mark.parametrize(
        "device", [pytest.param("cpu", id="cpu"), pytest.param("cuda", id="cuda", marks=skip)]
    )


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
