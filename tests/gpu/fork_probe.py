"""Which step of the fork server's preload leaves CUDA unusable in a forked child? (Run on a GPU machine.)

``PYTHONPATH=. python3 -m tests.gpu.fork_probe``: does what the fork server does
(:mod:`grader.isolation.preload`), one step at a time, in this process, and after each step
forks a child that initialises CUDA. The first step after which the child cannot is the
culprit: the step is then run again in a fresh process under a profiler that prints every
call whose name mentions CUDA, an accelerator, NVML or triton. Exit status 0 when every
step leaves CUDA usable in a forked child.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Callable

KEYWORDS = ("cuda", "accelerator", "nvml", "triton", "is_pinned", "device_count", "lazy_init")


def forked_child_can_use_cuda() -> str:
    """'' if a child forked now can initialise CUDA and run a kernel, else its error."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            import torch

            torch.cuda.init()
            (torch.ones(1, device="cuda") + 1).cpu()
            os._exit(0)
        except BaseException as err:  # noqa: BLE001
            os.write(write, f"{type(err).__name__}: {err}".encode()[:300])
            os._exit(1)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    message = os.read(read, 400).decode(errors="replace")
    os.close(read)
    return "" if os.waitstatus_to_exitcode(status) == 0 else (message or f"exit status {status}")


def steps() -> list[tuple[str, Callable[[], object]]]:
    """The fork server's preload, as named steps (imports first, then the warm-up)."""
    found: list[tuple[str, Callable[[], object]]] = [
        ("import torch", lambda: importlib.import_module("torch")),
        ("import grader.isolation.worker", lambda: importlib.import_module("grader.isolation.worker")),
        ("import grader.drivers", lambda: importlib.import_module("grader.drivers")),
    ]
    from grader import registry

    for exercise in registry.EXERCISES:
        found.append((f"import {exercise.check_module}", lambda m=exercise.check_module: importlib.import_module(m)))
    found.append(("import grader.isolation.warm_up", lambda: importlib.import_module("grader.isolation.warm_up")))
    from grader.isolation import warm_up

    found += [(f"warm-up: {name}", step) for name, step in warm_up.STEPS]
    return found


def trace(index: int) -> None:
    """In a fresh process: run the steps before ``index`` quietly, then step ``index`` under the profiler."""
    all_steps = steps()
    for _, step in all_steps[:index]:
        step()

    def profile(frame, event, arg):  # noqa: ANN001, ANN202
        if event == "c_call":
            name = f"{getattr(arg, '__module__', '') or ''}.{getattr(arg, '__qualname__', getattr(arg, '__name__', ''))}"
        elif event == "call":
            name = f"{frame.f_globals.get('__name__', '')}.{frame.f_code.co_qualname}"
        else:
            return
        if any(k in name.lower() for k in KEYWORDS):
            print("   called:", name, flush=True)

    sys.setprofile(profile)
    all_steps[index][1]()
    sys.setprofile(None)


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--trace":
        trace(int(sys.argv[2]))
        return 0
    culprit = None
    for index, (name, step) in enumerate(steps()):
        step()
        error = forked_child_can_use_cuda()
        print(f"{'BROKEN' if error else 'ok    '} after {name}" + (f": {error}" if error else ""), flush=True)
        if error and culprit is None:
            culprit = index
            break
    if culprit is None:
        print("every step leaves CUDA usable in a forked child")
        return 0
    print(f"calls that may ask CUDA in '{steps()[culprit][0]}':", flush=True)
    subprocess.run([sys.executable, "-m", "tests.gpu.fork_probe", "--trace", str(culprit)], timeout=120)
    return 1


if __name__ == "__main__":
    sys.exit(main())
