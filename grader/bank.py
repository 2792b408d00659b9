"""The recorded oracle bank: reference results kept by the content of their arguments.

A student release has no ``reference/``. Instead, ``python -m grader release`` grades the
model answers once with the reference present and keeps every oracle call's result
(see grader/oracle.py) in one file, ``grader/oracle_bank.pt``, under a key computed from
what the call was given. In the release, a check asks the bank instead of the reference.

Keys. A call is keyed by the oracle's name and a canonical form of its arguments:
numbers (floats exactly), strings, None, tuples, lists, dicts, dataclasses (by field),
dtypes, classes (by qualified name), and tensors by dtype, shape and values (the bytes
of a contiguous CPU copy; strides and ``requires_grad`` do not matter). Anything named
``device``, and any ``torch.device``, is left out, so an example drawn on the CPU and the
same example on a GPU share a key; a result comes back on the arguments' device.

The file is written with ``torch.save`` and read with ``torch.load(weights_only=True)``:
plain containers, numbers, strings and tensors, nothing that runs code. Tensors of one
dtype are packed as views of one storage, so thousands of small results cost one
record each instead of one file each inside the archive.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

#: Where a release keeps its bank, next to this module.
BANK_PATH = Path(__file__).resolve().parent / "oracle_bank.pt"

FORMAT = 1

#: What a key leaves out: names that say where a computation runs, not what it computes.
DEVICE_NAMES = frozenset({"device"})


class BankError(RuntimeError):
    """The bank cannot answer: it is missing, unreadable, or recorded for other versions."""


# -- keys ---------------------------------------------------------------------------------------


def key(name: str, arguments: Mapping[str, Any]) -> str:
    """The bank key of a call of the oracle ``name`` with ``arguments`` (parameter name or position -> value)."""
    digest = hashlib.blake2b(digest_size=16)
    _feed(digest, name)
    _feed(digest, {k: v for k, v in arguments.items() if k not in DEVICE_NAMES})
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    """Add ``value``'s canonical form to ``digest``; refuse what is not plain data."""
    if value is None:
        digest.update(b"N")
    elif isinstance(value, bool):
        digest.update(b"B1" if value else b"B0")
    elif isinstance(value, int):
        digest.update(b"I%d;" % value)
    elif isinstance(value, float):
        digest.update(b"F" + value.hex().encode() + b";")
    elif isinstance(value, str):
        raw = value.encode()
        digest.update(b"S%d:" % len(raw) + raw)
    elif isinstance(value, torch.device):
        digest.update(b"V")  # a device: where, not what
    elif isinstance(value, torch.dtype):
        digest.update(b"D" + str(value).encode() + b";")
    elif isinstance(value, torch.Tensor):
        _feed_tensor(digest, value)
    elif isinstance(value, (tuple, list)):
        digest.update(b"L%d:" % len(value) if isinstance(value, list) else b"T%d:" % len(value))
        for item in value:
            _feed(digest, item)
    elif isinstance(value, Mapping):
        digest.update(b"M%d:" % len(value))
        for k in sorted(value, key=str):
            _feed(digest, str(k))
            _feed(digest, value[k])
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.name not in DEVICE_NAMES}
        _feed(digest, f"dataclass {type(value).__qualname__}")
        _feed(digest, fields)
    elif isinstance(value, type):
        _feed(digest, f"class {value.__module__}.{value.__qualname__}")
    else:
        raise TypeError(f"an oracle argument must be plain data, not {type(value).__qualname__}: {value!r:.80}")


def _feed_tensor(digest: Any, t: torch.Tensor) -> None:
    t = t.detach().to("cpu").contiguous()
    digest.update(b"X" + str(t.dtype).encode() + repr(tuple(t.shape)).encode() + b":")
    if t.numel():
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())


# -- results ------------------------------------------------------------------------------------


def plain(value: Any, *, what: str) -> Any:
    """``value`` as plain data: tensors detached, tuples/lists/dicts rebuilt as such; anything else refused.

    ``what`` names the oracle call in the error.
    """
    if isinstance(value, torch.Tensor):
        return value.detach()
    if value is None or isinstance(value, (str, torch.dtype)):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):  # numpy's float64 too: a plain float
        return float(value)
    if isinstance(value, list):
        return [plain(v, what=what) for v in value]
    if isinstance(value, tuple):  # torch.Size and named tuples too: a plain tuple
        return tuple(plain(v, what=what) for v in value)
    if isinstance(value, Mapping):  # a state_dict (OrderedDict) becomes a dict, in order
        return {str(k): plain(v, what=what) for k, v in value.items()}
    raise TypeError(f"the oracle {what} must return plain data, not {type(value).__qualname__}")


def moved(value: Any, device: torch.device | None) -> Any:
    """A copy of ``value`` with every tensor on ``device`` (the CPU when None)."""
    if isinstance(value, torch.Tensor):
        return value.to(device or "cpu", copy=True)
    if isinstance(value, list):
        return [moved(v, device) for v in value]
    if isinstance(value, tuple):
        return tuple(moved(v, device) for v in value)
    if isinstance(value, dict):
        return {k: moved(v, device) for k, v in value.items()}
    return value


def device_of(arguments: Mapping[str, Any]) -> torch.device | None:
    """Where a call's result belongs: its ``device`` argument, else where its first tensor (or recipe) lives."""
    for name in DEVICE_NAMES:
        if arguments.get(name) is not None:
            return torch.device(arguments[name])
    for value in arguments.values():
        found = _find_device(value)
        if found is not None:
            return found
    return None


def _find_device(value: Any) -> torch.device | None:
    if isinstance(value, torch.Tensor):
        return value.device
    if isinstance(value, (tuple, list)):
        items = value
    elif isinstance(value, Mapping):
        items = list(value.values())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        where = getattr(value, "device", None)
        if where is not None:
            return torch.device(where)
        items = [getattr(value, f.name) for f in dataclasses.fields(value)]
    else:
        return None
    for item in items:
        found = _find_device(item)
        if found is not None:
            return found
    return None


# -- the file -----------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    """The versions a bank's examples depend on: hypothesis draws them, torch makes their tensors."""
    import hypothesis

    return {"torch": _release(torch.__version__), "hypothesis": hypothesis.__version__}


def _release(version: str) -> str:
    """``2.13.0+cpu`` -> ``2.13.0``: CPU and CUDA builds of one torch version draw the same tensors."""
    return version.split("+", 1)[0]


def save(
    path: Path,
    entries: dict[str, Any],
    cases: Mapping[str, Iterable[str]],
    profile: dict[str, Any],
    devices: Iterable[str] = ("cpu",),
) -> None:
    """Write a bank: ``entries`` (key -> result), the ``cases`` each check recorded, how they were
    drawn (``profile``), and the device types the results were computed on."""
    bank = {
        "format": FORMAT,
        "versions": versions(),
        "profile": profile,
        "devices": sorted(set(devices)),
        "cases": {check: sorted(found) for check, found in sorted(cases.items())},
        "entries": _packed(entries),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(bank, path)


def _packed(entries: dict[str, Any]) -> dict[str, Any]:
    """``entries`` with every tensor replaced by a view of one flat storage per dtype."""
    tensors: list[torch.Tensor] = []

    def collect(value: Any) -> None:
        if isinstance(value, torch.Tensor):
            tensors.append(value)
        elif isinstance(value, (tuple, list)):
            for v in value:
                collect(v)
        elif isinstance(value, dict):
            for v in value.values():
                collect(v)

    for result in entries.values():
        collect(result)
    flats: dict[torch.dtype, torch.Tensor] = {}
    offsets: dict[int, tuple[torch.dtype, int]] = {}
    by_dtype: dict[torch.dtype, list[torch.Tensor]] = {}
    for t in tensors:
        by_dtype.setdefault(t.dtype, []).append(t)
    for dtype, group in by_dtype.items():
        position = 0
        for t in group:
            offsets[id(t)] = (dtype, position)
            position += t.numel()
        flats[dtype] = torch.cat([t.detach().to("cpu").reshape(-1) for t in group])

    def view(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            dtype, start = offsets[id(value)]
            return flats[dtype][start : start + value.numel()].view(value.shape)
        if isinstance(value, list):
            return [view(v) for v in value]
        if isinstance(value, tuple):
            return tuple(view(v) for v in value)
        if isinstance(value, dict):
            return {k: view(v) for k, v in value.items()}
        return value

    return {k: view(result) for k, result in entries.items()}


class Bank:
    """A bank read from its file: results by key, and which cases of which checks it recorded."""

    def __init__(self, path: Path = BANK_PATH) -> None:
        if not path.is_file():
            raise BankError(
                f"記録された参照結果 {path} がありません / the recorded reference results {path} are missing"
            )
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - a damaged or foreign file
            raise BankError(f"{path} を読めません / cannot read {path}: {err}") from None
        if data.get("format") != FORMAT:
            raise BankError(f"{path} の形式が違います / {path} has an unknown format {data.get('format')!r}")
        self.path = path
        self.versions: dict[str, str] = data["versions"]
        self.profile: dict[str, Any] = data["profile"]
        self.cases: dict[str, list[str]] = data["cases"]
        self.devices: list[str] = data["devices"]
        self.entries: dict[str, Any] = data["entries"]

    def mismatch(self) -> str | None:
        """Why this environment cannot replay the bank (other torch or hypothesis versions), or None."""
        here = versions()
        wrong = [f"{name} {here[name]} (recorded with {want})" for name, want in self.versions.items() if here.get(name) != want]
        if not wrong:
            return None
        pins = " ".join(f"{name}=={want}" for name, want in self.versions.items())
        return (
            f"この環境の {', '.join(wrong)} では記録された例を再現できません。README のとおり {pins} を入れてください / "
            f"this environment has {', '.join(wrong)}: the recorded examples only replay with {pins} (see README)"
        )

    def covers(self, check: str, case: str | None) -> bool:
        """Whether the bank holds results for ``check`` in ``case`` (a CUDA case counts as its CPU twin)."""
        recorded = self.cases.get(check)
        if recorded is None:
            return False
        return case is None or _cpu_twin(case) in recorded


def _cpu_twin(case: str) -> str:
    """``cuda-float32`` -> ``cpu-float32``, ``cuda`` -> ``cpu``: the same examples, drawn on the CPU."""
    return re.sub(r"^cuda(:\d+)?", "cpu", case)
