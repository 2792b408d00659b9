"""Breaks the kit on purpose, in every process of a grading run, to show that a broken kit scores no one.

Put this folder first on ``PYTHONPATH`` and name the fault in ``GRADER_TEST_FAULT``:

- ``fork_server``: the fork server cannot start (its preload raises);
- ``worker_dies``: a worker dies in its set-up, before the student's file runs;
- ``guard``: the guard cannot be installed;
- ``pool``: a batch's pool process fails on every student it is given;
- ``cuda``: the grading process asks for CUDA and CUDA cannot initialise in the worker;
- ``cuda_trap``: not a fault but a tripwire: from the moment the fork server starts its
  preload, any call that asks CUDA (``torch.cuda.is_available``, ``device_count``, ``init``,
  ``torch._C._cuda_getDeviceCount``, NVML, autograd's backward, ...) made by the fork
  server itself writes its name to the file named by ``GRADER_TEST_CUDA_TRAP_LOG`` and
  kills the process (exit status 97). A fork server that touched CUDA could not give its
  workers CUDA. The file starts with "armed" once the tripwire is set.

Used by ``tests/test_grader_errors.py``. Nothing in the kit knows about it.
"""

from __future__ import annotations

import importlib.abc
import os
import sys

FAULT = os.environ.get("GRADER_TEST_FAULT", "")


class _BreakOnImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Applies the fault to a module right after it is imported (``patch``), or fails its import (``fail``)."""

    def __init__(self, name: str, patch=None, fail: bool = False, before=None) -> None:  # noqa: ANN001
        self.name, self.patch, self.fail, self.before = name, patch, fail, before

    def find_spec(self, fullname, path, target=None):  # noqa: ANN001, ANN201
        if fullname != self.name:
            return None
        if self.fail:
            raise RuntimeError(f"simulated fault {FAULT!r}: importing {fullname} fails")
        if self.before is not None:
            self.before()
        sys.meta_path.remove(self)
        try:
            import importlib.util

            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        real_exec = spec.loader.exec_module
        patch = self.patch or (lambda module: None)

        def exec_module(module):  # noqa: ANN001, ANN202
            real_exec(module)
            patch(module)

        spec.loader.exec_module = exec_module
        return spec


def _worker_dies(module) -> None:  # noqa: ANN001
    def set_up(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        os._exit(1)

    module._set_up = set_up


def _guard_fails(module) -> None:  # noqa: ANN001
    def install(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("simulated fault: the guard cannot be installed")

    module.install = install


def _use_cuda(module) -> None:  # noqa: ANN001
    """The grading process tells its workers to use CUDA (as it does on a GPU machine)."""
    original = module.IsolatedRunner.__init__

    def __init__(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        original(self, *args, **kwargs)
        self._use_cuda = True

    module.IsolatedRunner.__init__ = __init__


def _cuda_init_fails(module) -> None:  # noqa: ANN001
    """...and CUDA cannot initialise in the worker (as after a fork from a process that asked CUDA)."""

    def init() -> None:
        raise RuntimeError("simulated fault: CUDA error: initialization error")

    module.torch.cuda.init = init


#: Every way torch asks the CUDA driver (or NVML) whether, or how many, GPUs there are, or starts CUDA.
CUDA_ENTRY_POINTS = {
    "torch.cuda": ("is_available", "device_count", "init", "_lazy_init", "current_device", "get_device_properties",
                   "get_device_name", "get_device_capability", "mem_get_info", "is_bf16_supported", "synchronize",
                   "_device_count_nvml", "_raw_device_count_nvml", "_device_count_amdsmi", "_raw_device_uuid_nvml"),
    "torch._C": ("_cuda_getDeviceCount", "_cuda_init", "_cuda_getDevice", "_cuda_setDevice",
                 "_get_accelerator", "_accelerator_getAccelerator", "_accelerator_hooks_device_count",
                 "_accelerator_getDeviceIndex", "_accelerator_getStream"),
    # the device-generic API asks the CUDA driver too (e.g. Optimizer's graph-capture check, fork_rng)
    "torch.accelerator": ("current_accelerator", "device_count", "is_available", "current_device_index",
                          "current_device_idx", "current_stream", "synchronize", "get_device_capability"),
    "torch.Tensor": ("is_pinned", "pin_memory"),  # a pointer query that starts the driver
    # autograd's engine starts a thread per device on its first backward, asking the driver how many
    "torch.autograd": ("backward", "grad"),
}  # fmt: skip


def _trap_cuda() -> None:
    """Arm the tripwire in this process (the fork server) only: its workers may run backward, and a worker
    told to use CUDA may use it. Writes "armed" first, so a test can tell a silent failure to arm (the fork
    server swallows an ImportError of its preload) from a clean run."""
    import importlib

    import torch  # noqa: F401 - its submodules below

    fork_server = os.getpid()
    log = os.environ.get("GRADER_TEST_CUDA_TRAP_LOG")

    def write(line: str) -> None:
        if log:
            with open(log, "a", encoding="utf-8") as f:
                f.write(line + "\n")

    def trap(name: str, original):  # noqa: ANN001, ANN202
        def asked(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            if os.getpid() != fork_server:
                return original(*args, **kwargs)
            write(name)
            os._exit(97)

        return asked

    try:
        for owner_name, names in CUDA_ENTRY_POINTS.items():
            parent, _, last = owner_name.rpartition(".")
            owner = getattr(importlib.import_module(parent), last)  # a module (torch.cuda) or a class (torch.Tensor)
            for name in names:
                if hasattr(owner, name):
                    setattr(owner, name, trap(f"{owner_name}.{name}", getattr(owner, name)))
    except BaseException as err:  # noqa: BLE001 - a tripwire that is not armed must not pass for a clean run
        write(f"not armed: {err!r}")
        os._exit(98)
    write("armed")


def _pool_fails(module) -> None:  # noqa: ANN001
    def grade_submission(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("simulated fault: the pool process broke")

    module.grade_submission = grade_submission


_FAULTS = {
    "fork_server": lambda: [_BreakOnImport("grader.isolation.preload", fail=True)],
    "worker_dies": lambda: [_BreakOnImport("grader.isolation.worker", _worker_dies)],
    "guard": lambda: [_BreakOnImport("grader.isolation.guard", _guard_fails)],
    "pool": lambda: [_BreakOnImport("grader.instructor.batch", _pool_fails)],
    "cuda": lambda: [_BreakOnImport("grader.isolation.runner", _use_cuda), _BreakOnImport("grader.isolation.worker", _cuda_init_fails)],
    "cuda_trap": lambda: [_BreakOnImport("grader.isolation.preload", before=_trap_cuda)],
}

if FAULT:
    sys.meta_path[:0] = _FAULTS[FAULT]()
