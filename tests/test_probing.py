"""The cross-checked instruments (grader/probing): each detection fires on tampering and stays silent on honest code.

In this process (the instruments called directly, on attacks written here) and in an
isolated worker (a driver run through IsolatedRunner on the hostile files of
tests/hostile/ex2_swish, and on the model answer). Honest code must also be measured
exactly as before: the same operators as a bare dispatch mode records.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import (
    TorchDispatchMode,
    _disable_current_modes,
    _get_current_dispatch_mode,
)
from torch.utils._pytree import tree_map

from grader import registry
from grader.checks.ex2_swish import drivers as ex2_drivers
from grader.isolation.runner import IsolatedRunner
from grader.probes import aten_ops, saved_tensors
from grader.probing import seal
from grader.probing.recorder import OpRecorder
from grader.probing.tampering import Tampered
from grader.options import Limits
from grader.runner import DRIVERS, driver_key
from tests.grading import ROOT, student_source

X = torch.randn(3, 4, requires_grad=True)
_CONFIG = torch._C._profiler.ProfilerConfig(
    torch._C._profiler.ProfilerState.CPU, False, False, False, False, False, torch._C._profiler._ExperimentalConfig()
)


class Bare(TorchDispatchMode):
    """The op recorder as it was: what an honest call's operators must still be counted as."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func.overloadpacket))
        return func(*args, **(kwargs or {}))


class Swish(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta):
        ctx.save_for_backward(x)
        return x * torch.sigmoid(beta * x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x)
        return g * (s + x * s * (1 - s)), None


def printed(x: torch.Tensor) -> torch.Tensor:
    with open("/dev/null", "w") as devnull:
        print(x, nn.Parameter(torch.ones(2)), file=devnull)  # torch prints with the dispatch modes off
    return x * 2


def labelled(x: torch.Tensor) -> torch.Tensor:
    with torch.profiler.record_function("mine"), torch.profiler.record_function("my::label"):
        return x * 2


def python_data(x: torch.Tensor) -> torch.Tensor:
    """Tensors from Python data and numpy: torch builds (and moves to x's device) with every mode off."""
    on_cpu = torch.from_numpy(x.detach().cpu().numpy() * 2) + torch.as_tensor(np.ones(4))
    return on_cpu.to(x.device) + torch.tensor(x.tolist(), device=x.device) + x.new_tensor([1.0, 2.0, 3.0, 4.0])


#: What honest code does inside a measured call, on a device's x: none of it may look like tampering.
HONEST: dict[str, Callable[[torch.Tensor], Any]] = {
    "swish": lambda x: x * torch.sigmoid(1.5 * x),
    "custom Function": lambda x: Swish.apply(x, 1.5),
    "printing tensors": printed,
    "record_function labels": labelled,
    "tensors from Python data and numpy": python_data,
    "a new Parameter and a module": lambda x: nn.Linear(4, 2, device=x.device)(x) + nn.Parameter(torch.tensor(1.0, device=x.device)),
    "no-op conversions": lambda x: x.contiguous().to(torch.float32).to(x.device).reshape(3, 4),
    "x.data and the input itself": lambda x: (x.data * 2, x),
    "a Python loop": lambda x: torch.stack([x[i] * 2 for i in range(3)]),
    "item and masks": lambda x: x.masked_fill(x > x[0, 0].item(), float("-inf")).softmax(-1),
    "attention": lambda x: F.scaled_dot_product_attention(x[None], x[None], x[None], is_causal=True),
    "einsum and max": lambda x: torch.einsum("ij,kj->ik", x, x).max(dim=1),
    "backward inside the call": lambda x: torch.autograd.grad((x * x).sum(), x)[0],
    "in place on a copy": lambda x: x.detach().clone().mul_(2),
}
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU"))]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", HONEST)
def test_honest_code_is_measured_as_before(name: str, device: str) -> None:
    x = X.detach().to(device).requires_grad_(True)
    with Bare() as bare:
        HONEST[name](x)
    _, ops = aten_ops(lambda: HONEST[name](x))
    assert ops == bare.ops


# -- attacks in this process: (what it does, words of the evidence) --------------------------------


def modes_disabled() -> torch.Tensor:
    with _disable_current_modes():
        y = F.silu(X)
    return y.clone()  # a seen operator, to launder it


def dispatch_key_off() -> torch.Tensor:
    with torch._C._DisableTorchDispatch():
        return F.silu(X)


def mode_popped_and_pushed_back() -> torch.Tensor:
    mode = torch._C._pop_torch_dispatch_stack(None)
    try:
        return F.silu(X)
    finally:
        torch._C._push_on_torch_dispatch_stack(mode)


def mode_popped_for_good() -> torch.Tensor:
    torch._C._pop_torch_dispatch_stack(None)
    return X * 2


@torch.library.custom_op("probing_test::silu", mutates_args=())
def _own_operator(x: torch.Tensor) -> torch.Tensor:
    return F.silu(x)


class Sneaky(torch.Tensor):
    """A wrapper tensor whose __torch_dispatch__ answers a multiplication with F.silu."""

    @staticmethod
    def __new__(cls, t: torch.Tensor) -> Sneaky:
        return torch.Tensor._make_wrapper_subclass(cls, t.shape, dtype=t.dtype, device=t.device)

    def __init__(self, t: torch.Tensor) -> None:
        self.t = t

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        args = tree_map(lambda a: a.t if isinstance(a, Sneaky) else a, args)
        return F.silu(args[0]) if func is torch.ops.aten.mul.Tensor else func(*args, **(kwargs or {}))


def in_a_thread(collect: bool = False) -> torch.Tensor:
    out = []
    worker = threading.Thread(target=lambda: out.append(F.silu(X.detach())))
    worker.start()
    worker.join()
    if collect:
        import gc

        gc.collect()  # the new tensor would look old
    return out[0] * 1


def record_function_off() -> torch.Tensor:
    torch.autograd._enable_record_function(False)
    try:
        with _disable_current_modes():
            y = F.silu(X)
    finally:
        torch.autograd._enable_record_function(True)
    return y + 0


def recorder_list_edited(edit: Callable[[list[str]], None]) -> torch.Tensor:
    y = F.silu(X)
    edit(_get_current_dispatch_mode().ops)
    return y


def profiler_stopped(restart: bool) -> torch.Tensor:
    torch.autograd._disable_profiler_legacy()
    with _disable_current_modes():
        y = F.silu(X)
    if restart:
        torch.autograd._enable_profiler_legacy(_CONFIG)
    return y


ATTACKS: dict[str, tuple[Callable[[], Any], str]] = {
    "_disable_current_modes": (modes_disabled, "out of the recorder's sight: aten::silu"),
    "_DisableTorchDispatch": (dispatch_key_off, "out of the recorder's sight: aten::silu"),
    "mode popped, pushed back": (mode_popped_and_pushed_back, "out of the recorder's sight: aten::silu"),
    "mode popped for good": (mode_popped_for_good, "taken off the mode stack"),
    "an operator of one's own": (lambda: _own_operator(X), "out of the recorder's sight: aten::silu"),
    "a tensor subclass": (lambda: Sneaky(X.detach()) * 1.0, "out of the recorder's sight: aten::silu"),
    "another thread": (in_a_thread, "no recorded operator produced"),
    "RecordFunction off, modes off": (record_function_off, "no recorded operator produced"),
    "another thread, then gc.collect": (lambda: in_a_thread(collect=True), "garbage collector was run"),
    "recorded op removed": (lambda: recorder_list_edited(list.clear), "1 went through"),
    "recorded op renamed": (lambda: recorder_list_edited(lambda ops: ops.__setitem__(0, "aten.mul")), "not run as recorded"),
    "profiler stopped": (lambda: profiler_stopped(restart=False), "the profiler was stopped"),
    "profiler restarted": (lambda: profiler_stopped(restart=True), "stopped and restarted"),
}


@pytest.mark.parametrize("name", ATTACKS)
def test_each_attack_is_caught(name: str) -> None:
    attack, evidence = ATTACKS[name]
    with pytest.raises(Tampered) as caught:
        aten_ops(attack)
    assert evidence in caught.value.detail
    assert "the measurement was interfered with" in caught.value.problem
    assert _get_current_dispatch_mode() is None  # whatever happened, nothing of the probe is left on the stack


def test_a_profiler_left_running_is_caught() -> None:
    torch.autograd._enable_profiler_legacy(_CONFIG)
    try:
        with pytest.raises(Tampered, match="already running"):
            aten_ops(lambda: X * 2)
    finally:
        torch.autograd._disable_profiler_legacy()


# -- saved tensors ------------------------------------------------------------------------------------


class SavesTwo(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        return g * (s + x * s * (1 - s))


def own_hooks() -> torch.Tensor:
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        return SavesTwo.apply(X)


def hooks_popped() -> torch.Tensor:
    hooks = torch._C._autograd._top_saved_tensors_default_hooks(False)
    torch._C._autograd._pop_saved_tensors_default_hooks()
    try:
        return SavesTwo.apply(X)
    finally:
        torch._C._autograd._push_saved_tensors_default_hooks(*hooks)


def hooks_popped_then_unreadable() -> torch.Tensor:
    """The hook sees nothing, and the saved tensors cannot be read back from the graph either: they are counted."""
    stash: list[torch.Tensor] = []

    class Stashes(SavesTwo):
        @staticmethod
        def forward(ctx, x):
            stash.append(torch.sigmoid(x))
            ctx.save_for_backward(x, stash[0])
            return x * stash[0]

    hooks = torch._C._autograd._top_saved_tensors_default_hooks(False)
    torch._C._autograd._pop_saved_tensors_default_hooks()
    try:
        y = Stashes.apply(X)
    finally:
        torch._C._autograd._push_saved_tensors_default_hooks(*hooks)
    stash[0].add_(0)  # in place after saving: ctx.saved_tensors now raises
    return y


def graph_in_a_thread() -> torch.Tensor:
    out = []
    worker = threading.Thread(target=lambda: out.append(SavesTwo.apply(X)))
    worker.start()
    worker.join()
    return out[0]


def changed_after_saving() -> torch.Tensor:
    x = X * 1  # saves the Python number 1, which autograd never shows to a pack hook
    y = SavesTwo.apply(x)
    with torch.no_grad():
        x.add_(0)
    return y


@pytest.mark.parametrize(
    "forward, count",
    [(lambda: Swish.apply(X, 1.0), 1), (lambda: X * torch.sigmoid(X), 3), (lambda: SavesTwo.apply(X), 2), (changed_after_saving, 2)],
    ids=["custom Function saving x", "built-in graph", "custom Function saving two", "changed in place after saving"],
)
def test_honest_saved_tensors_are_listed_as_before(forward: Callable[[], Any], count: int) -> None:
    _, saved = saved_tensors(forward, [X])
    assert len(saved) == count


@pytest.mark.parametrize(
    "forward",
    [own_hooks, hooks_popped, hooks_popped_then_unreadable, graph_in_a_thread],
    ids=["own hooks", "hooks popped", "hooks popped, unreadable", "thread"],
)
def test_saved_tensors_the_hook_did_not_see_are_caught(forward: Callable[[], Any]) -> None:
    with pytest.raises(Tampered, match="pack hook"):
        saved_tensors(forward, [X])


# -- the grader's own code ---------------------------------------------------------------------------


def test_the_sealed_grader_verifies_clean_and_only_measuring_drivers_check_it() -> None:
    seal.verify()
    assert hasattr(ex2_drivers.custom_function_facts, "__wrapped__") and hasattr(ex2_drivers.kept_for_backward, "__wrapped__")
    assert not hasattr(ex2_drivers.module_output, "__wrapped__")  # it measures nothing: its values are compared


@pytest.mark.parametrize(
    "target, name, value",
    [
        (ex2_drivers, "aten_ops", lambda fn: (fn(), [])),
        (OpRecorder, "__torch_dispatch__", lambda self, func, types, args=(), kwargs=None: func(*args, **(kwargs or {}))),
        (torch._tensor_str, "_tensor_str", lambda *args, **kwargs: ""),
        (seal, "verify", lambda: None),
    ],
    ids=["a driver's aten_ops", "the recorder's method", "torch's tensor printing", "the seal's verify"],
)
def test_a_rebound_name_is_caught(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, value: Any) -> None:
    monkeypatch.setattr(target, name, value)
    with pytest.raises(Tampered, match="rewritten"):
        ex2_drivers.kept_for_backward(_ModelAnswer(), X, 1.0)  # a measuring driver checks before it runs
    monkeypatch.undo()
    ex2_drivers.kept_for_backward(_ModelAnswer(), X, 1.0)


def test_rewritten_code_and_registry_entries_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aten_ops, "__code__", (lambda fn: (fn(), [])).__code__)
    with pytest.raises(Tampered, match="__code__"):
        seal.verify()
    monkeypatch.undo()
    key = driver_key(ex2_drivers.custom_function_facts)
    monkeypatch.setitem(DRIVERS, key, lambda *args: {})
    with pytest.raises(Tampered, match="DRIVERS"):
        seal.verify()
    monkeypatch.undo()
    seal.verify()


class _ModelAnswer:
    """The model answer as a driver's ``student``."""

    def __init__(self) -> None:
        namespace: dict[str, Any] = {}
        exec(compile((ROOT / "solutions" / "ex2_swish.py").read_text(encoding="utf-8"), "ex2_swish.py", "exec"), namespace)
        self.swish, self.Swish, self.SwishFunction = namespace["swish"], namespace["Swish"], namespace["SwishFunction"]


# -- in an isolated worker --------------------------------------------------------------------------

HOSTILE = ROOT / "tests" / "hostile" / "ex2_swish"
#: Student -> (the driver it is asked, what the failure says; None: no failure, the model answer's facts).
IN_A_WORKER = {
    "model answer": (ROOT / "solutions" / "ex2_swish.py", None),
    "silu_with_modes_disabled": (HOSTILE / "silu_with_modes_disabled.py", "out of the recorder's sight"),
    "silu_in_a_thread": (HOSTILE / "silu_in_a_thread.py", "where the call's tensors came from"),
    "silu_off_the_record": (HOSTILE / "silu_off_the_record.py", "not the ones that went through"),
    "patch_probes": (HOSTILE / "patch_probes.py", "the grader's own code"),
    "hide_saved_sigmoid": (HOSTILE / "hide_saved_sigmoid.py", "pack hook"),
}


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, IsolatedRunner]:
    """One runner per student above.

    Without TORCHINDUCTOR_CACHE_DIR: torch sets it in this process when an attack above
    imports inductor, the OS sandbox passes TORCH* variables on, and its fork server cannot
    write the folder it names (outside the sandbox's scratch space).
    """
    with pytest.MonkeyPatch.context() as environment:
        environment.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
        yield from _runners(tmp_path_factory)


def _runners(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, IsolatedRunner]]:
    runners = {}
    for name, (source, _) in IN_A_WORKER.items():
        folder = tmp_path_factory.mktemp(name)
        (folder / "ex2_swish.py").write_text(student_source(source) if source.is_relative_to(HOSTILE) else source.read_text(), encoding="utf-8")
        runners[name] = IsolatedRunner(folder, Limits(call_timeout_s=60))
    yield runners
    for runner in runners.values():
        runner.close()


@pytest.mark.parametrize("name", IN_A_WORKER)
def test_in_a_worker_the_same_detections(workers: dict[str, IsolatedRunner], name: str) -> None:
    student = workers[name].load(registry.find("ex2"))
    driver = ex2_drivers.kept_for_backward if name == "hide_saved_sigmoid" else ex2_drivers.custom_function_facts
    args = (X, 1.0) if driver is ex2_drivers.kept_for_backward else (X, 1.0, None)
    evidence = IN_A_WORKER[name][1]
    if evidence is None:
        assert student.run(ex2_drivers.custom_function_facts, X, 1.0, None)["silu_ops"] == []
        assert len(student.run(ex2_drivers.kept_for_backward, X, 1.0)["kept"]) == 1
        return
    with pytest.raises(Exception) as caught:
        student.run(driver, *args)
    assert "the measurement was interfered with" in str(caught.value) and evidence in str(caught.value)
    assert workers[name].violations(registry.find("ex2")) == []  # a failed check, not a forbidden action
